"""Schedule math: when is a participant's next check-in, medication dose or injection
reminder? Pure; time is passed in.

Times are stored as local wall-clock "HH:MM" plus an IANA zone, and resolved to a UTC instant
one day at a time, so a 09:00 check-in stays 09:00 local across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant when the wall clock in `zone` shows `at` on `day`.

    In an autumn overlap (the time happens twice) the first occurrence is used. In a spring
    gap (the time never happens) the result is the first valid instant after the gap, so the
    check-in is neither skipped nor doubled.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=0 reads the time with the offset from before the jump (landing after the
    # gap), fold=1 with the offset from after it (landing before). The jump is between them.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


QuietHours = tuple[time, time]  # (start, end) in local wall-clock time; may cross midnight


def in_quiet_hours(local_time: time, start: time, end: time) -> bool:
    """Whether `local_time` falls in the quiet window [start, end). A window whose end comes
    before its start crosses midnight (22:00-07:00); start == end is an empty window."""
    if start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end


def _slot(day: date, at: time, zone: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """Day `day`'s check-in; inside quiet hours it moves to the moment they end."""
    if quiet is None or not in_quiet_hours(at, *quiet):
        return local_instant(day, at, zone)
    end = quiet[1]
    # The window ends later the same day, or (for the evening part of a window that crosses
    # midnight) the next morning.
    end_day = day if end > at else day + timedelta(days=1)
    return local_instant(end_day, end, zone)


# Cached: a tick asks the same question for every participant who shares a time and a zone
# (thousands at 09:00), and the answer depends on nothing else.
@lru_cache(maxsize=8192)
def next_checkin(
    after: datetime, at: time, zone_name: str, quiet: QuietHours | None = None
) -> datetime:
    """The first daily check-in instant strictly after `after` (an aware datetime). A check-in
    time inside the participant's quiet hours is moved to the end of them, never dropped."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    zone = ZoneInfo(zone_name)
    day = after.astimezone(zone).date() - timedelta(days=1)
    while True:
        candidate = _slot(day, at, zone, quiet)
        if candidate > after:
            return candidate
        day += timedelta(days=1)


@lru_cache(maxsize=8192)
def checkin_day(slot: datetime, at: time, zone_name: str, quiet: QuietHours | None) -> date:
    """The local day whose check-in `slot` is: the day before, when quiet hours moved it past
    midnight (so a Wednesday weekly check-in at 23:30 stays Wednesday's, sent Thursday 07:00)."""
    day = slot.astimezone(ZoneInfo(zone_name)).date()
    if quiet is not None and in_quiet_hours(at, *quiet) and quiet[1] <= at:
        return day - timedelta(days=1)
    return day


def parse_hours(text: str) -> tuple[time, time]:
    """'08:00-20:00' -> (08:00, 20:00)."""
    start, end = (part.strip() for part in text.split("-"))
    return time.fromisoformat(start), time.fromisoformat(end)


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_days(text: str) -> frozenset[int]:
    """'mon-fri' or 'mon,wed,sat' -> weekday numbers (Monday is 0)."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        if "-" in part:
            first, last = (DAY_NAMES.index(p[:3]) for p in part.split("-"))
            days.update(range(first, last + 1))
        elif part:
            days.add(DAY_NAMES.index(part[:3]))
    return frozenset(days)


def next_monitored(
    now: datetime, hours: tuple[time, time], days: frozenset[int], zone_name: str
) -> datetime | None:
    """None when a person is watching now; otherwise when the monitored hours next begin."""
    zone = ZoneInfo(zone_name)
    start, end = hours
    local = now.astimezone(zone)
    if local.weekday() in days and start <= local.time() < end:
        return None
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        begins = local_instant(day, start, zone)
        if begins > now:
            return begins
    return None  # no monitored days configured: nobody is watching, ever


# --- medication -------------------------------------------------------------------------------


def next_dose(after: datetime, times: Sequence[time], zone_name: str) -> datetime:
    """The first of a daily medication's local dose times strictly after `after`."""
    if not times:
        raise ValueError("a daily medication needs at least one dose time")
    return min(next_checkin(after, at, zone_name) for at in times)


def injection_reminder(
    after: datetime,
    on: date,
    interval_days: int,
    days_before: Sequence[int],
    at: time,
    zone_name: str,
) -> tuple[date, datetime]:
    """The next appointment-style reminder strictly after `after`, and the injection date it is
    for. Reminders fall `days_before` each date at local `at`; once a date's reminders are all
    past, the next date is `interval_days` later (a monthly injection keeps coming)."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    if interval_days < 1 or not days_before:
        raise ValueError("an injection needs an interval and at least one reminder day")
    zone = ZoneInfo(zone_name)
    # Skip whole intervals that ended long before `after` (a date far in the past).
    behind = (after.astimezone(zone).date() - on).days - max(days_before)
    if behind > interval_days:
        on += timedelta(days=(behind // interval_days) * interval_days)
    while True:
        reminders = [local_instant(on - timedelta(days=d), at, zone) for d in days_before]
        upcoming = [r for r in reminders if r > after]
        if upcoming:
            return on, min(upcoming)
        on += timedelta(days=interval_days)
