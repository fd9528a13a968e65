"""Risk rules: a check-in's answers plus recent history -> a level, reasons and a stage. Pure.

What a single answer means (craving 8 is high, any use is a lapse, a yes to a plan is crisis) is
content, on each answer option. The rules here add what needs history: low mood several days
running, a rising craving, missed check-ins, and meetings not attended (skipping meetings is an
early, emotional-stage sign). Thresholds come from the content's [risk].
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from messages.catalog import Catalog

LEVELS = ("none", "watch", "high", "crisis")
# What an answer's risk meaning contributes to the level.
MEANING_LEVEL = {
    "none": "none",
    "watch": "watch",
    "high": "high",
    "lapse": "high",
    "crisis": "crisis",
}
STAGE_ORDER = ("emotional", "mental", "physical", "safety")
# Follow-up answers that mean the participant was not at the meeting.
NOT_ATTENDED = frozenset({"no", "skipped"})


def rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True)
class PastCheckin:
    """An earlier check-in as the rules see it: its local day, whether answered, its answers."""

    day: date
    answers: Mapping[str, str]
    missed: bool = False


@dataclass(frozen=True)
class RiskAssessment:
    level: str = "none"
    reasons: tuple[str, ...] = ()
    stage: str | None = None  # the furthest stage any reason points to
    lapse: bool = False
    crisis: bool = False
    high_craving: bool = False
    triggers: frozenset[str] = field(default_factory=frozenset)  # for choosing coping prompts


class _Findings:
    def __init__(self) -> None:
        self.level = "none"
        self.reasons: list[str] = []
        self.stages: set[str] = set()

    def add(self, level: str, reason: str, stage: str) -> None:
        if level == "none":
            return
        if rank(level) > rank(self.level):
            self.level = level
        self.reasons.append(reason)
        self.stages.add(stage)


def _day_name(day: date) -> str:
    return day.strftime("%A")


def _previous_value(history: Sequence[PastCheckin], key: str) -> tuple[int, date] | None:
    for past in history:
        if not past.missed and key in past.answers:
            return int(past.answers[key]), past.day
    return None


def _recent_values(history: Sequence[PastCheckin], key: str, count: int) -> list[int]:
    values = [int(p.answers[key]) for p in history if not p.missed and key in p.answers]
    return values[:count]


def assess(
    catalog: Catalog,
    answers: Mapping[str, str],
    history: Sequence[PastCheckin] = (),
    consecutive_missed: int = 0,
) -> RiskAssessment:
    """`history` is newest first and excludes this check-in."""
    rules = catalog.thresholds
    texts = catalog.texts["reasons"]

    def text(key: str) -> str:
        return texts[key]

    found = _Findings()
    lapse = crisis = high_craving = False
    triggers: set[str] = set()

    for key, value in answers.items():
        question = catalog.questions[key]
        meaning = question.risk_of(value)
        level = MEANING_LEVEL[meaning]
        if level == "none":
            continue
        label, answer = question.summary_label, question.answer_label(value)
        reason = text("answer").format(label=label, answer=answer)
        if key == "craving":
            previous = _previous_value(history, "craving")
            if previous is not None and previous[0] != int(value):
                direction = text("up" if int(value) > previous[0] else "down")
                reason = text("change").format(
                    label=label,
                    answer=answer,
                    direction=direction,
                    previous=previous[0],
                    day=_day_name(previous[1]),
                )
        found.add(level, reason, question.stage)
        lapse = lapse or meaning == "lapse"
        crisis = crisis or meaning == "crisis"
        high_craving = high_craving or (key == "craving" and rank(level) >= rank("high"))

    if "craving" in answers:
        craving = int(answers["craving"])
        if craving >= 5:
            triggers.add("craving")
        span = rules.craving_rise_checkins
        earlier = _recent_values(history, "craving", span - 1)
        series = [*reversed(earlier), craving]  # oldest first
        rising = all(a <= b for a, b in zip(series, series[1:], strict=False))
        if len(series) == span and rising and series[-1] - series[0] >= rules.craving_rise_points:
            series_text = " → ".join(map(str, series))
            found.add(
                "watch", text("craving_rise").format(count=span, series=series_text), "mental"
            )

    if "mood" in answers:
        mood = int(answers["mood"])
        if mood <= rules.low_mood_at_most:
            triggers.add("low_mood")
            days = rules.low_mood_days
            earlier = _recent_values(history, "mood", days - 1)
            if len(earlier) == days - 1 and all(m <= rules.low_mood_at_most for m in earlier):
                reason = text("low_mood_run").format(most=rules.low_mood_at_most, days=days)
                found.add("high", reason, "emotional")

    for key, trigger in (("isolation", "isolation"), ("anger_anxiety", "anxiety")):
        if key in answers and catalog.questions[key].risk_of(answers[key]) != "none":
            triggers.add(trigger)
    if lapse:
        triggers.add("lapse")

    missed_reason = text("missed").format(count=consecutive_missed)
    if consecutive_missed >= rules.missed_high:
        found.add("high", missed_reason, "emotional")
    elif consecutive_missed >= rules.missed_watch:
        found.add("watch", missed_reason, "emotional")

    stage = max(found.stages, key=STAGE_ORDER.index) if found.stages else None
    return RiskAssessment(
        level=found.level,
        reasons=tuple(found.reasons),
        stage=stage,
        lapse=lapse,
        crisis=crisis,
        high_craving=high_craving,
        triggers=frozenset(triggers),
    )


@dataclass(frozen=True)
class MeetingOccurrence:
    """One occurrence of a participant's meeting that was asked about: its local day and the
    answer to "did you make it?" (yes, no, skipped; None while unanswered)."""

    day: date
    answer: str | None


def assess_meeting_skips(
    catalog: Catalog, name: str, occurrences: Sequence[MeetingOccurrence]
) -> RiskAssessment:
    """One meeting's occurrences, newest first. Watch when the newest few were all missed (no or
    skipped), as the run reaches the threshold: once per run, not again each week after it. An
    unanswered occurrence breaks a run; silence is the missed check-ins' rule."""
    count = catalog.thresholds.meeting_skips_watch
    run = 0
    for occurrence in occurrences[: count + 1]:
        if occurrence.answer not in NOT_ATTENDED:
            break
        run += 1
    if run != count:
        return RiskAssessment()
    reason = catalog.texts["reasons"]["meeting_skips"].format(name=name, count=count)
    return RiskAssessment("watch", (reason,), "emotional", triggers=frozenset({"isolation"}))


