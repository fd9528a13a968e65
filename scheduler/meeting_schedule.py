"""Meeting math: when a weekly meeting next happens, and when its reminder and its "did you
make it?" follow-up are due. Pure; time is passed in.

A meeting is a local weekday and wall-clock times in its own IANA zone, resolved to UTC one
occurrence at a time (scheduler/schedule.local_instant), so a 19:00 meeting stays 19:00 local
across daylight-saving changes, and its reminder stays the chosen minutes before it.

Each participant meeting walks through two steps per occurrence: remind (lead minutes before
the start), then follow up (at the end); after the follow-up, the next occurrence's reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.schedule import local_instant

REMIND = "remind"
FOLLOW_UP = "follow_up"
MIN_LENGTH = timedelta(minutes=1)


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # aware, UTC
    end: datetime


@dataclass(frozen=True)
class WeeklyMeeting:
    weekday: int  # 0 = Monday, in the meeting's zone
    start: time
    end: time  # earlier than start: it ends the next day
    zone: str
    lead: timedelta  # how long before the start the reminder comes


@dataclass(frozen=True)
class MeetingStep:
    action: str  # REMIND | FOLLOW_UP
    due_at: datetime
    occurrence: Occurrence


def occurrence_after(after: datetime, meeting: WeeklyMeeting) -> Occurrence:
    """The first occurrence that starts strictly after `after` (an aware datetime)."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    zone = ZoneInfo(meeting.zone)
    day = after.astimezone(zone).date() - timedelta(days=1)
    day += timedelta(days=(meeting.weekday - day.weekday()) % 7)
    while True:
        begins = local_instant(day, meeting.start, zone)
        if begins > after:
            end_day = day if meeting.end > meeting.start else day + timedelta(days=1)
            ends = local_instant(end_day, meeting.end, zone)
            # A DST jump can squeeze a short meeting to nothing; it still ends after it starts.
            return Occurrence(begins, max(ends, begins + MIN_LENGTH))
        day += timedelta(days=7)


def first_step(meeting: WeeklyMeeting, after: datetime) -> MeetingStep:
    """The reminder of the first occurrence after `after`. Its due time may already have
    passed (a meeting added shortly before it starts): it is then due at once."""
    occurrence = occurrence_after(after, meeting)
    return MeetingStep(REMIND, occurrence.start - meeting.lead, occurrence)


def following_step(meeting: WeeklyMeeting, step: MeetingStep, now: datetime) -> MeetingStep:
    """What comes after `step`: the follow-up of the same occurrence, or after a follow-up the
    next occurrence's reminder. After an outage it moves on from now, never into a backlog."""
    if step.action == REMIND:
        return MeetingStep(FOLLOW_UP, step.occurrence.end, step.occurrence)
    return first_step(meeting, max(now, step.occurrence.start))


def with_lead(meeting: WeeklyMeeting, step: MeetingStep) -> MeetingStep:
    """The same step after the participant changed how early they want reminding: a reminder
    still to come moves; a follow-up stays (the new lead applies from the next occurrence)."""
    if step.action != REMIND:
        return step
    return MeetingStep(REMIND, step.occurrence.start - meeting.lead, step.occurrence)


def is_fresh(step: MeetingStep, now: datetime, follow_up_window: timedelta) -> bool:
    """Whether the step's message is still worth sending: a reminder only before the meeting
    starts, a follow-up only within `follow_up_window` of its end."""
    if step.action == REMIND:
        return now < step.occurrence.start
    return now < step.occurrence.end + follow_up_window
