"""Support-contact consents and the disclosure log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import audit, state
from db.models import Consent, Disclosure

KIND = "support_contact"
SHARES = ["first_name", "check_in_request", "how_to_help"]


def _language_key(telegram_id: int) -> str:
    return f"contact_language:{telegram_id}"


async def language_of(session: AsyncSession, telegram_id: int | None, fallback: str) -> str:
    """The language a support contact chose with the offer's button; until they choose, the
    participant's (`fallback`)."""
    if telegram_id is None:
        return fallback
    return await state.get(session, _language_key(telegram_id)) or fallback


async def choose_language(session: AsyncSession, telegram_id: int, locale: str) -> None:
    await state.put(session, _language_key(telegram_id), locale)


async def current(session: AsyncSession, participant_id: int, now: datetime) -> Consent | None:
    """The participant's consent that is offered or accepted and neither revoked nor expired."""
    return await session.scalar(
        select(Consent)
        .where(
            Consent.participant_id == participant_id,
            Consent.kind == KIND,
            Consent.status.in_(("offered", "accepted")),
            Consent.expires_at > now,
        )
        .order_by(Consent.id.desc())
        .limit(1)
    )


async def live(session: AsyncSession, participant_id: int, now: datetime) -> list[Consent]:
    """Every consent of the participant that is offered or accepted and not expired."""
    rows = await session.scalars(
        select(Consent).where(
            Consent.participant_id == participant_id,
            Consent.status.in_(("offered", "accepted")),
            Consent.expires_at > now,
        )
    )
    return list(rows.all())


async def as_contact(session: AsyncSession, telegram_id: int, now: datetime) -> list[Consent]:
    """Accepted, live consents where this Telegram user is the contact."""
    rows = await session.scalars(
        select(Consent).where(
            Consent.recipient_telegram_id == telegram_id,
            Consent.status == "accepted",
            Consent.expires_at > now,
        )
    )
    return list(rows.all())


async def disclosable(
    session: AsyncSession, participant_id: int, level: str, now: datetime
) -> list[Consent]:
    rows = await session.scalars(
        select(Consent).where(
            Consent.participant_id == participant_id,
            Consent.status == "accepted",
            Consent.expires_at > now,
            Consent.revoked_at.is_(None),
        )
    )
    return [c for c in rows.all() if level in c.levels]


def revoke(session: AsyncSession, consent: Consent, by: str, now: datetime) -> None:
    consent.status = "revoked"
    consent.revoked_at, consent.revoked_by = now, by
    subject = f"participant:{consent.participant_id}"
    # Who exactly: the participant, or the contact (as their other audit entries name them).
    actor = subject if by == "participant" else contact_ref(consent)
    audit.record(session, now, actor, "consent_revoked", subject,
                 {"consent_id": consent.id, "by": by})  # fmt: skip


def log_disclosure(
    session: AsyncSession,
    consent: Consent,
    alert_id: int | None,
    outbox_id: int | None,
    now: datetime,
) -> None:
    session.add(
        Disclosure(
            consent_id=consent.id,
            alert_id=alert_id,
            recipient_telegram_id=consent.recipient_telegram_id,
            outbox_id=outbox_id,
            at=now,
        )
    )
    log_message(session, consent, "check_in_request", now, alert_id=alert_id)


def contact_ref(consent: Consent) -> str:
    """How the audit log names a support contact: by their consent, never their Telegram id,
    so the log (and a participant's /mydata) holds no contact's identity, and erasing the
    consent's recipient details leaves nothing behind."""
    return f"contact:consent:{consent.id}"


def log_message(
    session: AsyncSession,
    consent: Consent,
    message: str,
    now: datetime,
    alert_id: int | None = None,
) -> None:
    """Every message to a support contact names the participant, so each is a disclosure in
    the audit log: which kind of message (never its text), to whom, under which consent."""
    details: dict[str, object] = {
        "consent_id": consent.id,
        "to": contact_ref(consent),
        "message": message,
    }
    if alert_id is not None:
        details["alert_id"] = alert_id
    audit.record(session, now, "bot", "disclosed_to_contact",
                 f"participant:{consent.participant_id}", details)  # fmt: skip
