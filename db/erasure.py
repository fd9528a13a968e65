"""Erasing a participant's data (/deleteme) and purging what is past its retention.

Both work in the caller's transaction, with set-based statements. What stays after /deleteme is
an anonymous tombstone: the participants row (number, counselor, status "deleted", when it was
created and deleted), their alerts without reasons or notes, each alert's chain of who was
told and when (the outbox rows with their text emptied), the disclosure log without its
recipient, consents marked revoked without the contact, and the audit log, which never holds
names or Telegram ids. README "Privacy and data" gives the reasons.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import awaiting
from db.alerts import ACTIVE
from db.models import (
    Alert,
    AlertNotification,
    Answer,
    Awaiting,
    CheckIn,
    Consent,
    Conversation,
    Disclosure,
    InboundUpdate,
    Invite,
    Medication,
    MedicationDose,
    MeetingAttendance,
    Note,
    OutboxMessage,
    Participant,
    ParticipantMeeting,
    RecoveryPlan,
)
from db.records import sender_of
from db.sql import changed

ERASED = "erased: the participant deleted their data"
FINISHED = ("sent", "failed", "skipped")
# How long /deleteme's buttons work; after that, /deleteme again.
CONFIRM_WINDOW = timedelta(minutes=15)


# --- the two-step request -----------------------------------------------------------------------


def ask(participant: Participant, step: str, nonce: str, now: datetime) -> None:
    """Remember which question /deleteme's newest buttons answer (first | final)."""
    participant.erasure_step, participant.erasure_nonce = step, nonce
    participant.erasure_asked_at = now


def asked(participant: Participant, step: str, nonce: str, now: datetime) -> bool:
    """Whether a press with this nonce answers the question asked last, within the window."""
    stored, at = participant.erasure_nonce, participant.erasure_asked_at
    return (
        participant.erasure_step == step
        and stored is not None
        and hmac.compare_digest(stored.encode(), nonce.encode())
        and at is not None
        and now - at <= CONFIRM_WINDOW
    )


def forget_request(participant: Participant) -> None:
    participant.erasure_step = participant.erasure_nonce = participant.erasure_asked_at = None


# --- erasure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erased:
    alerts_closed: int
    checkins: int
    notes: int


def _needles(participant: Participant, labels: Iterable[str | None]) -> list[str]:
    """How their name and Telegram id can appear in stored JSON text (as typed, and as
    json.dumps writes non-ASCII)."""
    found: set[str] = set()
    if participant.telegram_user_id is not None:
        found.add(str(participant.telegram_user_id))
    for name in (participant.first_name, *labels):
        if name and name.strip():
            found.add(name.strip())
            found.add(json.dumps(name.strip())[1:-1])
    return sorted(found)


async def _alert_chain_outbox(session: AsyncSession, participant_id: int) -> list[int]:
    rows = await session.scalars(
        select(AlertNotification.outbox_id)
        .join(Alert, AlertNotification.alert_id == Alert.id)
        .where(Alert.participant_id == participant_id, AlertNotification.outbox_id.is_not(None))
    )
    return [outbox_id for outbox_id in rows if outbox_id is not None]  # as the WHERE says


async def _scrub_inbound(
    session: AsyncSession, participant: Participant, needles: list[str], now: datetime
) -> None:
    """Updates that name them (their own, and counselors' and contacts' that quote their name,
    e.g. a press on an alert message) keep only their update_id, which still stops a duplicate
    delivery being handled twice. Someone else's update not yet handled is left alone."""
    if not needles:
        return
    text = cast(InboundUpdate.payload, Text)
    rows = await session.scalars(
        select(InboundUpdate).where(or_(*(text.icontains(n, autoescape=True) for n in needles)))
    )
    for row in rows.all():
        theirs = sender_of(row.payload) == participant.telegram_user_id
        if row.processed_at is None and not theirs:
            continue
        row.payload = {}
        row.processed_at = row.processed_at or now


