"""The content catalog: messages/content/<locale>.toml loaded into typed, validated data.

A broken content file must stop the bot at start-up with a message that says what is wrong,
never half-work in front of a participant.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from messages import screen_corpus, screen_model
from messages.answers import parse_clock_time, parse_quiet_hours
from messages.html import check_html

CONTENT_DIR = Path(__file__).resolve().parent / "content"
DEFAULT_LOCALE = "en"  # the fallback for anyone whose language has no content file
RISK_MEANINGS = ("none", "watch", "high", "lapse", "crisis")
STAGES = ("emotional", "mental", "physical", "safety")  # safety: the suicide screen
CORE_DAILY = ("mood", "craving", "use")
# Sections that are the same in every language: a translation leaves them out and reads
# en.toml's. The free-text screen is language-independent (it reads any language's words).
SHARED_SECTIONS = ("screen_rules", "screen_categories", "screen_thresholds", "screen_languages",
                   "risk", "checkins", "medication_rules", "meeting_options")  # fmt: skip


def _plain(keys: str) -> dict[str, set[str]]:
    """Texts with no placeholders, named in one space-separated string."""
    return {key: set() for key in keys.split()}


# Every text the code asks for, by section, with the placeholders it fills in.
REQUIRED_TEXTS: dict[str, dict[str, set[str]]] = {
    "consent": {"text": {"name"}, "agree": set(), "decline": set(), "declined": set()},
    "enrollment": {
        "ask_timezone": set(),
        "timezone_invalid": {"text"},
        "ask_time": {"timezone"},
        "time_invalid": {"text"},
        "ask_weekly": {"time"},
        "weekly_invalid": {"text"},
        "consent_needed": set(),
        "done": {"name", "time", "timezone", "first", "weekday"},
    },
    "invites": {
        "invalid": set(),
        "counselor_welcome": {"name"},
        "counselor_already": {"name"},
        "participant_already": {"name"},
        "counselor_cannot_enroll": set(),
        "participant_cannot_be_counselor": set(),
        "created": {"for_label", "expires", "link"},
        "for_label": {"label"},
    },
    "general": {
        "tap_or_type": {"options"},
        "yes_words": set(),
        "no_words": set(),
        "not_enrolled": set(),
        "unknown_command": set(),
        "media_not_read": set(),
        "note_saved": set(),
        "error": set(),
        "not_for_you": set(),
        "edit_not_read": set(),
        "expired_button": set(),
        "participant_help": {"time", "timezone"},
        "enrolling_help": set(),
        "counselor_help": set(),
    },
    "commands": {
        "checkin": set(),
        "coping": set(),
        "sos": set(),
        "help": set(),
        "plan": set(),
        "meetings": set(),
        "medication": set(),
    },
    "crisis": {
        "resources": set(), "alerted": set(), "no_counselor": set(), "help_button": set(),
        "spanish": set(),
    },
    "lapse": {"support": {"days"}, "overdose": set()},
    "craving": {"intro": set(), "another": set(), "help_now": set()},
    "coping": {"intro": set(), "none_left": set()},
    "screen": {
        "acknowledged": set(), "ask": set(), "ask_safe": set(), "ask_help": set(),
        "ask_counselor": set(), "ask_safe_words": set(), "ask_help_words": set(),
        "ask_counselor_words": set(), "safe_reply": set(), "counselor_reply": set(),
        "ask_closed": set(),
    },
    "milestones": {"text": {"milestone"}},
    "contact": {
        "version": set(),
        "purpose": set(),
        "ttl_days": set(),
        "explain": {"name"},
        "button_high": set(),
        "button_crisis": set(),
        "button_no": set(),
        "link": {"expires", "link"},
        "not_now": set(),
        "status": {"contact", "levels"},
        "pending": set(),
        "removed": set(),
        "removed_none": set(),
        "levels_high": set(),
        "levels_crisis": set(),
        "offer": {"contact", "name"},
        "accept": set(),
        "decline": set(),
        "accepted_contact": {"name"},
        "accepted_participant": {"contact", "levels"},
        "declined_contact": {"name"},
        "declined_participant": {"contact"},
        "message": {"name"},
        "stopped_contact": {"name"},
        "stopped_participant": {"contact"},
        "stop_none": set(),
        "contact_help": set(),
    },
    "caseload": {
        "header": {"count"},
        "header_admin": {"count"},
        "line": {"id", "name", "status", "last", "days", "mood", "craving"},
        "never": set(),
        "none": set(),
        "status_active": set(),
        "status_paused": set(),
        "status_unreachable": set(),
        "status_enrolling": set(),
        "status_discharged": set(),
    },
    "history": {
        "usage": set(),
        "not_found": {"text"},
        "choose": set(),
        "ambiguous": {"text"},
        "caption": {"name", "checked", "missed", "lapses", "mood", "craving", "alerts"},
    },
    "reasons": {
        "answer": {"label", "answer"},
        "change": {"label", "answer", "direction", "previous", "day"},
        "up": set(),
        "down": set(),
        "craving_rise": {"count", "series"},
        "low_mood_run": {"most", "days"},
        "missed": {"count"},
        "wrote": {"topics", "excerpt"},
        "ask_counselor": {"excerpt"},
        "ask_help": {"excerpt"},
        "ask_unanswered": {"minutes", "why", "excerpt"},
        "sos": set(),
        "meeting_skips": {"name", "count"},
        "meeting_gap": {"days"},
        "medication_skipped": {"days"},
        "medication_stopped": {"medication"},
        "medication_unnamed": set(),
    },
    "alerts": {
        "counselor": {"level", "name", "reasons", "trend"},
        "level_crisis": set(),
        "level_high": set(),
        "level_watch": set(),
        "escalated": {"minutes"},
        "acknowledge": set(),
        "resolve": set(),
        "history": set(),
        "acknowledged": {"name"},
        "already_acknowledged": set(),
        "resolved_by": {"name"},
        "open_dashboard": {"url"},
        "resolve_prompt": {"name"},
        "resolved": set(),
        "already_resolved": set(),
        "not_yours": set(),
        "flags_none": set(),
        "flags_header": {"count"},
        "trend_none": set(),
        "trend": {"mood", "craving"},
        "history_text": {"name", "trend", "reasons"},
        "unreachable": set(),
        "reachable_again": {"name"},
        "language_note": {"language"},
        "outside_hours": {"when"},
        "team_alert": {"level", "number", "caseload"},
        "team_escalated": {"level", "number", "caseload", "minutes"},
        "team_caseload": {"counselor"},
        "team_unassigned": set(),
    },
    "dashboard": {"link": {"minutes", "url"}, "off": set(), "logged_out": {"count"},
                  "usage": set()},
    "settings": {
        "menu": {"time", "timezone", "weekday", "quiet", "language"},
        "button_time": set(),
        "button_timezone": set(),
        "button_weekly": set(),
        "button_quiet": set(),
        "button_language": set(),
        "quiet_none": set(),
        "quiet_range": {"start", "end"},
        "ask_time": {"timezone"},
        "ask_timezone": set(),
        "ask_weekly": set(),
        "ask_quiet": set(),
        "quiet_off": set(),
        "quiet_invalid": {"text"},
        "ask_language": set(),
        "language_invalid": set(),
        "saved_time": {"time", "timezone", "next"},
        "saved_timezone": {"timezone", "time", "next"},
        "saved_weekly": {"weekday"},
        "saved_quiet": {"start", "end", "next"},
        "quiet_moves_checkin": {"time", "end"},
        "quiet_cleared": {"next"},
        "saved_language": {"language"},
        "paused_note": {"until"},
    },
    "pause": {
        "paused": {"until", "next"},
        "invalid": {"text", "max", "default"},
        "resumed": {"next"},
        "not_paused": {"next"},
        "paused_help": {"until"},
        "counselor_paused": {"name", "number", "until"},
        "counselor_resumed": {"name", "number"},
    },
    "discharge": {
        "usage": set(),
        "confirm": {"name", "number"},
        "button_confirm": set(),
        "button_cancel": set(),
        "done": {"name"},
        "cancelled": set(),
        "already": {"name"},
        "goodbye": {"name"},
        "ended": set(),
    },
    "privacy": {
        **_plain(
            "export_explanation delete_explain delete_button keep_button delete_confirm"
            " confirm_button deleted kept stale contact_left gone"
        ),
        "export_caption": {"name"},
        "counselor_left": {"number"},
        "counselor_left_alerts": {"count"},
    },
    "meetings": {
        "list_header": set(),
        "list_line": {"when", "name", "lead"},
        "list_none": set(),
        "list_add": set(),
        "button_program": set(),
        "button_own": set(),
        "button_manage": {"name"},
        "limit_reached": {"count"},
        "program_empty": set(),
        "ask_day": set(),
        "any_day": set(),
        "ask_part": set(),
        "morning": set(),
        "afternoon": set(),
        "evening": set(),
        "any_time": set(),
        "ask_where": set(),
        "in_person": set(),
        "online": set(),
        "either": set(),
        "ask_kind": set(),
        "any_kind": set(),
        "results": {"count"},
        "results_more": {"count", "shown"},
        "results_none": set(),
        "result_button": {"day", "time", "name"},
        "result_online_button": {"day", "time", "name"},
        "start_over": set(),
        "already_added": set(),
        "added": set(),
        "when": {"day", "start", "end"},
        "zone_note": {"when", "zone"},
        "place_line": {"place"},
        "link_line": {"link"},
        "phone_line": {"phone"},
        "types_line": {"types"},
        "reminder_line": {"lead"},
        "ask_lead": set(),
        "lead_set": {"lead"},
        "remove": set(),
        "removed": {"name"},
        "cancel": set(),
        "cancelled": set(),
        "own_name": set(),
        "own_name_invalid": {"max"},
        "own_day": {"name"},
        "own_day_invalid": {"text"},
        "own_time": set(),
        "own_time_invalid": {"text"},
        "own_place": set(),
        "own_place_invalid": {"max"},
        "skip": set(),
        "reminder": {"name", "when"},
        "reminder_close": set(),
        "follow_up": {"name"},
        "answered": {"name", "answer"},
        "already_answered": set(),
    },
    "checkin": {
        "note_saved_open": set(),
        "intro_daily": {"name"},
        "intro_on_demand": {"name"},
        "intro_weekly": {"name"},
        "progress": {"n", "total"},
        "scale_hint": {"min", "max"},
        "choice_hint": {"options"},
        "media_hint": {"hint"},
        "answered": {"prompt", "answer"},
        "already_answered": set(),
        "closed": set(),
        "resumed": set(),
        "note_saved_during": set(),
        "done": {"name", "summary"},
        "summary_line": {"label", "answer"},
        "days": {"days", "checked", "checked_days"},
        "safety_summary": set(),
        "support": set(),
    },
    "plan": {
        **_plain(
            "intro start not_now not_now_reply done_button skip_button ask_people ask_steps"
            " ask_reasons ask_share share_yes share_no saved empty header hard_moment people steps"
            " reasons shared_note private_note edit_people edit_steps edit_reasons share_on"
            " share_off shared unshared offer offer_button"
        ),
        "person_added": {"name", "contact"},
        "person_invalid": {"text"},
        "step_added": {"step"},
        "too_long": {"limit"},
        "person": {"name", "contact"},
        "step": {"step"},
        "counselor": {"name", "plan"},
    },
    "medication": {
        **_plain(
            "dose_typed_question ask_which other_button none_button none_reply ask_other"
            " name_invalid when_injection"
            " remind_yes remind_no reminders_on reminders_off list_header add_button taken not_yet"
            " skipped answered_not_yet answered_skipped dose_closed problem_medication"
            " problem_times problem_date"
        ),
        "ask_times": {"medication"},
        "times_invalid": {"text"},
        "ask_date": {"medication", "example"},
        "date_invalid": {"text", "example"},
        "ask_reminder": {"when"},
        "when_daily": {"times"},
        "saved_daily": {"medication", "times", "reminders"},
        "saved_injection": {"medication", "date", "reminders"},
        "list_daily": {"medication", "times", "reminders"},
        "list_injection": {"medication", "date", "reminders"},
        "button_change": {"medication"},
        "button_change_date": {"medication"},
        "button_reminders_off": {"medication"},
        "button_reminders_on": {"medication"},
        "button_stopped": {"medication"},
        "reminders_turned_off": {"medication"},
        "reminders_turned_on": {"medication"},
        "reminder_daily": {"time", "medication"},
        "answered_taken": {"medication"},
        "reminder_injection_before": {"medication", "date"},
        "reminder_injection_today": {"medication", "date", "next"},
        "stopped_note": {"medication"},
        "counselor_usage": {"keys"},
        "counselor_invalid": {"problem"},
        "counselor_saved": {"name", "summary"},
        "counselor_told": {"summary"},
        "summary_daily": {"medication", "times", "reminders"},
        "summary_injection": {"medication", "date", "reminders"},
    },
}
# Limits on what a participant puts in their plan (and on the suggestions' button labels).
PLAN_SUGGESTION_MAX = 60
DAILY_KINDS = ("core", "rotating", "medication", "none")


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


# A backreference (\1, (?P=name)) counts groups, which an alternation renumbers.
_BACKREFERENCE = re.compile(r"(?<!\\)(\\\\)*\\[1-9]|\(\?P=")


def alternation(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One pattern that matches where any of `patterns` does; None if they cannot be joined."""
    if not patterns or any(_BACKREFERENCE.search(p.pattern) or p.flags & ~re.UNICODE
                           for p in patterns):  # fmt: skip
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
    except re.error:  # a global flag such as (?i) inside one of them
        return None


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


