"""Program figures for the dashboard and its CSV exports: plain rows in, tables out. Pure.

Definitions (also in docs/dashboard.md):
- check-in completion over N days: of the check-ins whose slot fell in the last N days and that
  were answered or missed, the share answered (skipped ones, never sent after an outage, and
  ones still open are not counted);
- retention at day D: of the participants enrolled at least D days ago, the share active on day
  D after enrollment, active meaning a check-in answered in the 14 days up to that day;
- alerts by level: alerts raised in the last 30 days;
- time to acknowledge: from an alert's creation to its acknowledgement (a resolution counts as
  one), over alerts raised in the last 30 days; median and 90th percentile (nearest rank), and
  the share acknowledged within their level's escalation target;
- unacknowledged after 24 h: alerts still open (never acknowledged) 24 hours after they were
  raised;
- caseload per counselor: their participants by status.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

LEVELS = ("watch", "high", "crisis")
ACTIVE_DAYS = 14
RECENT = timedelta(days=30)
UNACKNOWLEDGED_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class CheckinRow:
    participant_id: int
    slot_at: datetime
    status: str  # pending | sent | completed | missed | skipped


@dataclass(frozen=True)
class EnrollmentRow:
    participant_id: int
    enrolled_at: datetime
    answered_at: tuple[datetime, ...]  # when each of their check-ins was answered


@dataclass(frozen=True)
class AlertRow:
    id: int
    participant_id: int
    level: str
    status: str
    created_at: datetime
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class CaseloadEntry:
    counselor: str  # the counselor's name, or "" for participants with none
    status: str  # the participant's


@dataclass(frozen=True)
class Table:
    """One figure: a header and its rows, shown as an HTML table and exported as CSV."""

    name: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


def share(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return None if whole == 0 else round(100 * part / whole, 1)


def completion(checkins: Iterable[CheckinRow], now: datetime, days: int) -> tuple[int, int]:
    """(answered, counted) over the last `days`."""
    since = now - timedelta(days=days)
    decided = [c for c in checkins if since <= c.slot_at < now and c.status in ("completed",
                                                                                  "missed")]
    return sum(1 for c in decided if c.status == "completed"), len(decided)


def retention(enrollments: Iterable[EnrollmentRow], now: datetime, day: int) -> tuple[int, int]:
    """(retained, eligible) at `day` days after enrollment."""
    retained = eligible = 0
    for row in enrollments:
        at = row.enrolled_at + timedelta(days=day)
        if at > now:
            continue
        eligible += 1
        since = at - timedelta(days=ACTIVE_DAYS)
        retained += any(since < answered <= at for answered in row.answered_at)
    return retained, eligible


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of them at or
    below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def acknowledgement_times(
    alerts: Iterable[AlertRow], now: datetime, targets: Mapping[str, timedelta]
) -> list[tuple[str, int, float | None, float | None, float | None, float | str]]:
    """Per level, then all: (level, acknowledged, median min, p90 min, % within target,
    target min, "" for all), over alerts raised in the last 30 days."""
    recent = [(a.level, a.acknowledged_at - a.created_at) for a in alerts
              if a.created_at >= now - RECENT and a.acknowledged_at is not None]  # fmt: skip
    rows = []
    for level in (*LEVELS, "all"):
        chosen = [(lvl, wait) for lvl, wait in recent if level in ("all", lvl)]
        waits = [wait.total_seconds() / 60 for _, wait in chosen]
        within = sum(1 for lvl, wait in chosen if wait <= targets[lvl])
        target: float | str = "" if level == "all" else targets[level].total_seconds() / 60
        rows.append((level, len(chosen), _minutes(median(waits)), _minutes(percentile(waits, 0.9)),
                     share(within, len(chosen)), target))  # fmt: skip
    return rows


def unacknowledged(alerts: Iterable[AlertRow], now: datetime) -> list[AlertRow]:
    """Alerts nobody has acknowledged 24 hours after they were raised, oldest first."""
    late = [a for a in alerts if a.status == "open" and a.created_at <= now - UNACKNOWLEDGED_AFTER]
    return sorted(late, key=lambda a: a.created_at)


def caseloads(entries: Iterable[CaseloadEntry]) -> list[tuple[str, int, int, int, int]]:
    """(counselor, active, paused, other, total), by counselor name."""
    counts: dict[str, list[int]] = {}
    for entry in entries:
        row = counts.setdefault(entry.counselor, [0, 0, 0])
        row[0 if entry.status == "active" else 1 if entry.status == "paused" else 2] += 1
    return [(name, row[0], row[1], row[2], sum(row)) for name, row in sorted(counts.items())]


@dataclass(frozen=True)
class ProgramRows:
    checkins: Sequence[CheckinRow]
    enrollments: Sequence[EnrollmentRow]
    alerts: Sequence[AlertRow]
    caseload: Sequence[CaseloadEntry]


def tables(rows: ProgramRows, now: datetime, targets: Mapping[str, timedelta]) -> list[Table]:
    """Every program figure, in the order the page shows them."""
    completed = [(days, *completion(rows.checkins, now, days)) for days in (7, 30)]
    retained = [(day, *retention(rows.enrollments, now, day)) for day in (30, 90)]
    recent = [a for a in rows.alerts if a.created_at >= now - RECENT]
    hours = [
        (a.id, a.level, a.participant_id, a.created_at.isoformat(timespec="minutes"),
         round((now - a.created_at).total_seconds() / 3600, 1))
        for a in unacknowledged(rows.alerts, now)
    ]  # fmt: skip
    return [
        Table("completion", "Check-in completion",
              ("days", "answered", "answered or missed", "% answered"),
              tuple((d, a, n, share(a, n)) for d, a, n in completed)),
        Table("retention", "Retention after enrollment (active: a check-in in the last 14 days)",
              ("day", "retained", "enrolled that long", "% retained"),
              tuple((d, r, n, share(r, n)) for d, r, n in retained)),
        Table("alerts_by_level", "Alerts by level, last 30 days", ("level", "alerts"),
              tuple((lv, sum(1 for a in recent if a.level == lv)) for lv in LEVELS)
              + (("all", len(recent)),)),
        Table("time_to_acknowledge", "Time to acknowledge, last 30 days",
              ("level", "acknowledged", "median minutes", "90th percentile minutes",
               "% within target", "target minutes"),
              tuple(acknowledgement_times(rows.alerts, now, targets))),
        Table("unacknowledged", "Alerts unacknowledged after 24 hours",
              ("alert", "level", "participant", "raised (UTC)", "hours open"), tuple(hours)),
        Table("caseload", "Caseload per counselor",
              ("counselor", "active", "paused", "other", "total"),
              tuple(caseloads(rows.caseload))),
    ]  # fmt: skip


def csv_cell(value: object) -> str:
    """A cell as exported: empty for no value; text that a spreadsheet would run as a formula
    gets a leading apostrophe."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
