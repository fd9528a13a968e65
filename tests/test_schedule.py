"""The schedule function: 09:00 stays 09:00 local through DST, gaps and overlaps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.schedule import local_instant, next_checkin

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def run_days(start: datetime, at: time, zone: str, days: int) -> list[datetime]:
    slots, after = [], start
    for _ in range(days):
        after = next_checkin(after, at, zone)
        slots.append(after)
    return slots


@pytest.mark.parametrize(
    "zone, start",
    [
        (NEW_YORK, datetime(2026, 3, 1, tzinfo=UTC)),  # spring forward on 8 March
        (NEW_YORK, datetime(2026, 10, 25, tzinfo=UTC)),  # fall back on 1 November
        (BERLIN, datetime(2026, 3, 22, tzinfo=UTC)),  # spring forward on 29 March
        (BERLIN, datetime(2026, 10, 18, tzinfo=UTC)),  # fall back on 25 October
    ],
)
def test_nine_oclock_stays_nine_oclock_across_transitions(zone, start):
    slots = run_days(start, time(9, 0), zone, 14)
    assert [local(s, zone).strftime("%H:%M") for s in slots] == ["09:00"] * 14
    dates = [local(s, zone).date() for s in slots]
    assert dates == [dates[0] + timedelta(days=i) for i in range(14)]  # none skipped or doubled
    offsets = {local(s, zone).utcoffset() for s in slots}
    assert len(offsets) == 2  # the transition really is inside the run


def test_time_in_spring_gap_moves_to_first_valid_instant():
    # 02:30 does not exist in New York on 8 March 2026: clocks jump from 02:00 to 03:00.
    slot = next_checkin(datetime(2026, 3, 7, 12, tzinfo=UTC), time(2, 30), NEW_YORK)
    assert slot == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert local(slot, NEW_YORK).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-08 03:00 EDT"
    following = next_checkin(slot, time(2, 30), NEW_YORK)
    assert local(following, NEW_YORK).strftime("%Y-%m-%d %H:%M") == "2026-03-09 02:30"


def test_time_in_berlin_gap():
    slot = next_checkin(datetime(2026, 3, 28, 12, tzinfo=UTC), time(2, 15), BERLIN)
    assert local(slot, BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-29 03:00 CEST"


def test_time_in_autumn_overlap_happens_once():
    # 01:30 happens twice in New York on 1 November 2026; the check-in comes once, the first time.
    slots = run_days(datetime(2026, 10, 31, 12, tzinfo=UTC), time(1, 30), NEW_YORK, 3)
    assert slots[0] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert [local(s, NEW_YORK).strftime("%m-%d %H:%M") for s in slots] == [
        "11-01 01:30",
        "11-02 01:30",
        "11-03 01:30",
    ]


def test_next_is_strictly_after():
    slot = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)  # 09:00 New York
    assert next_checkin(slot, time(9), NEW_YORK) == slot + timedelta(days=1)
    assert next_checkin(slot - timedelta(seconds=1), time(9), NEW_YORK) == slot


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        next_checkin(datetime(2026, 1, 1), time(9), NEW_YORK)


ZONES = st.sampled_from(
    [NEW_YORK, BERLIN, "America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
)
INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@given(after=INSTANTS, hour=st.integers(0, 23), minute=st.integers(0, 59), zone=ZONES)
def test_next_checkin_properties(after, hour, minute, zone):
    slot = next_checkin(after, time(hour, minute), zone)
    assert after < slot <= after + timedelta(days=1, hours=1)
    shown = local(slot, zone)
    wanted = local_instant(shown.date(), time(hour, minute), ZoneInfo(zone))
    assert slot == wanted
    if (shown.hour, shown.minute) != (hour, minute):
        # Only when the asked-for time does not exist that day (a spring gap).
        naive = datetime.combine(shown.date(), time(hour, minute))
        round_trip = naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).astimezone(ZoneInfo(zone))
        assert round_trip.replace(tzinfo=None) != naive
        assert (shown.hour, shown.minute) > (hour, minute)