@dataclass(frozen=True)
class ScreenRules:
    idioms: tuple[str, ...]
    negations: frozenset[str]
    fillers: frozenset[str]
    categories: tuple[ScreenCategory, ...]
    thresholds: ScreenThresholds = ScreenThresholds(1.0, 1.0, 1.0, 1.0)
    languages: dict[str, frozenset[str]] = field(default_factory=dict)  # marker words by language
    # The learned model, trained from the corpus the first time it is needed (None: lexicon only).
    model: Callable[[], Any] | None = None


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


MEETING_ANSWERS = ("yes", "no", "skipped")  # the risk rules read these values
_TYPE_CODE = re.compile(r"[A-Z0-9]{1,10}")


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


DATE_PARTS = frozenset({"weekday", "weekday_short", "day", "month", "month_short", "year",
                        "time", "zone"})  # fmt: skip
_DATE_LISTS = {"weekdays": 7, "weekdays_short": 7, "weekdays_every": 7, "months": 12,
               "months_short": 12}  # fmt: skip
_DATE_FORMATS = ("today", "tomorrow", "later", "moment", "date", "stamp")


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


def _parse_dates(data: dict[str, Any]) -> Dates:
    raw = _require(data, "dates", "content")
    lists = {}
    for key, size in _DATE_LISTS.items():
        words = tuple(str(w).strip() for w in _require(raw, key, "[dates]"))
        if len(words) != size or not all(words):
            raise ContentError(f"[dates].{key}: exactly {size} words")
        lists[key] = words
    formats = {}
    for key in _DATE_FORMATS:
        template = str(_require(raw, key, "[dates]"))
        if unknown := _placeholders(template) - DATE_PARTS:
            raise ContentError(f"[dates].{key}: unknown placeholders {sorted(unknown)}")
        formats[key] = template
    for key in ("today", "tomorrow", "later", "moment", "stamp"):
        if "time" not in _placeholders(formats[key]):
            raise ContentError(f"[dates].{key}: must show the {{time}}")
    words = {key: str(_require(raw, key, "[dates]")) for key in ("one_day", "many_days", "and")}
    return Dates(**lists, formats=formats, one_day=words["one_day"],
                 many_days=words["many_days"], and_word=words["and"])  # fmt: skip


