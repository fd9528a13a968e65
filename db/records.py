"""Everything stored about one participant, loaded in one place: what /mydata exports and what
/deleteme and the retention sweep must reach. A new table that holds a participant's data
belongs here (and in db/erasure.py), or the export and the deletion test will miss it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Alert,
    AlertNotification,
    Answer,
    AuditEvent,
    CheckIn,
    Consent,
    Conversation,
    Counselor,
    Disclosure,
    InboundUpdate,
    Medication,
    MedicationDose,
    MeetingAttendance,
    Note,
    OutboxMessage,
    Participant,
    ParticipantMeeting,
    RecoveryPlan,
)


@dataclass(frozen=True)
class Delivery:
    """What became of one outbox message (an alert's or a disclosure's)."""

    status: str
    sent_at: Any


@dataclass(frozen=True)
class ParticipantRecords:
    participant: Participant
    counselors: dict[int, Counselor]  # everyone named: their counselor, who acknowledged...
    checkins: list[CheckIn]
    answers: list[Answer]
    notes: list[Note]
    alerts: list[Alert]
    notifications: list[AlertNotification]
    consents: list[Consent]
    disclosures: list[Disclosure]
    deliveries: dict[int, Delivery]  # by outbox id, for notifications and disclosures
    meetings: list[ParticipantMeeting]
    attendance: list[MeetingAttendance]
    plan: RecoveryPlan | None
    medications: list[Medication]
    doses: list[MedicationDose]
    conversation: Conversation | None
    audit: list[AuditEvent]  # events whose subject is this participant
    updates: list[InboundUpdate]  # raw Telegram updates from them, still held


def sender_of(payload: dict[str, Any]) -> int | None:
    """The Telegram user an update came from (every kind we receive names one in `from`)."""
    for key, value in payload.items():
        if key != "update_id" and isinstance(value, dict):
            sender = value.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return sender["id"]
    return None


async def updates_from(session: AsyncSession, telegram_id: int) -> list[InboundUpdate]:
    """Stored updates this Telegram user sent. The text match narrows the scan; the sender
    check decides (an id's digits can appear inside other numbers)."""
    rows = await session.scalars(
        select(InboundUpdate)
        .where(cast(InboundUpdate.payload, Text).contains(str(telegram_id)))
        .order_by(InboundUpdate.update_id)
    )
    return [row for row in rows.all() if sender_of(row.payload) == telegram_id]


async def _all(session: AsyncSession, statement) -> list:
    return list((await session.scalars(statement)).all())


async def load(session: AsyncSession, participant: Participant) -> ParticipantRecords:
    pid = participant.id
    checkins = await _all(
        session, select(CheckIn).where(CheckIn.participant_id == pid).order_by(CheckIn.slot_at)
    )
    answers = await _all(
        session,
        select(Answer)
        .join(CheckIn, Answer.checkin_id == CheckIn.id)
        .where(CheckIn.participant_id == pid)
        .order_by(Answer.answered_at, Answer.id),
    )
    alerts = await _all(
        session, select(Alert).where(Alert.participant_id == pid).order_by(Alert.id)
    )
    notifications = await _all(
        session,
        select(AlertNotification)
        .join(Alert, AlertNotification.alert_id == Alert.id)
        .where(Alert.participant_id == pid)
        .order_by(AlertNotification.id),
    )
    consents = await _all(
        session, select(Consent).where(Consent.participant_id == pid).order_by(Consent.id)
    )
    disclosures = await _all(
        session,
        select(Disclosure)
        .join(Consent, Disclosure.consent_id == Consent.id)
        .where(Consent.participant_id == pid)
        .order_by(Disclosure.id),
    )
    outbox_ids = {n.outbox_id for n in notifications} | {d.outbox_id for d in disclosures}
    outbox_ids.discard(None)
    deliveries = {
        row.id: Delivery(row.status, row.sent_at)
        for row in await _all(
            session, select(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids))
        )
    }
    audit = await _audit(session, pid)
    named = {
        participant.counselor_id,
        *(a.acknowledged_by for a in alerts),
        *(a.resolved_by for a in alerts),
        *(_counselor_id(n.recipient) for n in notifications),
        *(_counselor_id(e.actor) for e in audit),
    }
    named.discard(None)
    counselors = {
        c.id: c for c in await _all(session, select(Counselor).where(Counselor.id.in_(named)))
    }
    meetings = await _all(
        session,
        select(ParticipantMeeting)
        .where(ParticipantMeeting.participant_id == pid)
        .order_by(ParticipantMeeting.id),
    )
    attendance = await _all(
        session,
        select(MeetingAttendance)
        .where(MeetingAttendance.participant_id == pid)
        .order_by(MeetingAttendance.occurrence_at, MeetingAttendance.id),
    )
    medications = await _all(
        session, select(Medication).where(Medication.participant_id == pid).order_by(Medication.id)
    )
    doses = await _all(
        session,
        select(MedicationDose)
        .where(MedicationDose.participant_id == pid)
        .order_by(MedicationDose.due_at, MedicationDose.id),
    )
    telegram_id = participant.telegram_user_id
    return ParticipantRecords(
        participant=participant,
        counselors=counselors,
        checkins=checkins,
        answers=answers,
        notes=await _all(
            session, select(Note).where(Note.participant_id == pid).order_by(Note.created_at)
        ),
        alerts=alerts,
        notifications=notifications,
        consents=consents,
        disclosures=disclosures,
        deliveries=deliveries,
        meetings=meetings,
        attendance=attendance,
        plan=await session.scalar(select(RecoveryPlan).where(RecoveryPlan.participant_id == pid)),
        medications=medications,
        doses=doses,
        conversation=await session.get(Conversation, pid),
        audit=audit,
        updates=[] if telegram_id is None else await updates_from(session, telegram_id),
    )


def _counselor_id(who: str) -> int | None:
    """3 for "counselor:3" (an audit actor or a notification's recipient), else None."""
    kind, _, number = who.partition(":")
    return int(number) if kind == "counselor" and number.isdigit() else None


async def _audit(session: AsyncSession, participant_id: int) -> list[AuditEvent]:
    return await _all(
        session,
        select(AuditEvent)
        .where(AuditEvent.subject == f"participant:{participant_id}")
        .order_by(AuditEvent.id),
    )
