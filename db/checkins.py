"""Check-ins and answers: conversation state lives here, so a restart continues mid-check-in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, case, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import bulk
from db.models import Answer, CheckIn, OutboxMessage, Participant
from db.sql import changed, insert_ignore, lock_skip_locked

OPEN = ("pending", "sent")


class HasStatus(Protocol):
    status: str
    expires_at: datetime


def is_open(checkin: HasStatus, now: datetime) -> bool:
    """Can this check-in still be answered? (A CheckIn, or a row of its status and expiry.)"""
    return checkin.status in OPEN and checkin.expires_at > now


async def open_checkin(session: AsyncSession, participant_id: int, now: datetime) -> CheckIn | None:
    """The participant's check-in that can still be answered, newest first."""
    return await session.scalar(
        select(CheckIn)
        .where(
            CheckIn.participant_id == participant_id,
            CheckIn.status.in_(OPEN),
            CheckIn.expires_at > now,
        )
        .order_by(CheckIn.slot_at.desc())
        .limit(1)
    )


async def create_checkin(
    session: AsyncSession,
    participant: Participant,
    kind: str,
    slot_at: datetime,
    now: datetime,
    window: timedelta,
    question_keys: Sequence[str],
    status: str = "pending",
) -> CheckIn | None:
    """A new check-in, or None if this participant already has one for this slot."""
    checkin_id = await insert_ignore(
        session,
        CheckIn,
        dict(
            participant_id=participant.id,
            kind=kind,
            slot_at=slot_at,
            status=status,
            question_keys=list(question_keys),
            current_index=0,
            created_at=now,
            expires_at=slot_at + window,
        ),
        conflict=["participant_id", "slot_at"],
    )
    if checkin_id is None:
        return None
    participant.checkins_started += 1
    return await session.get(CheckIn, checkin_id)


async def record_answer(
    session: AsyncSession,
    checkin: CheckIn,
    value: str,
    source: str,
    now: datetime,
    follow_ups: Sequence[str] = (),
) -> bool:
    """Store the answer to the current question, ask `follow_ups` next (those not already in
    this check-in), and move on; True when that was the last question."""
    index = checkin.current_index
    key = checkin.question_keys[index]
    session.add(
        Answer(checkin_id=checkin.id, question_key=key, value=value, source=source, answered_at=now)
    )
    new = [k for k in dict.fromkeys(follow_ups) if k not in checkin.question_keys]
    if new:
        # A new list, so the JSON column sees the change.
        keys = list(checkin.question_keys)
        checkin.question_keys = keys[: index + 1] + new + keys[index + 1 :]
    checkin.current_index += 1
    checkin.status = "sent"
    if checkin.current_index >= len(checkin.question_keys):
        checkin.status = "completed"
        checkin.completed_at = now
        return True
    return False


async def answers_of(session: AsyncSession, checkin: CheckIn) -> list[tuple[str, str]]:
    """(question_key, value) in the order the questions were asked."""
    rows = await session.execute(
        select(Answer.question_key, Answer.value).where(Answer.checkin_id == checkin.id)
    )
    by_key = {key: value for key, value in rows}
    return [(k, by_key[k]) for k in checkin.question_keys if k in by_key]


async def question_sent(
    session: AsyncSession, checkin_id: int, message_id: int, now: datetime
) -> bool:
    """The check-in's current question went out as `message_id`; False when the check-in is
    gone (erased meanwhile). One UPDATE, not a read and a flush: it runs after every answer."""
    return bool(
        await changed(
            session,
            update(CheckIn)
            .where(CheckIn.id == checkin_id)
            .values(
                question_message_id=message_id,
                sent_at=func.coalesce(CheckIn.sent_at, literal(now, CheckIn.sent_at.type)),
                status=case((CheckIn.status == "pending", "sent"), else_=CheckIn.status),
            )
            .execution_options(synchronize_session=False),
        )
    )