@dataclass(frozen=True)
class Catalog:
    locale: str
    language_name: str  # how /settings offers this language, in its own words
    version: str
    consent_version: str
    texts: dict[str, dict[str, str]]
    questions: dict[str, Question]
    timezones: tuple[tuple[str, str], ...]  # (zone, label)
    time_buttons: tuple[str, ...]
    quiet_buttons: tuple[str, ...]  # "22:00-07:00"
    quiet_off_words: frozenset[str]  # typed words (casefolded) that mean "no quiet hours"
    rotating_per_day: int
    weekly: tuple[str, ...]
    thresholds: RiskThresholds
    coping_prompts: tuple[CopingPrompt, ...]
    screen: ScreenRules
    milestones: dict[int, str]  # day number -> words
    meetings: MeetingContent
    plan_first_steps: tuple[str, ...] = ()
    medications: tuple[MedicationOption, ...] = ()
    medication_rules: MedicationRules | None = None
    dates: Dates | None = None
    # Every language loaded with this one, so code that holds the program's catalog can speak
    # to a participant or contact in theirs (set by load_catalogs).
    family: Catalogs | None = field(default=None, compare=False, repr=False)

    def in_language(self, locale: str | None) -> Catalog:
        """This content in `locale` when it was loaded with it; itself otherwise."""
        return self.family.get(locale) if self.family is not None else self

    def text(self, section: str, key: str) -> str:
        return self.texts[section][key]

    def medication(self, key: str) -> MedicationOption | None:
        return next((m for m in self.medications if m.key == key), None)

    def medication_questions(self) -> list[str]:
        """Asked daily, after the core, only of participants on a daily medication."""
        return [k for k, q in self.questions.items() if q.daily == "medication"]

    def core_questions(self) -> list[str]:
        return [k for k, q in self.questions.items() if q.daily == "core"]

    def rotating_questions(self) -> list[str]:
        return [k for k, q in self.questions.items() if q.daily == "rotating"]


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ContentError(f"{where}: missing '{key}'")
    return data[key]


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _parse_question(raw: dict[str, Any], index: int) -> Question:
    where = f"questions[{index}]"
    key = _require(raw, "key", where)
    where = f"question '{key}'"
    stage = _require(raw, "stage", where)
    if stage not in STAGES:
        raise ContentError(f"{where}: stage must be one of {STAGES}, not {stage!r}")
    kind = _require(raw, "kind", where)
    daily = raw.get("daily", "none")
    if daily not in DAILY_KINDS:
        raise ContentError(f"{where}: daily must be one of {DAILY_KINDS}")
    follow_ups = tuple(
        (frozenset(str(v) for v in _require(f, "when", where)), tuple(_require(f, "ask", where)))
        for f in raw.get("follow_ups", [])
    )
    common = dict(
        key=key,
        in_summary=bool(raw.get("in_summary", True)),
        follow_ups=follow_ups,
        stage=stage,
        daily=daily,
        kind=kind,
        prompt=_require(raw, "prompt", where),
        summary_label=_require(raw, "summary_label", where),
        legend=raw.get("legend", ""),
    )
    if kind == "scale":
        low, high = int(_require(raw, "min", where)), int(_require(raw, "max", where))
        if not low < high or high - low > 10:
            raise ContentError(f"{where}: a scale needs min < max and at most 11 points")
        labels = {int(k): str(v) for k, v in raw.get("labels", {}).items()}
        risk = {int(k): str(v) for k, v in raw.get("risk", {}).items()}
        for n in [*labels, *risk]:
            if not low <= n <= high:
                raise ContentError(f"{where}: {n} is outside the scale {low}-{high}")
        for meaning in risk.values():
            if meaning not in RISK_MEANINGS:
                raise ContentError(f"{where}: unknown risk meaning {meaning!r}")
        return Question(**common, min=low, max=high, labels=labels, scale_risk=risk)
    if kind == "choice":
        options = []
        for raw_option in _require(raw, "options", where):
            value = _require(raw_option, "value", where)
            risk = _require(raw_option, "risk", f"{where} option '{value}'")
            if risk not in RISK_MEANINGS:
                raise ContentError(f"{where} option '{value}': unknown risk meaning {risk!r}")
            if not value.replace("_", "").isalnum() or len(value) > 16:
                raise ContentError(f"{where} option '{value}': values are short [a-z0-9_] words")
            typed = tuple(t.casefold() for t in raw_option.get("typed", []))
            options.append(Option(value, _require(raw_option, "label", where), typed, risk))
        if len(options) < 2 or len({o.value for o in options}) != len(options):
            raise ContentError(f"{where}: a choice needs two or more distinct options")
        return Question(**common, options=tuple(options))
    raise ContentError(f"{where}: kind must be scale or choice, not {kind!r}")


