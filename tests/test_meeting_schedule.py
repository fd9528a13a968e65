"""Meeting reminders and follow-ups in time: the same local time across daylight-saving
changes, the reminder the chosen minutes before, and no backlog after an outage. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.meeting_schedule import (
    FOLLOW_UP,
    REMIND,
    MeetingStep,
    WeeklyMeeting,
    first_step,
    following_step,
    is_fresh,
    occurrence_after,
    with_lead,
)

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"
HOUR = timedelta(hours=1)


def weekly(weekday=1, start=time(19), end=time(20), zone=NEW_YORK, lead=HOUR) -> WeeklyMeeting:
    return WeeklyMeeting(weekday, start, end, zone, lead)


def local(instant: datetime, zone: str = NEW_YORK) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def walk(meeting: WeeklyMeeting, after: datetime, steps: int) -> list[MeetingStep]:
    """Every step in turn, each handled the moment it is due."""
    step, seen = first_step(meeting, after), []
    for _ in range(steps):
        seen.append(step)
        step = following_step(meeting, step, step.due_at)
    return seen


@pytest.mark.parametrize(
    "zone, start",
    [
        (NEW_YORK, datetime(2026, 2, 20, tzinfo=UTC)),  # spring forward on 8 March
        (NEW_YORK, datetime(2026, 10, 15, tzinfo=UTC)),  # fall back on 1 November
        (BERLIN, datetime(2026, 3, 10, tzinfo=UTC)),  # spring forward on 29 March
        (BERLIN, datetime(2026, 10, 5, tzinfo=UTC)),  # fall back on 25 October
    ],
)
def test_reminder_comes_at_the_same_local_time_across_dst(zone, start):
    # Sundays 10:00-11:00, so the meeting falls on the very day the clocks change.
    meeting = weekly(weekday=6, start=time(10), end=time(11), zone=zone)
    steps = walk(meeting, start, 12)
    reminders = [s for s in steps if s.action == REMIND]
    follow_ups = [s for s in steps if s.action == FOLLOW_UP]
    assert [local(s.due_at, zone).strftime("%a %H:%M") for s in reminders] == ["Sun 09:00"] * 6
    assert [local(s.due_at, zone).strftime("%a %H:%M") for s in follow_ups] == ["Sun 11:00"] * 6
    offsets = {local(s.due_at, zone).utcoffset() for s in steps}
    assert len(offsets) == 2  # the change really is inside the run
    dates = [local(s.occurrence.start, zone).date() for s in reminders]
    assert dates == [dates[0] + timedelta(weeks=i) for i in range(6)]  # none skipped or doubled


def test_reminder_on_the_morning_of_the_spring_change_is_still_an_hour_before():
    # 8 March 2026, New York: 02:00 jumps to 03:00. A 03:30 meeting's reminder is due at 02:30,
    # which never happens: one real hour before is 01:30 EST.
    meeting = weekly(weekday=6, start=time(3, 30), end=time(4, 30))
    step = first_step(meeting, datetime(2026, 3, 7, tzinfo=UTC))
    assert local(step.occurrence.start).strftime("%m-%d %H:%M %Z") == "03-08 03:30 EDT"
    assert step.occurrence.start - step.due_at == HOUR
    assert local(step.due_at).strftime("%H:%M %Z") == "01:30 EST"


def test_meeting_past_midnight_ends_the_next_day():
    meeting = weekly(weekday=5, start=time(23, 30), end=time(0, 30))
    occurrence = occurrence_after(datetime(2026, 1, 5, tzinfo=UTC), meeting)
    assert local(occurrence.start).strftime("%a %H:%M") == "Sat 23:30"
    assert local(occurrence.end).strftime("%a %H:%M") == "Sun 00:30"


def test_reminder_then_follow_up_then_next_week():
    meeting = weekly()  # Tuesdays 19:00-20:00
    monday = datetime(2026, 1, 5, 14, tzinfo=UTC)
    remind = first_step(meeting, monday)
    assert remind.action == REMIND
    assert local(remind.due_at).strftime("%a %m-%d %H:%M") == "Tue 01-06 18:00"
    follow = following_step(meeting, remind, remind.due_at)
    assert follow.action == FOLLOW_UP
    assert local(follow.due_at).strftime("%a %m-%d %H:%M") == "Tue 01-06 20:00"
    again = following_step(meeting, follow, follow.due_at)
    assert local(again.due_at).strftime("%a %m-%d %H:%M") == "Tue 01-13 18:00"


def test_after_an_outage_the_next_occurrence_not_a_backlog():
    meeting = weekly()
    remind = first_step(meeting, datetime(2026, 1, 5, tzinfo=UTC))
    follow = following_step(meeting, remind, remind.due_at)
    three_weeks_later = follow.due_at + timedelta(weeks=3)
    assert not is_fresh(follow, three_weeks_later, timedelta(hours=12))
    nxt = following_step(meeting, follow, three_weeks_later)
    assert nxt.action == REMIND and nxt.occurrence.start > three_weeks_later


def test_freshness():
    meeting = weekly()
    remind = first_step(meeting, datetime(2026, 1, 5, tzinfo=UTC))
    start = remind.occurrence.start
    assert is_fresh(remind, start - timedelta(seconds=1), HOUR)
    assert not is_fresh(remind, start, HOUR)  # no reminder once it has begun
    follow = following_step(meeting, remind, start)
    end = follow.occurrence.end
    assert is_fresh(follow, end + timedelta(hours=11), timedelta(hours=12))
    assert not is_fresh(follow, end + timedelta(hours=12), timedelta(hours=12))


def test_changing_the_lead_moves_a_reminder_still_to_come_only():
    meeting = weekly()
    remind = first_step(meeting, datetime(2026, 1, 5, tzinfo=UTC))
    earlier = with_lead(weekly(lead=timedelta(hours=2)), remind)
    assert remind.occurrence.start - earlier.due_at == timedelta(hours=2)
    follow = following_step(meeting, remind, remind.due_at)
    assert with_lead(weekly(lead=timedelta(minutes=15)), follow) == follow


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        occurrence_after(datetime(2026, 1, 5), weekly())


ZONES = st.sampled_from([NEW_YORK, BERLIN, "Australia/Lord_Howe", "Asia/Kolkata", "UTC"])
INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@given(
    after=INSTANTS,
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    length=st.integers(15, 180),
    lead=st.sampled_from([15, 30, 60, 120]),
    zone=ZONES,
)
def test_steps_properties(after, weekday, hour, minute, length, lead, zone):
    start = time(hour, minute)
    end = (datetime.combine(datetime.min.date(), start) + timedelta(minutes=length)).time()
    meeting = WeeklyMeeting(weekday, start, end, zone, timedelta(minutes=lead))
    remind = first_step(meeting, after)
    occurrence = remind.occurrence
    assert after < occurrence.start <= after + timedelta(days=7, hours=1)
    assert local(occurrence.start, zone).weekday() == weekday
    assert occurrence.start - remind.due_at == timedelta(minutes=lead)  # real minutes, always
    assert occurrence.end > occurrence.start
    follow = following_step(meeting, remind, remind.due_at)
    assert follow.due_at == occurrence.end
    nxt = following_step(meeting, follow, follow.due_at)
    assert timedelta(days=6) < nxt.occurrence.start - occurrence.start < timedelta(days=8)
