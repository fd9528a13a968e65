"""Alerts: a row per risk signal, and the counselor's message queued in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit, outbox
from db.models import Alert, Counselor, Participant

PRIORITY = {"crisis": outbox.PRIORITY_CRISIS, "high": outbox.PRIORITY_REPLY}


async def raise_alert(
    session: AsyncSession,
    participant: Participant,
    level: str,
    cause: str,
    reasons: Sequence[str],
    now: datetime,
    counselor_message: dict | None,
    checkin_id: int | None = None,
) -> Alert:
    """Record the alert and queue `counselor_message` (a sendMessage payload) to the counselor.
    Returns the alert; without a counselor only the row is written, for an admin to see."""
    alert = Alert(
        participant_id=participant.id,
        counselor_id=participant.counselor_id,
        checkin_id=checkin_id,
        level=level,
        cause=cause,
        reasons=list(reasons),
        status="open",
        created_at=now,
    )
    session.add(alert)
    await session.flush()
    counselor = (
        await session.get(Counselor, participant.counselor_id) if participant.counselor_id else None
    )
    if counselor is not None and counselor_message is not None:
        await outbox.enqueue(
            session,
            f"alert:{alert.id}:counselor:{counselor.id}",
            counselor.telegram_user_id,
            counselor_message,
            PRIORITY.get(level, outbox.PRIORITY_CHECKIN),
            now,
        )
    subject = f"participant:{participant.id}"
    audit.record(session, now, "bot", "alert_raised", subject,
                 {"alert_id": alert.id, "level": level, "cause": cause})  # fmt: skip
    return alert
