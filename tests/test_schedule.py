"""The schedule function: 09:00 stays 09:00 local through DST, gaps and overlaps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.schedule import checkin_day, in_quiet_hours, local_instant, next_checkin

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


# --- quiet hours ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at, start, end, quiet",
    [
        ("23:00", "22:00", "07:00", True),  # across midnight: the evening part
        ("03:00", "22:00", "07:00", True),  # and the morning part
        ("22:00", "22:00", "07:00", True),  # the start is inside
        ("07:00", "22:00", "07:00", False),  # the end is not
        ("12:00", "22:00", "07:00", False),
        ("13:00", "12:00", "14:00", True),  # a window inside one day
        ("11:59", "12:00", "14:00", False),
        ("14:00", "12:00", "14:00", False),
        ("00:00", "00:00", "07:00", True),
        ("09:00", "09:00", "09:00", False),  # start == end: no quiet hours at all
    ],
)
def test_in_quiet_hours(at, start, end, quiet):
    parse = time.fromisoformat
    assert in_quiet_hours(parse(at), parse(start), parse(end)) is quiet


NIGHT = (time(22), time(7))


def test_checkin_inside_quiet_hours_moves_to_their_end():
    monday = datetime(2026, 1, 5, 12, tzinfo=UTC)  # 07:00 New York
    # 23:30 is in the evening part of 22:00-07:00: it comes at 07:00 the next morning.
    slot = next_checkin(monday, time(23, 30), NEW_YORK, NIGHT)
    assert local(slot, NEW_YORK).strftime("%m-%d %H:%M") == "01-06 07:00"
    # 05:00 is in the morning part: 07:00 the same morning.
    slot = next_checkin(monday - timedelta(hours=6), time(5), NEW_YORK, NIGHT)
    assert local(slot, NEW_YORK).strftime("%m-%d %H:%M") == "01-05 07:00"
    # Outside quiet hours nothing changes.
    assert next_checkin(monday, time(9), NEW_YORK, NIGHT) == next_checkin(monday, time(9), NEW_YORK)


def test_quiet_hours_never_double_or_skip_a_day():
    slots, after = [], datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(10):
        after = next_checkin(after, time(23, 30), NEW_YORK, NIGHT)
        slots.append(after)
    days = [local(s, NEW_YORK).date() for s in slots]
    assert days == [days[0] + timedelta(days=i) for i in range(10)]
    assert {local(s, NEW_YORK).strftime("%H:%M") for s in slots} == {"07:00"}


def test_a_moved_checkin_still_belongs_to_its_day():
    wednesday = datetime(2026, 1, 7, 12, tzinfo=UTC)
    slot = next_checkin(wednesday, time(23, 30), NEW_YORK, NIGHT)  # Thursday 07:00
    assert local(slot, NEW_YORK).strftime("%a %H:%M") == "Thu 07:00"
    assert checkin_day(slot, time(23, 30), NEW_YORK, NIGHT).strftime("%a") == "Wed"
    early = next_checkin(wednesday - timedelta(hours=12), time(5), NEW_YORK, NIGHT)
    assert checkin_day(early, time(5), NEW_YORK, NIGHT).strftime("%a %d") == "Wed 07"
    plain = next_checkin(wednesday, time(9), NEW_YORK, NIGHT)
    assert checkin_day(plain, time(9), NEW_YORK, NIGHT).strftime("%a") == "Wed"


CLOCK = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@given(after=INSTANTS, at=CLOCK, start=CLOCK, end=CLOCK, zone=ZONES)
def test_no_checkin_lands_in_quiet_hours(after, at, start, end, zone):
    slot = next_checkin(after, at, zone, (start, end))
    assert after < slot <= after + timedelta(days=2, hours=1)
    assert not in_quiet_hours(local(slot, zone).time(), start, end)
    if not in_quiet_hours(at, start, end):
        assert slot == next_checkin(after, at, zone)
    # The slot belongs to a day whose plain check-in time is no later than the slot itself.
    day = checkin_day(slot, at, zone, (start, end))
    assert local_instant(day, at, ZoneInfo(zone)) <= slot