def parse_catalog(data: dict[str, Any]) -> Catalog:
    texts: dict[str, dict[str, str]] = {}
    for section, keys in REQUIRED_TEXTS.items():
        raw_section = _require(data, section, "content")
        texts[section] = {}
        for key, expected in keys.items():
            template = _require(raw_section, key, f"[{section}]")
            found = _placeholders(template)
            if found != expected:
                raise ContentError(
                    f"[{section}].{key}: placeholders {sorted(found)} should be {sorted(expected)}"
                )
            problem = check_html(template.replace("{", "").replace("}", ""))
            if problem:
                raise ContentError(f"[{section}].{key}: {problem}")
            texts[section][key] = template.strip("\n")

    questions: dict[str, Question] = {}
    for index, raw in enumerate(_require(data, "questions", "content")):
        question = _parse_question(raw, index)
        if question.key in questions:
            raise ContentError(f"question '{question.key}' is defined twice")
        questions[question.key] = question
    for key in CORE_DAILY:
        if key not in questions or questions[key].daily != "core":
            raise ContentError(f"the daily core needs a question '{key}' marked daily = \"core\"")
    if not any(q.daily == "rotating" for q in questions.values()):
        raise ContentError('at least one question must be marked daily = "rotating"')

    zones = []
    for raw in _require(data, "timezones", "content"):
        zone = _require(raw, "zone", "[[timezones]]")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ContentError(f"[[timezones]]: unknown zone {zone!r}") from exc
        zones.append((zone, _require(raw, "label", "[[timezones]]")))
    schedule = _require(data, "schedule", "content")
    times = tuple(_require(schedule, "time_buttons", "[schedule]"))
    for value in times:
        if parse_clock_time(value) is None:
            raise ContentError(f"[schedule].time_buttons: {value!r} is not HH:MM")
    quiet = tuple(_require(schedule, "quiet_buttons", "[schedule]"))
    for value in quiet:
        if parse_quiet_hours(value) is None:
            raise ContentError(f"[schedule].quiet_buttons: {value!r} is not HH:MM-HH:MM")
    off_words = [str(w).casefold() for w in _require(schedule, "quiet_off_words", "[schedule]")]
    quiet_off = frozenset([*off_words, texts["settings"]["quiet_off"].casefold()])

    for question in questions.values():
        for when, ask in question.follow_ups:
            unknown = [k for k in ask if k not in questions]
            if unknown or not when <= set(question.values()):
                raise ContentError(f"question '{question.key}': follow_ups name unknown {unknown}")

    composition = _require(data, "checkins", "content")
    weekly = tuple(_require(composition, "weekly", "[checkins]"))
    if unknown := [k for k in weekly if k not in questions]:
        raise ContentError(f"[checkins].weekly names unknown questions {unknown}")
    rotating_per_day = int(_require(composition, "rotating_per_day", "[checkins]"))
    if not 1 <= rotating_per_day <= 2:
        raise ContentError("[checkins].rotating_per_day must be 1 or 2")

    raw_risk = _require(data, "risk", "content")
    thresholds = RiskThresholds(
        **{f: int(_require(raw_risk, f, "[risk]")) for f in RiskThresholds.__dataclass_fields__}
    )

    prompts = []
    for raw in _require(data, "coping_prompts", "content"):
        where = f"coping prompt '{raw.get('key')}'"
        text = _require(raw, "text", where).strip()
        if problem := check_html(text):
            raise ContentError(f"{where}: {problem}")
        prompts.append(
            CopingPrompt(
                _require(raw, "key", where),
                tuple(_require(raw, "stages", where)),
                tuple(_require(raw, "triggers", where)),
                text,
            )
        )
    if len(prompts) < 2:
        raise ContentError("at least two coping prompts are needed (never the same twice)")

    milestones = {}
    for key, words in _require(data, "milestones", "content").items():
        if key != "text":
            if not key.isdigit():
                raise ContentError(f"[milestones]: {key!r} is not a day number")
            milestones[int(key)] = str(words)

    catalog = _build(data, texts, questions, zones, times, quiet, quiet_off, rotating_per_day,
                     weekly, thresholds, tuple(prompts), _parse_screen(data), milestones,
                     _parse_meetings(data))  # fmt: skip
    return replace(
        catalog,
        plan_first_steps=_parse_plan_suggestions(data),
        medications=_parse_medications(data),
        medication_rules=_parse_medication_rules(data, questions),
        dates=_parse_dates(data),
    )


