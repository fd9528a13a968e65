"""Meetings: the program's list (imported by slug), each participant's own meetings with their
next reminder or follow-up, and attendance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import awaiting
from db.models import Meeting, MeetingAttendance, Participant, ParticipantMeeting
from db.sql import changed, dialect, insert_ignore
from messages.meeting_guide import FeedMeeting, day_mask

DRAFT, ACTIVE, REMOVED = "draft", "active", "removed"
CHUNK = 500  # slugs per lookup, well inside every database's parameter limit


# --- the program's list -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportCounts:
    imported: int
    updated: int
    changed: tuple[int, ...]  # ids of known meetings whose details the feed changed


def _columns(meeting: FeedMeeting) -> dict:
    return dict(
        name=meeting.name,
        day_mask=day_mask(meeting.weekdays),
        start_time=meeting.start.strftime("%H:%M"),
        end_time=meeting.end.strftime("%H:%M"),
        timezone=meeting.timezone,
        types=list(meeting.types),
        location=meeting.location,
        address=meeting.address,
        conference_url=meeting.conference_url,
        conference_phone=meeting.conference_phone,
        notes=meeting.notes,
        feed_updated=meeting.updated,
        in_person=meeting.in_person,
        online=meeting.online,
    )


async def upsert_meetings(
    session: AsyncSession, meetings: Sequence[FeedMeeting], now: datetime
) -> ImportCounts:
    """Insert new slugs and update known ones. Meetings missing from the feed are left alone:
    a feed may cover only part of a program's area."""
    imported = updated = 0
    changed: list[int] = []
    for first in range(0, len(meetings), CHUNK):
        chunk = meetings[first : first + CHUNK]
        rows = await session.scalars(
            select(Meeting).where(Meeting.slug.in_([m.slug for m in chunk]))
        )
        existing = {row.slug: row for row in rows.all()}
        for meeting in chunk:
            row = existing.get(meeting.slug)
            if row is None:
                columns = _columns(meeting)
                session.add(Meeting(slug=meeting.slug, imported_at=now, updated_at=now, **columns))
                imported += 1
            else:
                columns = _columns(meeting)
                if all(getattr(row, key) == value for key, value in columns.items()):
                    continue  # the same as last time: not an update
                changed.append(row.id)
                for key, value in columns.items():
                    setattr(row, key, value)
                row.updated_at = now
                updated += 1
        await session.flush()
    return ImportCounts(imported, updated, tuple(changed))


async def copies_of(session: AsyncSession, meeting_ids: Sequence[int]) -> list[ParticipantMeeting]:
    """Participants' active meetings picked from these program meetings."""
    if not meeting_ids:
        return []
    rows = await session.scalars(
        select(ParticipantMeeting).where(
            ParticipantMeeting.meeting_id.in_(list(meeting_ids)),
            ParticipantMeeting.status == ACTIVE,
        )
    )
    return list(rows.all())


def program_place(meeting: Meeting) -> str | None:
    """Where a participant goes: nowhere while the room is closed (online only)."""
    place = ", ".join(p for p in (meeting.location, meeting.address) if p)
    return place[:300] if place and meeting.in_person else None


async def program_has_meetings(session: AsyncSession) -> bool:
    offered = select(Meeting.id).where(or_(Meeting.in_person, Meeting.online)).limit(1)
    return await session.scalar(offered) is not None


@dataclass(frozen=True)
class MeetingFilter:
    """What a participant chose; None means any."""

    weekday: int | None = None  # 0 = Monday
    start_from: str | None = None  # "HH:MM", inclusive
    start_before: str | None = None  # exclusive
    in_person: bool | None = None  # True: in person, False: online
    kind: str | None = None  # a Meeting Guide type code


def _filtered(statement, chosen: MeetingFilter):
    statement = statement.where(or_(Meeting.in_person, Meeting.online))
    if chosen.weekday is not None:
        statement = statement.where(Meeting.day_mask.op("&")(1 << chosen.weekday) != 0)
    if chosen.start_from is not None:
        statement = statement.where(Meeting.start_time >= chosen.start_from)
    if chosen.start_before is not None:
        statement = statement.where(Meeting.start_time < chosen.start_before)
    if chosen.in_person is True:
        statement = statement.where(Meeting.in_person)
    elif chosen.in_person is False:
        statement = statement.where(Meeting.online)
    if chosen.kind is not None:
        # The codes are stored as a JSON list; as text each one sits in quotes: ["O", "W"].
        statement = statement.where(cast(Meeting.types, String).like(f'%"{chosen.kind}"%'))
    return statement