# What the tick reads of a due participant: plain rows, not ORM objects (50,000 are due at
# 09:00 in a large program, and loading and flushing that many objects is most of a tick).
DUE_COLUMNS = (
    Participant.id, Participant.chat_id, Participant.first_name, Participant.language,
    Participant.status, Participant.timezone, Participant.checkin_time, Participant.quiet_start,
    Participant.quiet_end, Participant.weekly_day, Participant.checkins_started,
    Participant.next_checkin_at, Participant.paused_until,
)  # fmt: skip


async def due_participants(session: AsyncSession, now: datetime, limit: int) -> list[Row]:
    """Active participants whose next check-in is due, earliest first (rows of DUE_COLUMNS),
    locked against another worker's tick on PostgreSQL."""
    statement = (
        select(*DUE_COLUMNS)
        .where(Participant.status == "active", Participant.next_checkin_at <= now)
        .order_by(Participant.next_checkin_at)
        .limit(limit)
    )
    return list((await session.execute(lock_skip_locked(session, statement))).all())


async def mark_missed(session: AsyncSession, now: datetime) -> list[int]:
    """Open check-ins past their response window become missed; unsent messages are dropped.
    Returns the participant of each check-in marked."""
    expired = select(CheckIn.id, CheckIn.participant_id).where(
        CheckIn.status.in_(OPEN), CheckIn.expires_at <= now
    )
    rows = (await session.execute(expired)).all()
    ids = [r[0] for r in rows]
    if not ids:
        return []
    await session.execute(update(CheckIn).where(CheckIn.id.in_(ids)).values(status="missed"))
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.checkin_id.in_(ids), OutboxMessage.status == "pending")
        .values(status="skipped", last_error="check-in expired before it was sent")
    )
    return [r[1] for r in rows]


async def close_open(session: AsyncSession, participant_id: int) -> None:
    """Check-ins that can no longer be answered (discharge) close; unsent ones never go."""
    await session.execute(
        update(CheckIn)
        .where(CheckIn.participant_id == participant_id, CheckIn.status.in_(OPEN))
        .values(status="skipped")
    )


def add_response(checkin: CheckIn, response: str) -> bool:
    """Note an immediate response given in this check-in; False if it was given already."""
    if response in (checkin.responses or []):
        return False
    checkin.responses = [*(checkin.responses or []), response]
    return True


async def history(
    session: AsyncSession, participant_id: int, before: datetime, limit: int = 10
) -> list[tuple[CheckIn, dict[str, str]]]:
    """Earlier check-ins (newest first) that were answered or missed, with their answers."""
    rows = (
        await session.scalars(
            select(CheckIn)
            .where(
                CheckIn.participant_id == participant_id,
                CheckIn.slot_at < before,
                CheckIn.status.in_(("completed", "missed", "sent")),
            )
            .order_by(CheckIn.slot_at.desc())
            .limit(limit)
        )
    ).all()
    if not rows:
        return []
    answer_rows = await session.execute(
        select(Answer.checkin_id, Answer.question_key, Answer.value).where(
            Answer.checkin_id.in_([r.id for r in rows])
        )
    )
    by_checkin: dict[int, dict[str, str]] = {}
    for checkin_id, key, value in answer_rows:
        by_checkin.setdefault(checkin_id, {})[key] = value
    return [(r, by_checkin.get(r.id, {})) for r in rows]


async def completed_dates(session: AsyncSession, participant_id: int) -> list[datetime]:
    rows = await session.scalars(
        select(CheckIn.completed_at).where(
            CheckIn.participant_id == participant_id, CheckIn.status == "completed"
        )
    )
    return [r for r in rows.all() if r is not None]


async def created_since(
    session: AsyncSession, participant_ids: list[int], since: datetime
) -> dict[int, list[datetime]]:
    """When each participant's open or completed check-ins were created, since `since`."""
    rows = await session.execute(
        select(CheckIn.participant_id, CheckIn.created_at).where(
            CheckIn.participant_id.in_(bulk.ids_in(bulk.dialect_of(session), participant_ids)),
            CheckIn.created_at >= since,
            CheckIn.status.in_((*OPEN, "completed")),
        )
    )
    found: dict[int, list[datetime]] = {}
    for participant_id, created_at in rows:
        found.setdefault(participant_id, []).append(created_at)
    return found