def _parse_meetings(data: dict[str, Any]) -> MeetingContent:
    answers = []
    for raw in _require(data, "meeting_answers", "content"):
        value = _require(raw, "value", "[[meeting_answers]]")
        where = f"meeting answer '{value}'"
        reply = _require(raw, "reply", where).strip()
        if problem := check_html(reply):
            raise ContentError(f"{where}: {problem}")
        typed = tuple(t.casefold() for t in raw.get("typed", []))
        answers.append(MeetingAnswer(value, _require(raw, "label", where), typed, reply))
    if sorted(a.value for a in answers) != sorted(MEETING_ANSWERS):
        raise ContentError(f"[[meeting_answers]] must be exactly {MEETING_ANSWERS}")
    typed_words = [word for a in answers for word in a.typed]
    if len(typed_words) != len(set(typed_words)):
        raise ContentError("[[meeting_answers]]: a typed word belongs to two answers")

    leads = []
    for raw in _require(data, "meeting_leads", "content"):
        minutes = _require(raw, "minutes", "[[meeting_leads]]")
        if not isinstance(minutes, int) or not 0 < minutes <= 24 * 60:
            raise ContentError(f"[[meeting_leads]]: {minutes!r} is not 1-1440 minutes")
        leads.append((minutes, str(_require(raw, "label", "[[meeting_leads]]"))))
    if not leads or len({m for m, _ in leads}) != len(leads):
        raise ContentError("[[meeting_leads]] needs distinct choices")

    types = {
        str(code): str(label) for code, label in _require(data, "meeting_types", "content").items()
    }
    if bad := [code for code in types if not _TYPE_CODE.fullmatch(code)]:
        raise ContentError(f"[meeting_types]: codes are short capitals, not {bad}")

    options = _require(data, "meeting_options", "content")
    where = "[meeting_options]"
    default_lead = _require(options, "default_lead", where)
    if default_lead not in {m for m, _ in leads}:
        raise ContentError(f"{where}.default_lead must be one of the [[meeting_leads]]")
    bounds = {}
    for key in ("morning_before", "evening_from"):
        bounds[key] = parse_clock_time(str(_require(options, key, where)))
        if bounds[key] is None:
            raise ContentError(f"{where}.{key} is not HH:MM")
    if not bounds["morning_before"] < bounds["evening_from"]:
        raise ContentError(f"{where}: morning must end before evening begins")
    filter_types = tuple(_require(options, "filter_types", where))
    if unknown := [code for code in filter_types if code not in types]:
        raise ContentError(f"{where}.filter_types names codes not in [meeting_types]: {unknown}")
    max_meetings = _require(options, "max_meetings", where)
    if not isinstance(max_meetings, int) or not 1 <= max_meetings <= 20:
        raise ContentError(f"{where}.max_meetings must be 1-20")
    return MeetingContent(
        answers=tuple(answers),
        leads=tuple(leads),
        default_lead=default_lead,
        morning_before=bounds["morning_before"],
        evening_from=bounds["evening_from"],
        max_meetings=max_meetings,
        filter_types=filter_types,
        types=types,
    )


