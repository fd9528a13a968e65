"""The content's types: what one language's content file holds, as frozen dataclasses.

Plain data and the small questions asked of it (a question's answer values, the risk an answer
means, how an answer reads back). The parser (content_parser.py) builds them from the TOML;
the catalog (catalog.py) holds them. Imports nothing of ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the model's type only: training needs scikit-learn, loading content does not
    from messages.screen_model import ScreenModel

RISK_MEANINGS = ("none", "watch", "high", "lapse", "crisis")
STAGES = ("emotional", "mental", "physical", "safety")  # safety: the suicide screen
CORE_DAILY = ("mood", "craving", "use")
DAILY_KINDS = ("core", "rotating", "medication", "none")
MEETING_ANSWERS = ("yes", "no", "skipped")  # the risk rules read these values


class ContentError(ValueError):
    """The content file is missing something or contradicts itself."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    typed: tuple[str, ...]
    risk: str


@dataclass(frozen=True)
class Question:
    key: str
    stage: str
    daily: Literal["core", "rotating", "medication", "none"]
    kind: Literal["scale", "choice"]
    prompt: str
    summary_label: str
    legend: str = ""
    min: int = 0
    max: int = 0
    labels: dict[int, str] = field(default_factory=dict)
    scale_risk: dict[int, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    in_summary: bool = True
    # (answers that trigger, questions asked next), e.g. a low mood -> the safety question
    follow_ups: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = ()

    def follow_ups_for(self, value: str) -> tuple[str, ...]:
        asked: list[str] = []
        for when, ask in self.follow_ups:
            if value in when:
                asked.extend(ask)
        return tuple(asked)

    def values(self) -> list[str]:
        if self.kind == "scale":
            return [str(n) for n in range(self.min, self.max + 1)]
        return [o.value for o in self.options]

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def risk_of(self, value: str) -> str:
        if self.kind == "scale":
            return self.scale_risk.get(int(value), "none")
        option = self.option(value)
        return option.risk if option else "none"

    def answer_label(self, value: str) -> str:
        """How an answer reads back to a person: '4 (good)', 'Rather not say'."""
        if self.kind == "scale":
            word = self.labels.get(int(value))
            scale = f"{value}/{self.max}"
            return f"{scale} ({word})" if word else scale
        option = self.option(value)
        return option.label if option else value


@dataclass(frozen=True)
class CopingPrompt:
    key: str
    stages: tuple[str, ...]
    triggers: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ScreenCategory:
    name: str
    response: str  # crisis | lapse | craving
    patterns: tuple[re.Pattern[str], ...]  # explicit phrases: the floor, they always fire
    hints: tuple[re.Pattern[str], ...] = ()  # broad words: named, and they lower the bar to ask
    # Every pattern and hint in one alternation: a clause it does not match, none of them match,
    # so the screen tries them one by one only where it does (None: try them everywhere).
    any: re.Pattern[str] | None = None


@dataclass(frozen=True)
class ScreenThresholds:
    """Model scores at or above which the screen responds (content: [screen_thresholds])."""

    crisis: float
    ask: float  # a crisis score this high, below `crisis`, gets the direct question
    lapse: float
    craving: float
    hinted: float = 1.0  # the ask threshold when a broad word of danger (a hint) is in the text
    negated: float = 1.0  # the bar when the lexicon found the category's words negated
    model_min_words: int = 1  # shorter messages are the lexicon's alone
    # Shorter messages than this (words with letters): the model alone may ask, never give the
    # crisis response, and its lapse and craving bars are at least `short`.
    model_short_words: int = 1
    short: float = 1.0


@dataclass(frozen=True)
class ScreenRules:
    idioms: tuple[str, ...]
    negations: frozenset[str]
    fillers: frozenset[str]
    categories: tuple[ScreenCategory, ...]
    thresholds: ScreenThresholds = ScreenThresholds(1.0, 1.0, 1.0, 1.0)
    languages: dict[str, frozenset[str]] = field(default_factory=dict)  # marker words by language
    # A clause this matches tells of years ago, or of a question asked: its phrases are set aside.
    stories: re.Pattern[str] | None = None
    # The learned model, trained from the corpus the first time it is needed (None: lexicon only).
    model: Callable[[], ScreenModel] | None = None

    def trained_model(self) -> ScreenModel:
        """The learned model, trained now if it was not yet; the content always has one."""
        if self.model is None:
            raise ContentError("this screen has no learned model (lexicon only)")
        return self.model()


@dataclass(frozen=True)
class RiskThresholds:
    low_mood_at_most: int
    low_mood_days: int
    craving_rise_points: int
    craving_rise_checkins: int
    missed_watch: int
    missed_high: int
    meeting_skips_watch: int
    meeting_gap_days: int
    skipped_medication_days: int


@dataclass(frozen=True)
class MeetingAnswer:
    value: str  # yes | no | skipped
    label: str
    typed: tuple[str, ...]
    reply: str


@dataclass(frozen=True)
class MeetingContent:
    answers: tuple[MeetingAnswer, ...]
    leads: tuple[tuple[int, str], ...]  # (minutes before, label)
    default_lead: int
    morning_before: time
    evening_from: time
    max_meetings: int
    filter_types: tuple[str, ...]
    types: dict[str, str]  # Meeting Guide code -> label

    def answer(self, value: str) -> MeetingAnswer | None:
        return next((a for a in self.answers if a.value == value), None)

    def lead_label(self, minutes: int) -> str:
        return dict(self.leads).get(minutes, f"{minutes} min")


@dataclass(frozen=True)
class MedicationOption:
    """A medication offered in /medication."""

    key: str  # also what a counselor types
    button: str
    name: str  # as sentences say it ("your methadone")
    kind: Literal["daily", "injection"]
    interval_days: int | None = None  # injections: the usual days from one to the next


@dataclass(frozen=True)
class MedicationRules:
    adherence_question: str
    skipped_answer: str
    stopped_answer: str
    injection_reminder_time: time
    injection_reminder_days_before: tuple[int, ...]


@dataclass(frozen=True)
class Dates:
    """How one language writes weekdays, months and moments (Monday is 0, January is 1)."""

    weekdays: tuple[str, ...]
    weekdays_short: tuple[str, ...]
    weekdays_every: tuple[str, ...]  # the weekday as something that repeats: "Mondays"
    months: tuple[str, ...]
    months_short: tuple[str, ...]
    formats: dict[str, str]  # today, tomorrow, later, moment, date, stamp
    one_day: str
    many_days: str
    and_word: str  # the last join of a list: "08:00 and 20:00"