async def _delete_activity(
    session: AsyncSession, participant_ids: list[int], before: datetime | None
) -> tuple[int, int]:
    """Check-ins with their answers, notes, meeting attendance and medication doses of these
    participants (only those created before `before`, when given). Returns (check-ins, notes)."""

    def mine(owner, created) -> list:
        return [owner.in_(participant_ids)] + ([created < before] if before is not None else [])

    checkins = select(CheckIn.id).where(*mine(CheckIn.participant_id, CheckIn.created_at))
    notes = await changed(session, delete(Note).where(*mine(Note.participant_id, Note.created_at)))
    # Rows pointing at those check-ins first, so nothing depends on the database's cascades.
    await session.execute(update(Note).where(Note.checkin_id.in_(checkins)).values(checkin_id=None))
    await session.execute(
        update(Alert).where(Alert.checkin_id.in_(checkins)).values(checkin_id=None)
    )
    await session.execute(delete(OutboxMessage).where(OutboxMessage.checkin_id.in_(checkins)))
    await session.execute(delete(Answer).where(Answer.checkin_id.in_(checkins)))
    gone = await changed(session, delete(CheckIn).where(CheckIn.id.in_(checkins)))
    await session.execute(
        delete(MeetingAttendance).where(
            *mine(MeetingAttendance.participant_id, MeetingAttendance.asked_at)
        )
    )
    await session.execute(
        delete(MedicationDose).where(
            *mine(MedicationDose.participant_id, MedicationDose.created_at)
        )
    )
    return gone, notes


async def _delete_current(session: AsyncSession, participant_ids) -> None:
    """What they keep up to date rather than accumulate: meetings, plan, medications, a set-up
    in progress."""
    await session.execute(
        delete(MeetingAttendance).where(MeetingAttendance.participant_id.in_(participant_ids))
    )
    await session.execute(
        delete(ParticipantMeeting).where(ParticipantMeeting.participant_id.in_(participant_ids))
    )
    await session.execute(
        delete(MedicationDose).where(MedicationDose.participant_id.in_(participant_ids))
    )
    await session.execute(delete(Medication).where(Medication.participant_id.in_(participant_ids)))
    await session.execute(
        delete(RecoveryPlan).where(RecoveryPlan.participant_id.in_(participant_ids))
    )
    await session.execute(
        delete(Conversation).where(Conversation.participant_id.in_(participant_ids))
    )


