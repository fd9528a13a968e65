"""Meeting reminders and "did you make it?" follow-ups, and what attendance means for risk.

The meeting tick scans participant meetings whose next step is due (a fixed interval job, never
a job per participant), queues the message through the outbox in the reminder class, and moves
each meeting on to its next step with the pure math in scheduler/meeting_schedule.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import alerts as alert_db
from db import awaiting
from db import meetings as meeting_db
from db.models import Meeting, MeetingAttendance, Participant, ParticipantMeeting
from messages import render_meetings
from messages.catalog import Catalog, Catalogs
from messages.risk import NOT_ATTENDED, MeetingOccurrence, assess_meeting_gap, assess_meeting_skips
from scheduler import alerting
from scheduler.meeting_schedule import (
    REMIND,
    MeetingStep,
    Occurrence,
    WeeklyMeeting,
    first_step,
    following_step,
    is_fresh,
    with_lead,
)
from scheduler.reminders import enqueue_reminder

# A "did you make it?" later than this after the meeting's end is skipped, never sent late.
FOLLOW_UP_WINDOW = timedelta(hours=12)
TICK_BATCH = 200
SKIPS_CAUSE, GAP_CAUSE = "meeting_skips", "meeting_gap"


@dataclass
class MeetingTickResult:
    reminders: int = 0
    follow_ups: int = 0
    skipped: int = 0  # steps that were due but too stale to send (after an outage or a pause)


def scheduled(meeting: ParticipantMeeting) -> tuple[int, str, str, str]:
    """(weekday, start "HH:MM", end, zone) of a meeting on someone's list. Only a draft still
    being typed in lacks them, and no draft is scheduled or shown as a meeting."""
    weekday, start, end = meeting.weekday, meeting.start_time, meeting.end_time
    zone = meeting.timezone
    if weekday is None or start is None or end is None or zone is None:
        raise ValueError(f"participant meeting {meeting.id} has no day and time yet (a draft)")
    return weekday, start, end, zone


def weekly_of(meeting: ParticipantMeeting) -> WeeklyMeeting:
    weekday, start, end, zone = scheduled(meeting)
    return WeeklyMeeting(
        weekday=weekday,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        zone=zone,
        lead=timedelta(minutes=meeting.lead_minutes),
    )


def _current_step(meeting: ParticipantMeeting) -> MeetingStep:
    action, due_at = meeting.next_step, meeting.next_due_at
    start, end = meeting.occurrence_at, meeting.occurrence_ends_at
    if action is None or due_at is None or start is None or end is None:
        raise ValueError(f"participant meeting {meeting.id} has no step to take")
    return MeetingStep(action, due_at, Occurrence(start, end))


def _set_step(meeting: ParticipantMeeting, step: MeetingStep) -> None:
    meeting.next_step, meeting.next_due_at = step.action, step.due_at
    meeting.occurrence_at, meeting.occurrence_ends_at = step.occurrence.start, step.occurrence.end


def start_schedule(meeting: ParticipantMeeting, now: datetime) -> None:
    """A meeting just added: its first reminder (at once, if the meeting is about to begin)."""
    _set_step(meeting, first_step(weekly_of(meeting), now))


def change_lead(meeting: ParticipantMeeting, minutes: int, now: datetime) -> None:
    meeting.lead_minutes, meeting.updated_at = minutes, now
    if meeting.next_step is not None:
        _set_step(meeting, with_lead(weekly_of(meeting), _current_step(meeting)))


async def follow_program_changes(
    session: AsyncSession, meeting_ids: tuple[int, ...], now: datetime
) -> int:
    """A re-import changed these program meetings: participants who picked one follow it (the
    program's list is the source), and a reminder still to come moves with the new time. A copy
    whose weekday the meeting no longer has is left as it was. Returns how many moved."""
    followed = 0
    for copy in await meeting_db.copies_of(session, meeting_ids):
        program = await session.get_one(Meeting, copy.meeting_id)
        if copy.weekday is None or not program.day_mask & (1 << copy.weekday):
            continue
        copy.name, copy.timezone = program.name, program.timezone
        copy.start_time, copy.end_time = program.start_time, program.end_time
        copy.place = meeting_db.program_place(program)
        copy.link, copy.phone = program.conference_url, program.conference_phone
        copy.updated_at = now
        if copy.next_step == REMIND:
            start_schedule(copy, now)
        followed += 1
    return followed


def info_of(
    catalog: Catalog, meeting: ParticipantMeeting, program: Meeting | None = None
) -> render_meetings.MeetingInfo:
    """A participant meeting as rendering reads it; `program` adds its kinds (Open, Women...)."""
    labels = catalog.meetings.types
    types = tuple(labels[c] for c in program.types if c in labels) if program else ()
    weekday, start, end, zone = scheduled(meeting)
    return render_meetings.MeetingInfo(
        name=meeting.name or "",
        weekday=weekday,
        start=start,
        end=end,
        zone=zone,
        place=meeting.place,
        link=meeting.link,
        phone=meeting.phone,
        lead_minutes=meeting.lead_minutes,
        types=types,
    )


def _key(meeting: ParticipantMeeting, step: MeetingStep) -> str:
    return f"meeting:{meeting.id}:{step.occurrence.start:%Y%m%dT%H%MZ}:{step.action}"


async def _remind(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    meeting: ParticipantMeeting,
    step: MeetingStep,
    now: datetime,
) -> None:
    zone = ZoneInfo(participant.timezone or scheduled(meeting)[3])
    starts = step.occurrence.start.astimezone(zone)
    message = render_meetings.reminder(
        catalog, info_of(catalog, meeting), starts, now.astimezone(zone).date()
    )
    await enqueue_reminder(session, participant, _key(meeting, step), message, now)


async def _follow_up(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    meeting: ParticipantMeeting,
    step: MeetingStep,
    now: datetime,
    team_chat_id: int | None = None,
    theirs: Catalog | None = None,
) -> None:
    """`catalog`: the program's (alerts); `theirs`: the participant's language."""
    attendance_id = await meeting_db.ask_attendance(session, meeting, step.occurrence.start, now)
    if attendance_id is None:
        return  # asked already (another worker, or a re-run)
    message = render_meetings.follow_up(theirs or catalog, attendance_id, meeting.name or "")
    await enqueue_reminder(session, participant, _key(meeting, step), message, now,
                           asks=(awaiting.ATTENDANCE, attendance_id))  # fmt: skip
    # Silence counts here: judged as of this meeting's start, before its answer can come.
    await check_gap(session, catalog, participant, step.occurrence.start, now, team_chat_id)


async def _advance(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    meeting: ParticipantMeeting,
    now: datetime,
    result: MeetingTickResult,
    team_chat_id: int | None = None,
    theirs: Catalog | None = None,
) -> None:
    """Every step that is due: sent if still fresh, skipped if not; then the next one. Alerts
    read `catalog`, the program's language; the participant's messages `theirs`."""
    weekly = weekly_of(meeting)
    step = _current_step(meeting)
    while step.due_at <= now:
        if not is_fresh(step, now, FOLLOW_UP_WINDOW):
            result.skipped += 1
        elif step.action == REMIND:
            await _remind(session, theirs or catalog, participant, meeting, step, now)
            result.reminders += 1
        else:
            await _follow_up(session, catalog, participant, meeting, step, now, team_chat_id,
                             theirs)  # fmt: skip
            result.follow_ups += 1
        step = following_step(weekly, step, now)
    _set_step(meeting, step)


async def run_meeting_tick(
    sessionmaker: async_sessionmaker,
    catalog: Catalog,
    now: datetime,
    team_chat_id: int | None = None,
    catalogs: Catalogs | None = None,
) -> MeetingTickResult:
    """Queue every due reminder and follow-up, in each participant's language (`catalogs`).
    Safe to re-run: a step is recorded as done in the same transaction as its message, and
    messages are unique per dedupe key. `team_chat_id`: the counselor team group that also
    hears of the alerts raised here."""
    result = MeetingTickResult()
    while True:
        async with sessionmaker.begin() as session:
            due = await meeting_db.due(session, now, TICK_BATCH)
            for meeting, participant in due:
                theirs = catalogs.get(participant.language) if catalogs else None
                await _advance(session, catalog, participant, meeting, now, result, team_chat_id,
                               theirs)  # fmt: skip
        if len(due) < TICK_BATCH:
            return result


# --- attendance and risk ----------------------------------------------------------------------


async def check_gap(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    as_of: datetime,
    now: datetime,
    team_chat_id: int | None = None,
) -> None:
    """Watch when they have meetings but have not been to one for the threshold's days; once
    per such stretch (a new alert only after they have been to a meeting again)."""
    since = await meeting_db.tracking_since(session, participant.id)
    last = await meeting_db.last_attended(session, participant.id)
    assessment = assess_meeting_gap(catalog, last, since, as_of)
    if assessment.level == "none" or since is None:  # no meetings: no gap (the assessment's too)
        return
    stretch_began = max(last, since) if last else since
    if await alert_db.raised_since(session, participant.id, GAP_CAUSE, stretch_began):
        return
    await alerting.raise_alert(
        session, catalog, participant, assessment.level, GAP_CAUSE, assessment.reasons, now,
        team_chat_id=team_chat_id,
    )  # fmt: skip


async def record_attendance(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    attendance: MeetingAttendance,
    answer: str,
    source: str,
    now: datetime,
    team_chat_id: int | None = None,
) -> None:
    """Keep the answer, then flag what it means: the same meeting missed weeks running, or no
    meeting for too long. A watch flag reaches the counselor like every other alert."""
    meeting_db.record_answer(attendance, answer, source, now)
    if answer not in NOT_ATTENDED:
        return
    meeting = await session.get_one(ParticipantMeeting, attendance.participant_meeting_id)
    zone = ZoneInfo(scheduled(meeting)[3])
    rows = await meeting_db.occurrences(
        session, meeting.id, catalog.thresholds.meeting_skips_watch + 1
    )
    history = [MeetingOccurrence(r.occurrence_at.astimezone(zone).date(), r.answer) for r in rows]
    skips = assess_meeting_skips(catalog, meeting.name or "", history)
    if skips.level != "none":
        await alerting.raise_alert(
            session, catalog, participant, skips.level, SKIPS_CAUSE, skips.reasons, now,
            team_chat_id=team_chat_id,
        )  # fmt: skip
    await check_gap(session, catalog, participant, now, now, team_chat_id)