def _parse_plan_suggestions(data: dict[str, Any]) -> tuple[str, ...]:
    raw = _require(_require(data, "plan_suggestions", "content"), "first_steps",
                   "[plan_suggestions]")  # fmt: skip
    steps = tuple(str(s).strip() for s in raw)
    if not 2 <= len(steps) <= 8 or len(set(steps)) != len(steps):
        raise ContentError("[plan_suggestions].first_steps: 2 to 8 distinct suggestions")
    for step in steps:
        if not step or len(step) > PLAN_SUGGESTION_MAX:
            raise ContentError(
                f"[plan_suggestions].first_steps: {step!r} must be 1-{PLAN_SUGGESTION_MAX} "
                "characters (it is a button label)"
            )
    return steps


_MEDICATION_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")


def _parse_medications(data: dict[str, Any]) -> tuple[MedicationOption, ...]:
    options = []
    for raw in _require(data, "medications", "content"):
        key = str(_require(raw, "key", "[[medications]]"))
        where = f"medication '{key}'"
        if not _MEDICATION_KEY.fullmatch(key):
            raise ContentError(f"{where}: keys are short lower-case words joined by '-'")
        kind = _require(raw, "kind", where)
        if kind not in ("daily", "injection"):
            raise ContentError(f"{where}: kind must be daily or injection, not {kind!r}")
        interval = raw.get("interval_days")
        if kind == "injection" and not (isinstance(interval, int) and 1 <= interval <= 366):
            raise ContentError(f"{where}: an injection needs interval_days (1-366)")
        button = str(_require(raw, "button", where))
        name = str(_require(raw, "name", where))
        if not 0 < len(button) <= 40 or not 0 < len(name) <= 60:
            raise ContentError(f"{where}: button up to 40 characters, name up to 60")
        options.append(MedicationOption(key, button, name, kind, interval))
    if not options or len({o.key for o in options}) != len(options):
        raise ContentError("[[medications]]: one or more, each with its own key")
    return tuple(options)


