"""Support contacts, both sides: the participant's /contact (the offer, its consent and the
contact's link, removal) and the contact's answer, language and /stop. A contact only ever gets
the minimal message (scheduler/alerting)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from care import choices, safety
from care.links import deep_link
from care.reply import Reply
from care.services import Services
from db import audit, awaiting, invites, outbox
from db import contacts as contact_db
from db.models import Consent, Participant
from db.sql import session_of
from delivery.priority import Priority
from messages import render
from messages.callback_data import (
    ContactAnswerButton,
    ContactLanguageButton,
    ContactOfferButton,
)
from messages.catalog import Catalog
from messages.render import Markup, Rendered, fill

LEVELS = {"h": ["high", "crisis"], "c": ["crisis"]}


def _levels_text(catalog: Catalog, levels: list[str]) -> str:
    key = "levels_high" if "high" in levels else "levels_crisis"
    return catalog.text("contact", key)


def _participant_catalog(services: Services, participant: Participant) -> Catalog:
    return services.speaking(participant.language).catalog


async def _contact_catalog(
    session: AsyncSession, services: Services, consent: Consent, participant: Participant
) -> Catalog:
    """What a support contact reads: the language they chose, else the participant's."""
    language = await contact_db.language_of(session, consent.recipient_telegram_id,
                                            participant.language)  # fmt: skip
    return services.speaking(language).catalog


async def _tell(
    session: AsyncSession, chat_id: int | None, text: str, key: str, now, about: int
) -> None:
    """A message for someone other than the sender goes through the outbox; `about` is the
    participant whose consent it concerns. No chat: they deleted their data, no one to tell."""
    if chat_id is None:
        return
    await outbox.enqueue(
        session, key, chat_id, Rendered(text).payload(), Priority.REPLY, now,
        about_participant_id=about,
    )  # fmt: skip


# --- the participant's side -------------------------------------------------------------------


async def command(
    services: Services, session: AsyncSession, participant: Participant, remove: bool
) -> Rendered | str:
    """/contact: the question when they have no contact, else where it stands; /contact
    remove: the consent revoked."""
    texts = services.catalog.texts["contact"]
    consent = await contact_db.current(session, participant.id, services.now())
    if remove:
        return await _remove(session, services, participant, consent)
    if consent is None:
        return offer_question(services, participant)
    if consent.status == "offered":
        return texts["pending"]
    levels = _levels_text(services.catalog, consent.levels)
    return fill(texts["status"], contact=consent.recipient_name, levels=levels)


def offer_question(services: Services, participant: Participant) -> Rendered:
    """When should a support contact hear from us? Typed answers work too (offer_text)."""
    texts = services.catalog.texts["contact"]
    awaiting.asking(session_of(participant), awaiting.CONTACT_OFFER, services.now())
    explain = fill(texts["explain"], name=participant.first_name or "")
    return Rendered(explain, tuple((button,) for button in _offer_buttons(services)))


def _offer_buttons(services: Services) -> list[tuple[str, ContactOfferButton]]:
    texts = services.catalog.texts["contact"]
    return [
        (texts["button_high"], ContactOfferButton("h")),
        (texts["button_crisis"], ContactOfferButton("c")),
        (texts["button_no"], ContactOfferButton("n")),
    ]


async def _remove(
    session: AsyncSession, services: Services, participant: Participant, consent: Consent | None
) -> str:
    texts, now = services.catalog.texts["contact"], services.now()
    if consent is None:
        return texts["removed_none"]
    was_accepted = consent.status == "accepted"
    contact_db.revoke(session, consent, "participant", now)
    if was_accepted and consent.recipient_telegram_id:
        theirs = await _contact_catalog(session, services, consent, participant)
        stopped = fill(theirs.text("contact", "stopped_contact"), name=participant.first_name or "")
        await _tell(session, consent.recipient_telegram_id, stopped,
                    f"consent:{consent.id}:revoked:contact", now, participant.id)  # fmt: skip
        contact_db.log_message(session, consent, "stopped", now)
    return texts["removed"]