def assess_meeting_gap(
    catalog: Catalog,
    last_attended: datetime | None,
    tracking_since: datetime | None,
    as_of: datetime,
) -> RiskAssessment:
    """Watch when a participant who has meetings has not been to one for the threshold's days.
    `tracking_since` is when their oldest current meeting was added (None: no meetings), so a
    meeting added last week can't look like two weeks without one."""
    if tracking_since is None:
        return RiskAssessment()
    days = catalog.thresholds.meeting_gap_days
    since = max(last_attended, tracking_since) if last_attended else tracking_since
    if as_of - since <= timedelta(days=days):
        return RiskAssessment()
    reason = catalog.texts["reasons"]["meeting_gap"].format(days=days)
    return RiskAssessment("watch", (reason,), "emotional", triggers=frozenset({"isolation"}))


# --- medication -------------------------------------------------------------------------------


def skipped_in_a_row(skipped_days: Collection[date], today: date) -> int:
    """How many local days in a row, ending today, had a skipped dose."""
    days = set(skipped_days)
    count = 0
    while today - timedelta(days=count) in days:
        count += 1
    return count


def assess_adherence(
    catalog: Catalog, skipped_days: Collection[date], today: date
) -> RiskAssessment:
    """Skipped doses (from reminders or the check-in) on enough days in a row are a watch
    signal; one skipped day is not."""
    count = skipped_in_a_row(skipped_days, today)
    if count < catalog.thresholds.skipped_medication_days:
        return RiskAssessment()
    reason = catalog.text("reasons", "medication_skipped").format(days=count)
    return RiskAssessment(level="watch", reasons=(reason,), stage="physical")


def medication_stopped(catalog: Catalog, names: Sequence[str]) -> RiskAssessment:
    """Stopping medication for opioid use disorder sharply raises overdose risk: high."""
    medication = " and ".join(names) or catalog.text("reasons", "medication_unnamed")
    reason = catalog.text("reasons", "medication_stopped").format(medication=medication)
    return RiskAssessment(level="high", reasons=(reason,), stage="physical")