def _parse_medication_rules(data: dict[str, Any], questions: dict[str, Question]):
    raw = _require(data, "medication_rules", "content")
    where = "[medication_rules]"
    key = _require(raw, "adherence_question", where)
    question = questions.get(key)
    if question is None or question.daily != "medication":
        raise ContentError(
            f'{where}: adherence_question must name a question with daily = "medication"'
        )
    others = [k for k, q in questions.items() if q.daily == "medication" and k != key]
    if others:
        raise ContentError(f'{where}: only the adherence question is daily = "medication"')
    skipped = _require(raw, "skipped_answer", where)
    stopped = _require(raw, "stopped_answer", where)
    if skipped not in question.values() or stopped not in question.values():
        raise ContentError(f"{where}: skipped_answer and stopped_answer must be answers of '{key}'")
    if question.risk_of(stopped) != "high":
        raise ContentError(f"{where}: stopping medication must mean high risk")
    at = parse_clock_time(str(_require(raw, "injection_reminder_time", where)))
    if at is None:
        raise ContentError(f"{where}: injection_reminder_time is not HH:MM")
    days = _require(raw, "injection_reminder_days_before", where)
    if not days or any(not isinstance(d, int) or not 0 <= d <= 14 for d in days):
        raise ContentError(f"{where}: injection_reminder_days_before: whole days from 0 to 14")
    return MedicationRules(key, skipped, stopped, at, tuple(sorted(set(days), reverse=True)))


def _parse_screen(data: dict[str, Any]) -> ScreenRules:
    rules = _require(data, "screen_rules", "content")
    categories = []
    for raw in _require(data, "screen_categories", "content"):
        name = _require(raw, "name", "[[screen_categories]]")
        response = _require(raw, "response", f"screen category '{name}'")
        if response not in ("crisis", "lapse", "craving"):
            raise ContentError(
                f"screen category '{name}': response must be crisis, lapse or craving"
            )
        compiled = {}
        for key in ("patterns", "hints"):
            compiled[key] = []
            raws = _require(raw, key, f"screen category '{name}'") if key == "patterns" else (
                raw.get(key, []))  # fmt: skip
            for pattern in raws:
                try:
                    compiled[key].append(re.compile(pattern))
                except re.error as exc:
                    message = f"screen category '{name}': bad pattern {pattern!r}: {exc}"
                    raise ContentError(message) from exc
        patterns, hints = tuple(compiled["patterns"]), tuple(compiled["hints"])
        categories.append(ScreenCategory(name, response, patterns, hints,
                                         alternation(patterns + hints)))  # fmt: skip
    raw_thresholds = _require(data, "screen_thresholds", "content")
    values = {}
    for key in ("crisis", "ask", "lapse", "craving", "hinted", "negated"):
        value = _require(raw_thresholds, key, "[screen_thresholds]")
        if not isinstance(value, int | float) or not 0 < value <= 1:
            raise ContentError(f"[screen_thresholds] {key}: a model score between 0 and 1")
        values[key] = float(value)
    min_words = raw_thresholds.get("model_min_words", 1)
    if not isinstance(min_words, int) or not 1 <= min_words <= 20:
        raise ContentError("[screen_thresholds] model_min_words: a whole number from 1 to 20")
    if values["ask"] > values["crisis"]:
        raise ContentError("[screen_thresholds] ask must not be above crisis")
    languages = _require(data, "screen_languages", "content")
    # Validated now, so a broken corpus stops the bot at start-up; trained when first needed.
    try:
        screen_corpus.cached_corpus()
    except screen_corpus.CorpusError as exc:
        raise ContentError(f"screen corpus: {exc}") from exc
    return ScreenRules(
        idioms=tuple(rules.get("idioms", [])),
        negations=frozenset(_require(rules, "negations", "[screen_rules]")),
        fillers=frozenset(_require(rules, "negation_fillers", "[screen_rules]")),
        categories=tuple(categories),
        thresholds=ScreenThresholds(**values, model_min_words=min_words),
        languages={lang: frozenset(words) for lang, words in languages.items()},
        model=screen_model.model_for,
    )


