"""The outbox: messages written in the same transaction as their cause, sent by the dispatcher."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage
from db.sql import dialect, insert_ignore, lock_skip_locked

# Lower is more urgent; the dispatcher serves them in this order.
PRIORITY_CRISIS = 0
PRIORITY_REPLY = 1
PRIORITY_CHECKIN = 2
PRIORITY_REMINDER = 3


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
    checkin_id: int | None = None,
) -> int | None:
    """Queue a message once per dedupe_key; returns its id, or None if it was already queued."""
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
            checkin_id=checkin_id,
            created_at=now,
        ),
        conflict=["dedupe_key"],
    )


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]], now: datetime) -> None:
    """Queue many sendMessage rows at once (keys: dedupe_key, chat_id, payload, priority, and
    optionally participant_id, checkin_id); existing dedupe keys are left alone."""
    if not rows:
        return
    values = [
        dict(method="sendMessage", status="pending", attempts=0, due_at=now, created_at=now,
             participant_id=None, checkin_id=None) | row
        for row in rows
    ]  # fmt: skip
    insert = postgresql.insert if dialect(session) == "postgresql" else sqlite.insert
    await session.execute(
        insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


async def claim(
    session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> list[OutboxMessage]:
    """Take up to `limit` due messages, most urgent first, under a lease.

    A row whose lease ran out (its worker died mid-send) is due again.
    """
    statement = (
        select(OutboxMessage)
        .where(
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.due_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.lease_until <= now),
            )
        )
        .order_by(OutboxMessage.priority, OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    rows = list((await session.scalars(lock_skip_locked(session, statement))).all())
    for row in rows:
        row.status = "sending"
        row.lease_until = now + lease
        row.attempts += 1
    return rows


async def skip_pending_for_checkin(session: AsyncSession, checkin_id: int, reason: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.checkin_id == checkin_id, OutboxMessage.status == "pending")
        .values(status="skipped", last_error=reason)
    )