async def offer_text(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    typed: str,
    bot_username: str,
) -> Reply | None:
    """The /contact question answered in words: a button's label (or a part of it), its
    number, or no. Anything else brings the question back with a hint."""
    if await contact_db.current(session, participant.id, services.now()) is not None:
        awaiting.answered(session, awaiting.CONTACT_OFFER)
        return None  # they have a contact by now: the question no longer stands
    question = offer_question(services, participant)
    read = choices.read(services.catalog, typed, question, no=ContactOfferButton("n"))
    if read.button is None:
        return await safety.not_an_answer(session, services, participant, typed, read.again)
    message = await consent_and_link(session, services, participant, read.button.levels,
                                     bot_username)  # fmt: skip
    return Reply([message or services.catalog.text("general", "expired_button")])


async def consent_and_link(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    levels: str,
    bot_username: str,
) -> str | None:
    """Their choice (h, c or n): the consent and the contact's link; None when it no longer
    applies (they are enrolling, or already have a contact)."""
    texts, now = services.catalog.texts["contact"], services.now()
    if participant.status == "enrolling":
        return None
    if await contact_db.current(session, participant.id, now) is not None:
        return None
    awaiting.answered(session, awaiting.CONTACT_OFFER)
    if levels == "n":
        return texts["not_now"]
    ttl = timedelta(days=services.settings.participant_invite_ttl_days)
    token, invite = await invites.create_invite(
        session, "contact", now, ttl, label=participant.first_name
    )
    consent = Consent(
        participant_id=participant.id,
        kind=contact_db.KIND,
        status="offered",
        shares=list(contact_db.SHARES),
        levels=LEVELS[levels],
        purpose=texts["purpose"],
        text_version=texts["version"],
        invite_id=invite.id,
        given_at=now,
        expires_at=now + timedelta(days=int(texts["ttl_days"])),
    )
    session.add(consent)
    await session.flush()
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, "consent_given", subject,
                 {"consent_id": consent.id, "levels": consent.levels})  # fmt: skip
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    expires = render.stamp(services.catalog, invite.expires_at.astimezone(zone))
    return fill(texts["link"], expires=expires, link=deep_link(bot_username, token))


# --- the contact's side -----------------------------------------------------------------------


async def offer_to_contact(
    session: AsyncSession, services: Services, consent: Consent, user_id: int, name: str
) -> Rendered:
    """The contact opened the link: note who they are, then ask (nothing is shared yet)."""
    participant = await session.get_one(Participant, consent.participant_id)
    consent.recipient_telegram_id, consent.recipient_name = user_id, name
    contact_db.log_message(session, consent, "offer", services.now())
    awaiting.serving(session, user_id)
    awaiting.asking(session, awaiting.CONTACT_ANSWER, services.now(), consent.id)
    catalog = await _contact_catalog(session, services, consent, participant)
    return _offer(services, catalog, consent, participant)


def _offer(
    services: Services, catalog: Catalog, consent: Consent, participant: Participant
) -> Rendered:
    """The question to the contact, in `catalog`'s language, with a row to switch language."""
    texts = catalog.texts["contact"]
    buttons = (
        (texts["accept"], ContactAnswerButton(consent.id, True)),
        (texts["decline"], ContactAnswerButton(consent.id, False)),
    )
    switch = tuple((f"🌐 {own}", ContactLanguageButton(consent.id, code))
                   for code, own in services.catalogs.others(catalog.locale))  # fmt: skip
    offer = fill(texts["offer"], contact=consent.recipient_name or "",
                 name=participant.first_name or "")  # fmt: skip
    return Rendered(offer, (buttons, switch) if switch else (buttons,))


async def switch_language(
    session: AsyncSession, services: Services, consent: Consent | None, user_id: int, locale: str
) -> Rendered | Markup | None:
    """The invited contact's language: the offer again in it (or that it is saved); None when
    the consent is not theirs or the language is not one we have."""
    if consent is None or consent.recipient_telegram_id != user_id:
        return None
    if locale not in services.catalogs.by_locale:
        return None
    await contact_db.choose_language(session, user_id, locale)
    participant = await session.get_one(Participant, consent.participant_id)
    catalog = services.speaking(locale).catalog
    if consent.status == "offered" and consent.expires_at > services.now():
        return _offer(services, catalog, consent, participant)
    return fill(catalog.text("settings", "saved_language"), language=catalog.language_name)