CHECKIN_ROW: tuple[tuple[str, bulk.Kind], ...] = (
    ("participant_id", "int"), ("kind", "text"), ("slot_at", "timestamp"), ("status", "text"),
    ("question_keys", "json"), ("expires_at", "timestamp"),
)  # fmt: skip


async def insert_checkins(
    session: AsyncSession, rows: list[list[Any]], created_at: datetime
) -> list[tuple[int, int, str]]:
    """Insert many in one statement (rows of CHECKIN_ROW, as db/bulk.py carries them); a
    participant's slot that exists already is left alone (another tick or worker made it).
    Returns (id, participant_id, status) of the rows inserted."""
    if not rows:
        return []
    dialect = bulk.dialect_of(session)
    # Constant text (no S608 risk): every value is a bound parameter.
    sql = (
        "INSERT INTO checkins (participant_id, kind, slot_at, status, question_keys,"  # noqa: S608
        " current_index, responses, created_at, expires_at)"
        " SELECT participant_id, kind, slot_at, status, question_keys, 0,"
        f" {bulk.param(dialect, 'responses', 'json')},"
        f" {bulk.param(dialect, 'now', 'timestamp')},"
        f" expires_at FROM {bulk.rows_source(dialect, CHECKIN_ROW)} AS r WHERE true"
        " ON CONFLICT (participant_id, slot_at) DO NOTHING"
        " RETURNING id, participant_id, status"
    )
    result = await session.execute(bulk.statement(
        sql, rows=bulk.batch(rows), responses="[]",
        now=bulk.stored_timestamp(dialect, created_at),
    ))  # fmt: skip
    return [(int(i), int(p), str(s)) for i, p, s in result.all()]


async def advance_due(session: AsyncSession, changes: list[list[Any]]) -> None:
    """After a tick's batch: [participant id, next check-in (db/bulk.py's stored timestamp, or
    None), check-ins started (added)] for each. One statement."""
    if not changes:
        return
    dialect = bulk.dialect_of(session)
    columns: tuple[tuple[str, bulk.Kind], ...] = (("pid", "int"), ("next", "timestamp"),
                                                  ("started", "int"))  # fmt: skip
    source = bulk.rows_source(dialect, columns)
    await session.execute(bulk.statement(
        "UPDATE participants SET next_checkin_at = r.next,"  # noqa: S608 - constant text
        " checkins_started = participants.checkins_started + r.started"
        f" FROM {source} AS r WHERE participants.id = r.pid",
        rows=bulk.batch(changes),
    ))  # fmt: skip


async def close_older_open(session: AsyncSession, fresh: list[tuple[int, int]]) -> None:
    """Only one check-in is open at a time: each participant's older open one becomes missed."""
    dialect = bulk.dialect_of(session)
    await session.execute(
        update(CheckIn)
        .where(
            CheckIn.participant_id.in_(bulk.ids_in(dialect, [pid for _, pid in fresh], "pids")),
            CheckIn.id.not_in(bulk.ids_in(dialect, [cid for cid, _ in fresh], "cids")),
            CheckIn.status.in_(OPEN),
        )
        .values(status="missed")
        .execution_options(synchronize_session=False)
    )


async def by_ids(session: AsyncSession, ids: list[int]) -> list[CheckIn]:
    return list((await session.scalars(select(CheckIn).where(CheckIn.id.in_(ids)))).all())


async def note_first_questions(
    session: AsyncSession, sent: list[tuple[int, int]], now: datetime
) -> None:
    """(check-in id, message id) of first questions just delivered: remember the message, so
    answering can edit it, and mark the check-in sent. One statement for the batch."""
    if not sent:
        return
    statement = (
        update(CheckIn)
        .where(CheckIn.id == bindparam("checkin"), CheckIn.current_index == 0)
        .values(
            question_message_id=bindparam("message"),
            sent_at=func.coalesce(CheckIn.sent_at, bindparam("now")),
            status=case((CheckIn.status == "pending", "sent"), else_=CheckIn.status),
        )
        .execution_options(synchronize_session=False)
    )
    params = [dict(checkin=c, message=m, now=now) for c, m in sent]
    connection = await session.connection()
    await connection.execute(statement, params)