async def find_meetings(
    session: AsyncSession, chosen: MeetingFilter, limit: int
) -> tuple[int, list[Meeting]]:
    """How many offered meetings match, and the first `limit` of them by time and name."""
    count = await session.scalar(_filtered(select(func.count(Meeting.id)), chosen))
    rows = await session.scalars(
        _filtered(select(Meeting), chosen)
        .order_by(Meeting.start_time, Meeting.name, Meeting.id)
        .limit(limit)
    )
    return count or 0, list(rows.all())


# --- a participant's meetings -----------------------------------------------------------------


async def active_meetings(session: AsyncSession, participant_id: int) -> list[ParticipantMeeting]:
    rows = await session.scalars(
        select(ParticipantMeeting)
        .where(
            ParticipantMeeting.participant_id == participant_id,
            ParticipantMeeting.status == ACTIVE,
        )
        .order_by(ParticipantMeeting.weekday, ParticipantMeeting.start_time, ParticipantMeeting.id)
    )
    return list(rows.all())


async def owned(
    session: AsyncSession, participant_id: int, meeting_id: int
) -> ParticipantMeeting | None:
    """One of this participant's active meetings, or None (someone else's, removed, unknown)."""
    meeting = await session.get(ParticipantMeeting, meeting_id)
    if meeting is None or meeting.participant_id != participant_id or meeting.status != ACTIVE:
        return None
    return meeting


async def already_added(
    session: AsyncSession, participant_id: int, meeting_id: int, weekday: int
) -> bool:
    found = await session.scalar(
        select(ParticipantMeeting.id).where(
            ParticipantMeeting.participant_id == participant_id,
            ParticipantMeeting.meeting_id == meeting_id,
            ParticipantMeeting.weekday == weekday,
            ParticipantMeeting.status == ACTIVE,
        )
    )
    return found is not None


async def add_from_program(
    session: AsyncSession,
    participant_id: int,
    meeting: Meeting,
    weekday: int,
    lead_minutes: int,
    now: datetime,
) -> ParticipantMeeting:
    """A copy of a program meeting on one of its days; an online-only one has no place."""
    added = ParticipantMeeting(
        participant_id=participant_id,
        meeting_id=meeting.id,
        status=ACTIVE,
        name=meeting.name,
        weekday=weekday,
        start_time=meeting.start_time,
        end_time=meeting.end_time,
        timezone=meeting.timezone,
        place=program_place(meeting),
        link=meeting.conference_url,
        phone=meeting.conference_phone,
        lead_minutes=lead_minutes,
        created_at=now,
        updated_at=now,
    )
    session.add(added)
    await session.flush()
    return added


async def draft_of(session: AsyncSession, participant_id: int) -> ParticipantMeeting | None:
    return await session.scalar(
        select(ParticipantMeeting)
        .where(
            ParticipantMeeting.participant_id == participant_id,
            ParticipantMeeting.status == DRAFT,
        )
        .order_by(ParticipantMeeting.id.desc())
        .limit(1)
    )


async def discard_drafts(session: AsyncSession, participant_id: int) -> int:
    awaiting.answered(session, awaiting.MEETING)
    return await changed(
        session,
        delete(ParticipantMeeting).where(
            ParticipantMeeting.participant_id == participant_id,
            ParticipantMeeting.status == DRAFT,
        ),
    )