async def answer(
    session: AsyncSession, services: Services, consent: Consent | None, user_id: int, accept: bool
) -> str | None:
    """The contact accepts or declines (the participant is told through the outbox); None when
    the offer is not theirs or no longer open."""
    now = services.now()
    mine = consent is not None and consent.recipient_telegram_id == user_id
    if consent is None or not (mine and consent.status == "offered" and consent.expires_at > now):
        return None
    awaiting.serving(session, user_id)
    awaiting.answered(session, awaiting.CONTACT_ANSWER, consent.id)
    participant = await session.get_one(Participant, consent.participant_id)
    texts = (await _contact_catalog(session, services, consent, participant)).texts["contact"]
    theirs = _participant_catalog(services, participant).texts["contact"]
    name = participant.first_name or ""
    subject = f"participant:{participant.id}"
    if accept:
        consent.status, consent.accepted_at = "accepted", now
        message = fill(texts["accepted_contact"], name=name)
        levels = _levels_text(_participant_catalog(services, participant), consent.levels)
        notice = fill(theirs["accepted_participant"], contact=consent.recipient_name,
                      levels=levels)  # fmt: skip
        audit.record(session, now, contact_db.contact_ref(consent), "consent_accepted",
                     subject, {"consent_id": consent.id})  # fmt: skip
    else:
        consent.status = "declined"
        message = fill(texts["declined_contact"], name=name)
        notice = fill(theirs["declined_participant"], contact=consent.recipient_name)
        audit.record(session, now, contact_db.contact_ref(consent), "consent_declined",
                     subject, {"consent_id": consent.id})  # fmt: skip
    await _tell(session, participant.chat_id, notice,
                f"consent:{consent.id}:{consent.status}", now, participant.id)  # fmt: skip
    contact_db.log_message(session, consent, consent.status, now)
    return message


async def answer_text(
    session: AsyncSession, services: Services, consent_id: int | None, user_id: int, text: str
) -> Rendered | Markup | str | None:
    """The contact's typed reply to the offer (accept, decline or a language, in words), or the
    offer again; None when it is none of these (a message of theirs: nothing a contact writes
    is kept) or the offer is not theirs or no longer open."""
    consent = await session.get(Consent, consent_id)
    if consent is None or consent.recipient_telegram_id != user_id:
        return None
    if consent.status != "offered":
        return None
    participant = await session.get_one(Participant, consent.participant_id)
    catalog = await _contact_catalog(session, services, consent, participant)
    question = _offer(services, catalog, consent, participant)
    read = choices.read(catalog, text, question,
                        yes=ContactAnswerButton(consent.id, True),
                        no=ContactAnswerButton(consent.id, False))  # fmt: skip
    if read.button is None and len(text.split()) >= safety.NOTE_MIN_WORDS:
        return None
    if isinstance(read.button, ContactLanguageButton):
        return await switch_language(session, services, consent, user_id, read.button.locale)
    if isinstance(read.button, ContactAnswerButton):
        return await answer(session, services, consent, user_id, read.button.accept)
    return read.again


async def stop(session: AsyncSession, services: Services, user_id: int) -> list[str]:
    """/stop from a contact: every consent naming them revoked (each participant told); what
    to say for each (none when they support no one)."""
    now = services.now()
    replies: list[str] = []
    for consent in await contact_db.as_contact(session, user_id, now):
        participant = await session.get_one(Participant, consent.participant_id)
        contact_db.revoke(session, consent, "contact", now)
        texts = (await _contact_catalog(session, services, consent, participant)).texts["contact"]
        replies.append(fill(texts["stopped_contact"], name=participant.first_name or ""))
        contact_db.log_message(session, consent, "stopped", now)
        theirs = _participant_catalog(services, participant).texts["contact"]
        notice = fill(theirs["stopped_participant"], contact=consent.recipient_name)
        await _tell(session, participant.chat_id, notice,
                    f"consent:{consent.id}:revoked:participant", now, participant.id)  # fmt: skip
    return replies
