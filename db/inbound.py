"""Inbound updates, stored by update_id before they are handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InboundUpdate
from db.sql import upsert_insert


async def store(
    session: AsyncSession, update_id: int, payload: dict[str, Any], now: datetime
) -> bool:
    """Store the update; False when it was already handled (a duplicate delivery)."""
    insert = upsert_insert(session)
    await session.execute(
        insert(InboundUpdate)
        .values(update_id=update_id, payload=payload, received_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    processed = await session.scalar(
        select(InboundUpdate.processed_at).where(InboundUpdate.update_id == update_id)
    )
    return processed is None


async def store_new(
    session: AsyncSession, update_id: int, payload: dict[str, Any], now: datetime
) -> bool:
    """Store the update; True only when this call stored it. Whoever takes an update in (the
    poller, a webhook worker) hands it on only then: a second delivery of it, to this worker
    or another, while the first is still being handled, is not handled again. One that was
    stored and never finished is the replay's (bot/polling.py)."""
    insert = upsert_insert(session)
    statement = (
        insert(InboundUpdate)
        .values(update_id=update_id, payload=payload, received_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(InboundUpdate.update_id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def mark_processed(
    session: AsyncSession, update_id: int, now: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Handled; `payload`, when given, replaces what was stored (a secret taken out of it)."""
    values: dict[str, Any] = {"processed_at": now}
    if payload is not None:
        values["payload"] = payload
    await session.execute(
        update(InboundUpdate).where(InboundUpdate.update_id == update_id).values(**values)
    )


async def mark_applied(session: AsyncSession, update_id: int, now: datetime) -> None:
    """Its effect is committed with this transaction (its replies may still fail to go)."""
    await session.execute(
        update(InboundUpdate).where(InboundUpdate.update_id == update_id).values(applied_at=now)
    )


async def unprocessed(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(InboundUpdate.payload)
        .where(InboundUpdate.processed_at.is_(None))
        .order_by(InboundUpdate.update_id)
    )
    return list(rows.all())


async def stale(session: AsyncSession, received_before: datetime) -> list[dict[str, Any]]:
    """Stored, not finished, and received before the given time: a handler that failed (the
    database went away mid-update) or a worker that died holding them."""
    rows = await session.scalars(
        select(InboundUpdate.payload)
        .where(InboundUpdate.processed_at.is_(None), InboundUpdate.received_at < received_before)
        .order_by(InboundUpdate.update_id)
    )
    return list(rows.all())
