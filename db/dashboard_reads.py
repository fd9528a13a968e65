"""What the dashboard's pages read: named queries, each scoped by who is asking where it shows
people. The pages never build SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import alerts as alert_db
from db.models import (
    Alert,
    AlertNotification,
    Answer,
    CheckIn,
    Counselor,
    OutboxMessage,
    Participant,
)
from messages.figures import AlertRow, CaseloadEntry, CheckinRow, EnrollmentRow, ProgramRows

Series = list[tuple[CheckIn, dict[str, str]]]


async def visible_participant(
    session: AsyncSession, counselor: Counselor, participant_id: int
) -> Participant | None:
    """A participant this counselor may see (their own, or anyone for an admin); None for
    anyone else, a deleted participant, or no such id. The pages answer None with 404."""
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.telegram_user_id is None:
        return None
    if not counselor.is_admin and participant.counselor_id != counselor.id:
        return None
    return participant


async def checkins_between(
    session: AsyncSession, participant_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, Series]:
    """Each participant's answered, missed or open check-ins with slots in [since, until),
    oldest first, with their answers: two queries for the whole caseload."""
    found: dict[int, Series] = {pid: [] for pid in participant_ids}
    if not participant_ids:
        return found
    checkins = list(
        (
            await session.scalars(
                select(CheckIn)
                .where(
                    CheckIn.participant_id.in_(list(participant_ids)),
                    CheckIn.slot_at >= since,
                    CheckIn.slot_at < until,
                    CheckIn.status.in_(("completed", "missed", "sent")),
                )
                .order_by(CheckIn.slot_at)
            )
        ).all()
    )
    answers: dict[int, dict[str, str]] = {c.id: {} for c in checkins}
    if checkins:
        rows = await session.execute(
            select(Answer.checkin_id, Answer.question_key, Answer.value).where(
                Answer.checkin_id.in_(list(answers))
            )
        )
        for checkin_id, key, value in rows:
            answers[checkin_id][key] = value
    for checkin in checkins:
        found[checkin.participant_id].append((checkin, answers[checkin.id]))
    return found


async def last_answered(
    session: AsyncSession, participant_ids: Sequence[int]
) -> dict[int, datetime]:
    """When each participant last answered a check-in (those who never did are absent)."""
    if not participant_ids:
        return {}
    rows = await session.execute(
        select(CheckIn.participant_id, func.max(CheckIn.completed_at))
        .where(CheckIn.participant_id.in_(list(participant_ids)), CheckIn.completed_at.is_not(None))
        .group_by(CheckIn.participant_id)
    )
    return {pid: at for pid, at in rows if at is not None}


async def open_levels(
    session: AsyncSession, participant_ids: Sequence[int]
) -> dict[int, list[str]]:
    """The levels of each participant's open or acknowledged alerts."""
    found: dict[int, list[str]] = {}
    if participant_ids:
        rows = await session.execute(
            select(Alert.participant_id, Alert.level).where(
                Alert.participant_id.in_(list(participant_ids)),
                Alert.status.in_(alert_db.ACTIVE),
            )
        )
        for pid, level in rows:
            found.setdefault(pid, []).append(level)
    return found


@dataclass(frozen=True)
class Told:
    """One message of an alert's chain, as the inbox shows it."""

    recipient: str  # a counselor's name, or "team group"
    reason: str
    at: datetime
    delivered: bool


@dataclass(frozen=True)
class InboxItem:
    alert: Alert
    participant: Participant
    told: list[Told]
    acknowledged_by: str | None


async def inbox(session: AsyncSession, counselor: Counselor) -> list[InboxItem]:
    """Open and acknowledged alerts this counselor may act on, most urgent first, with who was
    told and whether it reached them."""
    alerts = await alert_db.visible_to(session, counselor)
    return await _items(session, alerts)


async def inbox_item(session: AsyncSession, alert: Alert) -> InboxItem:
    return (await _items(session, [alert]))[0]


async def _items(session: AsyncSession, alerts: Sequence[Alert]) -> list[InboxItem]:
    if not alerts:
        return []
    ids = [a.id for a in alerts]
    participants = {
        p.id: p
        for p in await session.scalars(
            select(Participant).where(Participant.id.in_({a.participant_id for a in alerts}))
        )
    }
    chain = list(
        (
            await session.scalars(
                select(AlertNotification)
                .where(AlertNotification.alert_id.in_(ids))
                .order_by(AlertNotification.id)
            )
        ).all()
    )
    outbox_ids = [n.outbox_id for n in chain if n.outbox_id is not None]
    sent = set()
    if outbox_ids:
        sent = set(
            await session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == "sent"
                )
            )
        )
    names = {c.id: c.name for c in await session.scalars(select(Counselor))}

    def who(recipient: str) -> str:
        kind, _, number = recipient.partition(":")
        if kind == "counselor" and number.isdigit():
            return names.get(int(number), recipient)
        return "team group" if kind == "team" else recipient

    return [
        InboxItem(
            alert=alert,
            participant=participants[alert.participant_id],
            told=[
                Told(who(n.recipient), n.reason, n.created_at, n.outbox_id in sent)
                for n in chain
                if n.alert_id == alert.id
            ],
            acknowledged_by=names.get(alert.acknowledged_by) if alert.acknowledged_by else None,
        )
        for alert in alerts
    ]


async def counselor_messages(session: AsyncSession, alert_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of every message of this alert sent to a counselor: what the
    dashboard edits when the alert is acknowledged or resolved there."""
    rows = await session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.telegram_message_id)
        .join(AlertNotification, AlertNotification.outbox_id == OutboxMessage.id)
        .where(
            AlertNotification.alert_id == alert_id,
            AlertNotification.recipient.like("counselor:%"),
            OutboxMessage.telegram_message_id.is_not(None),
        )
        .order_by(OutboxMessage.id)
    )
    return [(chat_id, message_id) for chat_id, message_id in rows if message_id is not None]


async def program_rows(session: AsyncSession, now: datetime) -> ProgramRows:
    """The plain rows every program figure is computed from (admins only)."""
    since = now - timedelta(days=31)
    checkins = [
        CheckinRow(pid, slot, status)
        for pid, slot, status in await session.execute(
            select(CheckIn.participant_id, CheckIn.slot_at, CheckIn.status).where(
                CheckIn.slot_at >= since
            )
        )
    ]
    answered: dict[int, list[datetime]] = {}
    for pid, at in await session.execute(
        select(CheckIn.participant_id, CheckIn.completed_at).where(
            CheckIn.completed_at.is_not(None)
        )
    ):
        if at is not None:  # as the WHERE says
            answered.setdefault(pid, []).append(at)
    participants = list(
        (
            await session.scalars(
                select(Participant).where(Participant.telegram_user_id.is_not(None))
            )
        ).all()
    )
    enrollments = [
        EnrollmentRow(p.id, p.activated_at, tuple(answered.get(p.id, ())))
        for p in participants
        if p.activated_at is not None
    ]
    alerts = [
        AlertRow(a.id, a.participant_id, a.level, a.status, a.created_at, a.acknowledged_at)
        for a in await session.scalars(select(Alert).order_by(Alert.id))
    ]
    names = {c.id: c.name for c in await session.scalars(select(Counselor))}
    caseload = [
        CaseloadEntry(names.get(p.counselor_id, "") if p.counselor_id else "", p.status)
        for p in participants
    ]
    return ProgramRows(checkins, enrollments, alerts, caseload)
