"""The audit log: who did what to whom, written in the same transaction as the act."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEvent

EXPORT_BATCH = 1000


def record(
    session: AsyncSession,
    now: datetime,
    actor: str,
    action: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(AuditEvent(at=now, actor=actor, action=action, subject=subject, details=details))


async def between(
    session: AsyncSession, since: datetime, until: datetime | None = None
) -> AsyncIterator[AuditEvent]:
    """Events at or after `since` and before `until`, oldest first (in order of writing within
    one instant), read in batches so a long log never sits in memory whole."""
    statement = select(AuditEvent).where(AuditEvent.at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.at < until)
    statement = statement.order_by(AuditEvent.at, AuditEvent.id)
    result = await session.stream_scalars(statement.execution_options(yield_per=EXPORT_BATCH))
    async for event in result:
        yield event
