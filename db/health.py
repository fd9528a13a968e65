"""Named queries behind /readyz and the Prometheus gauges: the outbox's backlog and the
alerts still waiting for a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Alert, CheckIn, OutboxMessage

WAITING = ("pending", "sending")  # queued, or claimed and not yet confirmed sent


async def ping(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))


async def outbox_waiting(session: AsyncSession) -> dict[int, int]:
    """How many rows wait to be sent, by priority (0 crisis .. 3 reminders)."""
    rows = await session.execute(
        select(OutboxMessage.priority, func.count())
        .where(OutboxMessage.status.in_(WAITING))
        .group_by(OutboxMessage.priority)
    )
    return {priority: count for priority, count in rows.all()}


async def oldest_waiting_crisis(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status.in_(WAITING), OutboxMessage.priority == 0
        )
    )


async def unacknowledged_alerts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Alert.level, func.count()).where(Alert.status == "open").group_by(Alert.level)
    )
    return {level: count for level, count in rows.all()}


async def oldest_unacknowledged(session: AsyncSession, level: str) -> datetime | None:
    return await session.scalar(
        select(func.min(Alert.created_at)).where(Alert.status == "open", Alert.level == level)
    )


async def checkins_by_status(session: AsyncSession) -> dict[str, int]:
    """Every check-in kept, by status: pending, sent, completed, missed, skipped."""
    rows = await session.execute(
        select(CheckIn.status, func.count()).group_by(CheckIn.status)
    )
    return {status: count for status, count in rows.all()}
