"""Schedule math: when is a participant's next check-in? Pure; time is passed in.

Times are stored as local wall-clock "HH:MM" plus an IANA zone, and resolved to a UTC instant
one day at a time, so a 09:00 check-in stays 09:00 local across daylight-saving changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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


def next_checkin(after: datetime, at: time, zone_name: str) -> datetime:
    """The first daily check-in instant strictly after `after` (an aware datetime)."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    zone = ZoneInfo(zone_name)
    day = after.astimezone(zone).date() - timedelta(days=1)
    while True:
        candidate = local_instant(day, at, zone)
        if candidate > after:
            return candidate
        day += timedelta(days=1)
