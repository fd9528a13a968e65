"""Alerts: one open alert per participant and cause, every notification in its chain recorded,
acknowledgement and resolution. Messages to people are queued in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import audit, awaiting, outbox
from db.models import Alert, AlertNotification, Counselor, Participant
from delivery.priority import Priority

LEVELS = ("watch", "high", "crisis")
ACTIVE = ("open", "acknowledged")
PRIORITY = {"crisis": Priority.CRISIS, "high": Priority.REPLY}

# Renders the counselor's message for an alert (a sendMessage payload); it needs the row's id
# for its buttons, so it is called after the row exists.
MessageFor = Callable[[Alert, Participant], dict]


@dataclass(frozen=True)
class Raised:
    alert: Alert
    notified: bool  # whether a person was (re)told now (an update below crisis may not be)


def _rank(level: str) -> int:
    return LEVELS.index(level)


async def notify(
    session: AsyncSession,
    alert: Alert,
    counselor: Counselor,
    payload: dict,
    reason: str,
    now: datetime,
) -> None:
    """Queue the alert message for one counselor and record it in the chain."""
    recipient = f"counselor:{counselor.id}"
    await _queue(session, alert, recipient, counselor.telegram_user_id, payload, reason, now)
    alert.last_notified_at = now


async def notify_team(
    session: AsyncSession, alert: Alert, chat_id: int, payload: dict, reason: str, now: datetime
) -> None:
    """Queue the counselor team group's notice of an alert and record it in the chain."""
    await _queue(session, alert, "team", chat_id, payload, reason, now)


async def _queue(
    session: AsyncSession,
    alert: Alert,
    recipient: str,
    chat_id: int,
    payload: dict,
    reason: str,
    now: datetime,
) -> None:
    """One message of an alert's chain: queued once per signal and escalation, and recorded."""
    outbox_id = await outbox.enqueue(
        session,
        f"alert:{alert.id}:{reason}:{alert.signals}:{alert.escalations}:{recipient}",
        chat_id,
        payload,
        PRIORITY.get(alert.level, Priority.CHECKIN),
        now,
        about_participant_id=alert.participant_id,
    )
    session.add(
        AlertNotification(
            alert_id=alert.id,
            recipient=recipient,
            chat_id=chat_id,
            reason=reason,
            outbox_id=outbox_id,
            created_at=now,
        )
    )


async def admins(session: AsyncSession) -> list[Counselor]:
    rows = await session.scalars(select(Counselor).where(Counselor.is_admin, Counselor.active))
    return list(rows.all())


async def responsible(session: AsyncSession, participant: Participant) -> list[Counselor]:
    """Who hears first: the assigned counselor, or the admins when there is none."""
    if participant.counselor_id is not None:
        counselor = await session.get(Counselor, participant.counselor_id)
        if counselor is not None and counselor.active:
            return [counselor]
    return await admins(session)


async def raise_alert(
    session: AsyncSession,
    participant: Participant,
    level: str,
    cause: str,
    reasons: Sequence[str],
    now: datetime,
    message_for: MessageFor,
    checkin_id: int | None = None,
) -> Raised:
    """A new alert, or an update to the open one for this participant and cause. An update
    tells people again only when the level rises; a crisis always tells them."""
    existing = await session.scalar(
        select(Alert)
        .where(
            Alert.participant_id == participant.id,
            Alert.cause == cause,
            Alert.status.in_(ACTIVE),
        )
        .order_by(Alert.id.desc())
        .limit(1)
    )
    if existing is not None:
        rose = _rank(level) > _rank(existing.level)
        existing.signals += 1
        existing.updated_at = now
        existing.reasons = [*existing.reasons, *(r for r in reasons if r not in existing.reasons)]
        if rose:
            existing.level = level
            existing.status = "open"  # a higher level needs a fresh acknowledgement
        alert, reason = existing, ("crisis" if level == "crisis" else "update")
        tell = rose or level == "crisis"
    else:
        alert = Alert(
            participant_id=participant.id,
            counselor_id=participant.counselor_id,
            checkin_id=checkin_id,
            level=level,
            cause=cause,
            reasons=list(reasons),
            status="open",
            created_at=now,
            signals=1,
            escalations=0,
        )
        session.add(alert)
        await session.flush()
        reason, tell = "new", True
    told = 0
    if tell:
        payload = message_for(alert, participant)
        for counselor in await responsible(session, participant):
            await notify(session, alert, counselor, payload, reason, now)
            told += 1
    subject = f"participant:{participant.id}"
    audit.record(session, now, "bot", "alert_raised" if reason == "new" else "alert_updated",
                 subject, {"alert_id": alert.id, "level": level, "cause": cause})  # fmt: skip
    return Raised(alert, told > 0)


def can_act(counselor: Counselor, alert: Alert) -> bool:
    """Only the participant's own counselor, or an admin, may see or act on an alert."""
    return counselor.is_admin or alert.counselor_id == counselor.id


async def acknowledge(
    session: AsyncSession, alert: Alert, counselor: Counselor, now: datetime
) -> bool:
    """Stops escalation. False if it was no longer open (acknowledged or resolved already)."""
    if alert.status != "open":
        return False
    alert.status = "acknowledged"
    alert.acknowledged_at, alert.acknowledged_by = now, counselor.id
    audit.record(session, now, f"counselor:{counselor.id}", "alert_acknowledged",
                 f"participant:{alert.participant_id}", {"alert_id": alert.id})  # fmt: skip
    return True


async def resolve(
    session: AsyncSession, alert: Alert, counselor: Counselor, note: str, now: datetime
) -> bool:
    """False if it was no longer active (resolved, or closed when the participant left)."""
    if alert.status not in ACTIVE:
        return False
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, counselor.id
    alert.status = "resolved"
    alert.resolved_at, alert.resolved_by, alert.resolution_note = now, counselor.id, note
    awaiting.answered(session, awaiting.RESOLUTION, alert.id)
    audit.record(session, now, f"counselor:{counselor.id}", "alert_resolved",
                 f"participant:{alert.participant_id}", {"alert_id": alert.id})  # fmt: skip
    return True


async def visible_to(session: AsyncSession, counselor: Counselor) -> list[Alert]:
    """Open and acknowledged alerts this counselor may see, most urgent first."""
    statement = select(Alert).where(Alert.status.in_(ACTIVE))
    if not counselor.is_admin:
        statement = statement.where(Alert.counselor_id == counselor.id)
    rows = list((await session.scalars(statement)).all())
    return sorted(rows, key=lambda a: (a.status != "open", -_rank(a.level), a.created_at))


async def due_for_escalation(
    session: AsyncSession, now: datetime, timeouts: dict[str, timedelta]
) -> list[Alert]:
    rows = await session.scalars(select(Alert).where(Alert.status == "open"))
    return [
        a for a in rows.all() if (a.last_notified_at or a.created_at) + timeouts[a.level] <= now
    ]


async def raised_since(
    session: AsyncSession, participant_id: int, cause: str, since: datetime
) -> bool:
    """Whether an alert with this cause was raised for the participant at or after `since`."""
    found = await session.scalar(
        select(Alert.id)
        .where(
            Alert.participant_id == participant_id,
            Alert.cause == cause,
            Alert.created_at >= since,
        )
        .limit(1)
    )
    return found is not None