async def erase_participant(
    session: AsyncSession, participant: Participant, now: datetime
) -> Erased:
    """Everything personal about one participant goes; the tombstone stays (module docstring).
    Live consents must be revoked (and their contacts told) before this: it forgets who the
    contacts were."""
    pid = participant.id
    consents = list(
        (await session.scalars(select(Consent).where(Consent.participant_id == pid))).all()
    )
    invite_ids = [c.invite_id for c in consents if c.invite_id is not None]
    own_invites = []
    if participant.telegram_user_id is not None:
        own_invites = list(
            (
                await session.scalars(
                    select(Invite).where(
                        Invite.kind == "participant",
                        Invite.used_by_telegram_id == participant.telegram_user_id,
                    )
                )
            ).all()
        )
    needles = _needles(participant, [i.label for i in own_invites])

    # Alerts: open ones close (nobody can act on them now), all lose their words.
    alerts = list((await session.scalars(select(Alert).where(Alert.participant_id == pid))).all())
    closed = 0
    for alert in alerts:
        if alert.status in ACTIVE:
            alert.status, closed = "closed", closed + 1
        alert.reasons, alert.resolution_note = [], None
    # A counselor about to write a resolution note for one of them writes it to no one now.
    await session.execute(
        delete(Awaiting).where(
            Awaiting.kind == awaiting.RESOLUTION, Awaiting.ref_id.in_([a.id for a in alerts])
        )
    )
    # And what the participant was asked is gone with them.
    if participant.telegram_user_id is not None:
        await awaiting.clear(session, participant.telegram_user_id)

    # The outbox: an alert's chain keeps its rows (who was told, when, delivered or not)
    # without their text; every other message to or about them goes.
    chain = await _alert_chain_outbox(session, pid)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(chain), OutboxMessage.status.not_in(FINISHED))
        .values(status="skipped", last_error=ERASED)
    )
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(chain)).values(payload={})
    )
    await session.execute(
        delete(OutboxMessage).where(
            or_(OutboxMessage.participant_id == pid, OutboxMessage.about_participant_id == pid),
            OutboxMessage.id.not_in(chain),
        )
    )

    checkins, notes = await _delete_activity(session, [pid], None)
    await _delete_current(session, [pid])

    # Consents and disclosures stay as a record; who the contact was does not.
    for consent in consents:
        if consent.status in ("offered", "accepted"):
            consent.status, consent.revoked_at = "revoked", consent.revoked_at or now
            consent.revoked_by = consent.revoked_by or "participant"
        consent.recipient_telegram_id, consent.recipient_name = None, None
    await session.execute(
        update(Disclosure)
        .where(Disclosure.consent_id.in_([c.id for c in consents]))
        .values(recipient_telegram_id=None)
    )
    # Links: their own enrollment link and their contacts' links forget names and users, and
    # an unused contact link stops working. A counselor's label with their name goes too.
    for invite in own_invites:
        invite.label, invite.used_by_telegram_id = None, None
    contact_invites = await session.scalars(select(Invite).where(Invite.id.in_(invite_ids)))
    for invite in contact_invites.all():
        invite.label, invite.used_by_telegram_id = None, None
        invite.expires_at = min(invite.expires_at, now)
    names = [n.casefold() for n in needles if not n.isdigit()]
    if names and participant.counselor_id is not None:
        await session.execute(
            update(Invite)
            .where(
                Invite.created_by_counselor_id == participant.counselor_id,
                func.lower(Invite.label).in_(names),
            )
            .values(label=None)
        )

    await _scrub_inbound(session, participant, needles, now)
    _tombstone(participant, now)
    return Erased(alerts_closed=closed, checkins=checkins, notes=notes)


def _tombstone(participant: Participant, now: datetime) -> None:
    """The row stays for the alerts and audit entries that point at it; nothing about who."""
    keep = {"id", "counselor_id", "created_at", "status", "deleted_at"}
    for column in Participant.__table__.columns:
        if column.key not in keep and column.nullable:
            setattr(participant, column.key, None)
    participant.status, participant.deleted_at = "deleted", now
    participant.language, participant.checkins_started, participant.last_milestone = "en", 0, 0


# --- retention --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    participants: int  # discharged past the retention period
    checkins: int
    notes: int
    alerts: int  # alerts that lost their reasons and note


async def purge_discharged(session: AsyncSession, cutoff: datetime) -> Purged:
    """For participants discharged before `cutoff`: records created before it go (everything
    from their time in aftercare, and later notes once they are as old), with their meetings,
    plan and medications; their alerts lose their words. Idempotent."""
    past = select(Participant.id).where(
        Participant.status == "discharged", Participant.discharged_at < cutoff
    )
    ids = list((await session.scalars(past)).all())
    if not ids:
        return Purged(0, 0, 0, 0)
    checkins, notes = await _delete_activity(session, ids, cutoff)
    await _delete_current(session, ids)
    words = await changed(
        session,
        update(Alert)
        .where(
            Alert.participant_id.in_(ids),
            Alert.created_at < cutoff,
            or_(Alert.resolution_note.is_not(None), cast(Alert.reasons, Text) != "[]"),
        )
        .values(reasons=[], resolution_note=None),
    )
    return Purged(len(ids), checkins, notes, words)


async def purge_messages(session: AsyncSession, cutoff: datetime) -> tuple[int, int]:
    """Raw updates handled before `cutoff` go (Telegram never sends one again after a day);
    messages sent (or given up on) before it keep their row but lose their text."""
    handled = delete(InboundUpdate).where(InboundUpdate.processed_at < cutoff)
    inbound = await changed(session, handled)
    sent = await changed(
        session,
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(FINISHED),
            OutboxMessage.created_at < cutoff,
            cast(OutboxMessage.payload, Text) != "{}",
        )
        .values(payload={}),
    )
    return inbound, sent
