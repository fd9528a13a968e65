"""Redeeming a deep-link token: one unit of work that registers a counselor or a participant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import audit, invites, people
from db.models import Consent, Participant

Result = Literal[
    "invalid",
    "counselor_created",
    "counselor_already",
    "participant_created",
    "participant_already",
    "counselor_cannot_enroll",
    "participant_cannot_be_counselor",
    "contact_offered",
]


@dataclass(frozen=True)
class Redemption:
    result: Result
    name: str = ""
    participant: Participant | None = None
    consent: Consent | None = None


async def redeem(
    session: AsyncSession,
    token: str,
    telegram_id: int,
    chat_id: int,
    first_name: str,
    now: datetime,
) -> Redemption:
    """Use an invite token. Anything but a fresh, unused token changes nothing."""
    invite = await invites.find_usable(session, token, now)
    if invite is None:
        return Redemption("invalid")
    counselor = await people.counselor_by_telegram(session, telegram_id)
    participant = await people.participant_by_telegram(session, telegram_id)

    if invite.kind in ("counselor", "admin"):
        if counselor is not None:
            return Redemption("counselor_already", counselor.name)
        if participant is not None:
            return Redemption("participant_cannot_be_counselor")
        if not await invites.consume(session, invite, now, telegram_id):
            return Redemption("invalid")
        name = invite.label or first_name
        counselor = await people.add_counselor(
            session, telegram_id, name, now, is_admin=invite.kind == "admin"
        )
        subject = f"counselor:{counselor.id}"
        audit.record(
            session, now, subject, "counselor_registered", subject, {"invite_id": invite.id}
        )
        return Redemption("counselor_created", name)

    if invite.kind == "participant":
        if counselor is not None:
            return Redemption("counselor_cannot_enroll")
        if participant is not None:
            return Redemption("participant_already", participant.first_name or "", participant)
        if not await invites.consume(session, invite, now, telegram_id):
            return Redemption("invalid")
        participant = await people.add_participant(
            session, telegram_id, chat_id, first_name, invite.created_by_counselor_id, now
        )
        details = {"invite_id": invite.id, "counselor_id": invite.created_by_counselor_id}
        subject = f"participant:{participant.id}"
        audit.record(session, now, subject, "enrollment_started", subject, details)
        return Redemption("participant_created", first_name, participant)

    if invite.kind == "contact":
        consent = await session.scalar(select(Consent).where(Consent.invite_id == invite.id))
        own = (
            participant is not None
            and consent is not None
            and consent.participant_id == participant.id
        )
        if consent is None or consent.status != "offered" or own:
            return Redemption("invalid")
        if not await invites.consume(session, invite, now, telegram_id):
            return Redemption("invalid")
        return Redemption("contact_offered", first_name, consent=consent)

    return Redemption("invalid")