async def start_draft(
    session: AsyncSession, participant_id: int, lead_minutes: int, now: datetime
) -> ParticipantMeeting:
    """A meeting the participant types in, one step at a time; only one at a time."""
    await discard_drafts(session, participant_id)
    draft = ParticipantMeeting(
        participant_id=participant_id,
        status=DRAFT,
        draft_step="name",
        lead_minutes=lead_minutes,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    await session.flush()
    awaiting.asking(session, awaiting.MEETING, now, draft.id, "name")
    return draft


def activate(meeting: ParticipantMeeting, zone: str, now: datetime) -> None:
    meeting.status, meeting.draft_step = ACTIVE, None
    meeting.timezone = zone
    meeting.created_at = meeting.updated_at = now


def remove(meeting: ParticipantMeeting, now: datetime) -> None:
    """Removed, not deleted: its attendance stays for the risk rules and the counselor."""
    meeting.status = REMOVED
    meeting.removed_at = meeting.updated_at = now
    meeting.next_due_at = meeting.next_step = None


async def count_active(session: AsyncSession, participant_id: int) -> int:
    return (
        await session.scalar(
            select(func.count(ParticipantMeeting.id)).where(
                ParticipantMeeting.participant_id == participant_id,
                ParticipantMeeting.status == ACTIVE,
            )
        )
        or 0
    )


async def due(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[ParticipantMeeting, Participant]]:
    """Active meetings of active participants whose next step is due, oldest first. Only active
    participants: a paused or unreachable one is picked up again when they are active."""
    statement = (
        select(ParticipantMeeting, Participant)
        .join(Participant, Participant.id == ParticipantMeeting.participant_id)
        .where(
            ParticipantMeeting.status == ACTIVE,
            ParticipantMeeting.next_due_at <= now,
            Participant.status == "active",
        )
        .order_by(ParticipantMeeting.next_due_at, ParticipantMeeting.id)
        .limit(limit)
    )
    if dialect(session) == "postgresql":
        # Several workers: each meeting row is taken by one of them.
        statement = statement.with_for_update(skip_locked=True, of=ParticipantMeeting)
    return [(meeting, participant) for meeting, participant in await session.execute(statement)]


# --- attendance -------------------------------------------------------------------------------


async def ask_attendance(
    session: AsyncSession, meeting: ParticipantMeeting, occurrence_at: datetime, now: datetime
) -> int | None:
    """The row the follow-up's answer goes to; None if this occurrence was asked about already."""
    return await insert_ignore(
        session,
        MeetingAttendance,
        dict(
            participant_meeting_id=meeting.id,
            participant_id=meeting.participant_id,
            occurrence_at=occurrence_at,
            asked_at=now,
        ),
        conflict=["participant_meeting_id", "occurrence_at"],
    )


def record_answer(attendance: MeetingAttendance, answer: str, source: str, now: datetime) -> None:
    attendance.answer, attendance.source, attendance.answered_at = answer, source, now


async def open_follow_up(
    session: AsyncSession, participant_id: int, asked_since: datetime
) -> MeetingAttendance | None:
    """The newest unanswered "did you make it?" asked since `asked_since`."""
    return await session.scalar(
        select(MeetingAttendance)
        .where(
            MeetingAttendance.participant_id == participant_id,
            MeetingAttendance.answer.is_(None),
            MeetingAttendance.asked_at >= asked_since,
        )
        .order_by(MeetingAttendance.asked_at.desc(), MeetingAttendance.id.desc())
        .limit(1)
    )


async def occurrences(
    session: AsyncSession, participant_meeting_id: int, limit: int
) -> list[MeetingAttendance]:
    """One meeting's occurrences that were asked about, newest first."""
    rows = await session.scalars(
        select(MeetingAttendance)
        .where(MeetingAttendance.participant_meeting_id == participant_meeting_id)
        .order_by(MeetingAttendance.occurrence_at.desc())
        .limit(limit)
    )
    return list(rows.all())


async def last_attended(session: AsyncSession, participant_id: int) -> datetime | None:
    return await session.scalar(
        select(func.max(MeetingAttendance.occurrence_at)).where(
            MeetingAttendance.participant_id == participant_id,
            MeetingAttendance.answer == "yes",
        )
    )


async def tracking_since(session: AsyncSession, participant_id: int) -> datetime | None:
    """When the oldest of their current meetings was added; None when they have none."""
    return await session.scalar(
        select(func.min(ParticipantMeeting.created_at)).where(
            ParticipantMeeting.participant_id == participant_id,
            ParticipantMeeting.status == ACTIVE,
        )
    )
