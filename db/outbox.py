"""The outbox: messages written in the same transaction as their cause, sent by the dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from db import bulk
from db.models import OutboxMessage
from db.sql import dialect, insert_ignore
from delivery.priority import URGENT_UP_TO

# Rows at or above URGENT_UP_TO (delivery/priority.py) wake the dispatcher as soon as their
# transaction commits, so a crisis alert never waits for the next dispatch interval or behind a
# claimed broadcast batch.
_URGENT_QUEUED = "outbox_urgent_queued"
_WAKE = "outbox_wake"


def on_urgent_commit(sessionmaker: async_sessionmaker, wake: Callable[[], None]) -> None:
    """Call `wake` after any of this sessionmaker's transactions commits an urgent row."""
    sessionmaker.configure(info={_WAKE: wake})


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_URGENT_QUEUED, False) and (wake := session.info.get(_WAKE)):
        wake()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_URGENT_QUEUED, None)


async def enqueue(
    session: AsyncSession,
    dedupe_key: str,
    chat_id: int,
    payload: dict[str, Any],
    priority: int,
    now: datetime,
    *,
    method: str = "sendMessage",
    participant_id: int | None = None,
    about_participant_id: int | None = None,
    checkin_id: int | None = None,
    asks: tuple[str, int | None] | None = None,
) -> int | None:
    """Queue a message once per dedupe_key; returns its id, or None if it was already queued.
    `participant_id` is the participant it goes to; `about_participant_id` the one a message
    to someone else (a counselor, a contact) is about, so /deleteme can find it."""
    if priority <= URGENT_UP_TO:
        session.info[_URGENT_QUEUED] = True
    return await insert_ignore(
        session,
        OutboxMessage,
        dict(
            dedupe_key=dedupe_key,
            chat_id=chat_id,
            method=method,
            payload=payload,
            priority=priority,
            status="pending",
            attempts=0,
            due_at=now,
            participant_id=participant_id,
            about_participant_id=about_participant_id,
            checkin_id=checkin_id,
            asks=asks[0] if asks else None,
            asks_ref=asks[1] if asks else None,
            created_at=now,
        ),
        conflict=["dedupe_key"],
    )


QUEUED_ROW: tuple[tuple[str, bulk.Kind], ...] = (
    ("dedupe_key", "text"), ("chat_id", "int"), ("payload", "json"), ("participant_id", "int"),
    ("checkin_id", "int"),
)  # fmt: skip


async def enqueue_many(
    session: AsyncSession, rows: list[list[Any]], priority: int, now: datetime
) -> None:
    """Queue many sendMessage rows of one priority in one statement (rows of QUEUED_ROW, the
    payload as its JSON text; db/bulk.py); existing dedupe keys are left alone."""
    if not rows:
        return
    if priority <= URGENT_UP_TO:
        session.info[_URGENT_QUEUED] = True
    dialect = bulk.dialect_of(session)
    now_param = bulk.param(dialect, "now", "timestamp")
    await session.execute(bulk.statement(
        "INSERT INTO outbox (dedupe_key, chat_id, method, payload, priority, status, attempts,"  # noqa: S608 - constant text
        " due_at, participant_id, checkin_id, created_at)"
        f" SELECT dedupe_key, chat_id, 'sendMessage', payload, :priority, 'pending', 0,"
        f" {now_param}, participant_id, checkin_id, {now_param}"
        f" FROM {bulk.rows_source(dialect, QUEUED_ROW)} AS r WHERE true"
        " ON CONFLICT (dedupe_key) DO NOTHING",
        rows=bulk.batch(rows), priority=priority, now=bulk.stored_timestamp(dialect, now),
    ))  # fmt: skip


class Claimed(NamedTuple):
    """A claimed row: what the dispatcher needs to send it, no ORM object."""

    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    priority: int
    attempts: int
    checkin_id: int | None


_CLAIMED = (OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.method, OutboxMessage.payload,
            OutboxMessage.priority, OutboxMessage.attempts, OutboxMessage.checkin_id)  # fmt: skip


async def claim(
    session: AsyncSession,
    now: datetime,
    lease: timedelta,
    limit: int,
    max_priority: int | None = None,
    min_priority: int | None = None,
) -> list[Claimed]:
    """Take up to `limit` due messages, most urgent first, under a lease (only rows of
    `max_priority` or more urgent, and of `min_priority` or less, if given).

    A row whose lease ran out (its worker died mid-send) is due again.
    """
    claimable = or_(
        (OutboxMessage.status == "pending") & (OutboxMessage.due_at <= now),
        (OutboxMessage.status == "sending") & (OutboxMessage.lease_until <= now),
    )
    picked = (
        select(OutboxMessage.id)
        .where(claimable)
        .order_by(OutboxMessage.priority, OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if max_priority is not None:
        picked = picked.where(OutboxMessage.priority <= max_priority)
    if min_priority is not None:
        picked = picked.where(OutboxMessage.priority >= min_priority)
    if dialect(session) == "postgresql":
        # Row locks, skipping rows another worker holds: workers never take the same row.
        ids = list(await session.scalars(picked.with_for_update(skip_locked=True)))
        if not ids:
            return []
        chosen = OutboxMessage.id.in_(ids)
    else:
        # One statement: the UPDATE takes SQLite's write lock before its subquery picks the
        # rows, so two dispatchers in one process (the tick's, the interval's, the urgent and
        # paid lanes) never pick the same ones; and no read comes first in the transaction,
        # whose snapshot a write could then no longer be based on ("database is locked").
        chosen = OutboxMessage.id.in_(picked.scalar_subquery())
    claimed = await session.execute(
        update(OutboxMessage)
        .where(chosen, claimable)  # still claimable when the update finds it
        .values(status="sending", lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(*_CLAIMED)
        .execution_options(synchronize_session=False)
    )
    rows = [Claimed(*row) for row in claimed.all()]
    rows.sort(key=lambda row: (row.priority, row.id))  # RETURNING keeps no order
    return rows


async def skip(session: AsyncSession, row_ids: list[int], reason: str) -> None:
    """Claimed rows that must not be sent after all (their check-in closed meanwhile)."""
    if row_ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids))
            .values(status="skipped", last_error=reason, lease_until=None)
            .execution_options(synchronize_session=False)
        )


async def backlog(session: AsyncSession, now: datetime, min_priority: int) -> int:
    """Messages of `min_priority` or less urgent that are due and not yet sent (waiting, or
    claimed by a batch that is still out)."""
    waiting = or_(
        (OutboxMessage.status == "pending") & (OutboxMessage.due_at <= now),
        OutboxMessage.status == "sending",
    )
    counted = await session.execute(
        select(func.count()).where(waiting, OutboxMessage.priority >= min_priority)
    )
    return counted.scalar_one()


async def renew_leases(session: AsyncSession, row_ids: list[int], until: datetime) -> None:
    """Extend the claim on rows still being sent (by the worker that holds them)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == "sending")
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )


async def record(session: AsyncSession, changes: list[dict[str, Any]]) -> None:
    """Write many rows' outcomes at once (each dict: id plus the columns to set)."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        by_columns.setdefault(tuple(sorted(change)), []).append(change)
    for group in by_columns.values():
        await session.execute(update(OutboxMessage), group)  # an executemany by primary key


async def skip_pending_for_checkin(session: AsyncSession, checkin_id: int, reason: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.checkin_id == checkin_id, OutboxMessage.status == "pending")
        .values(status="skipped", last_error=reason)
    )
