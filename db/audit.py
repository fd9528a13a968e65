"""The audit log: who did what to whom, written in the same transaction as the act."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEvent


def record(
    session: AsyncSession,
    now: datetime,
    actor: str,
    action: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(AuditEvent(at=now, actor=actor, action=action, subject=subject, details=details))