def _build(data, texts, questions, zones, times, quiet, quiet_off, rotating_per_day, weekly,
           thresholds, prompts, screen, milestones, meetings) -> Catalog:  # fmt: skip
    consent = data["consent"]
    return Catalog(
        locale=_require(data, "locale", "content"),
        language_name=_require(data, "language_name", "content"),
        version=_require(data, "version", "content"),
        consent_version=str(_require(consent, "version", "[consent]")),
        texts=texts,
        questions=questions,
        timezones=tuple(zones),
        time_buttons=times,
        quiet_buttons=quiet,
        quiet_off_words=quiet_off,
        rotating_per_day=rotating_per_day,
        weekly=weekly,
        thresholds=thresholds,
        coping_prompts=prompts,
        screen=screen,
        milestones=milestones,
        meetings=meetings,
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ContentError(f"content file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path} is not valid TOML: {exc}") from exc


def _overlay(base: dict[str, Any], translation: dict[str, Any]) -> dict[str, Any]:
    """The translation over the base: tables merge key by key, anything else (a text, a list
    such as the questions) replaces the base's whole."""
    merged = dict(base)
    for key, value in translation.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _overlay(base[key], value)
        else:
            merged[key] = value
    return merged


def _clinical_shape(catalog: Catalog) -> tuple:
    """Everything that decides clinical behaviour, with the wording left out."""
    questions = tuple(
        (q.key, q.stage, q.daily, q.kind, q.min, q.max, tuple(sorted(q.scale_risk.items())),
         tuple((o.value, o.risk) for o in q.options), q.in_summary, q.follow_ups)
        for q in catalog.questions.values()
    )  # fmt: skip
    medications = tuple((m.key, m.kind, m.interval_days) for m in catalog.medications)
    coping = tuple((p.key, p.stages, p.triggers) for p in catalog.coping_prompts)
    meetings = tuple(a.value for a in catalog.meetings.answers)
    return (questions, catalog.weekly, catalog.rotating_per_day, catalog.thresholds,
            tuple(sorted(catalog.milestones)), medications, coping, meetings,
            catalog.medication_rules)  # fmt: skip


def _parse_file(path: Path, data: dict[str, Any]) -> Catalog:
    try:
        catalog = parse_catalog(data)
    except ContentError as exc:
        raise ContentError(f"{path}: {exc}") from exc
    if catalog.locale != path.stem:
        raise ContentError(
            f"{path}: locale is {catalog.locale!r}, but the file name says {path.stem!r}"
        )
    return catalog


def load_catalog(locale: str = DEFAULT_LOCALE, directory: Path = CONTENT_DIR) -> Catalog:
    """One language's catalog. A language other than the default is read over the default
    file, so a translation may leave untranslated texts out (they stay in the default)."""
    base_path = directory / f"{DEFAULT_LOCALE}.toml"
    base = _read(base_path)
    if locale == DEFAULT_LOCALE:
        return _parse_file(base_path, base)
    path = directory / f"{locale}.toml"
    catalog = _parse_file(path, _overlay(base, _read(path)))
    if _clinical_shape(catalog) != _clinical_shape(_parse_file(base_path, base)):
        raise ContentError(
            f"{path}: questions, answers, risk meanings and thresholds must be those of "
            f"{base_path.name}; a translation changes wording only"
        )
    return catalog


@dataclass(frozen=True)
class Catalogs:
    """Every language the content directory holds; the default one is the fallback."""

    by_locale: dict[str, Catalog]
    default_locale: str = DEFAULT_LOCALE

    @property
    def default(self) -> Catalog:
        return self.by_locale[self.default_locale]

    def get(self, locale: str | None) -> Catalog:
        return self.by_locale.get(locale or "", self.default)

    def locales(self) -> list[str]:
        """The default first, then the others by code."""
        return [self.default_locale, *sorted(k for k in self.by_locale if k != self.default_locale)]

    def match(self, language_code: str | None) -> str:
        """The shipped language for a Telegram `language_code` ('es', 'es-US', 'pt-br'): the
        exact one, else its base language, else the default."""
        code = (language_code or "").strip()
        exact = {k.casefold(): k for k in self.by_locale}
        base = code.split("-", 1)[0].split("_", 1)[0]
        return exact.get(code.casefold()) or exact.get(base.casefold()) or self.default_locale

    def others(self, locale: str) -> list[tuple[str, str]]:
        """The languages to switch to from `locale`: (code, name in its own words)."""
        return [(k, self.by_locale[k].language_name) for k in self.locales() if k != locale]


def load_catalogs(directory: Path = CONTENT_DIR) -> Catalogs:
    """Load and validate every messages/content/<locale>.toml; any broken file stops us."""
    locales = sorted(path.stem for path in directory.glob("*.toml"))
    catalogs = Catalogs({locale: load_catalog(locale, directory) for locale in locales})
    for catalog in catalogs.by_locale.values():
        object.__setattr__(catalog, "family", catalogs)  # frozen, but born together
    return catalogs
