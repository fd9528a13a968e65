"""Support contacts, both sides: the participant's /contact (consent, link, removal) and the
contact's answer and /stop. A contact only ever gets the minimal message (scheduler/alerting)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import help_text, reader_catalog
from bot.services import services_of
from care import choices, safety
from care.links import deep_link
from care.reply import Reply
from care.services import Services
from db import audit, awaiting, contacts, invites, outbox
from db.awaiting import Asked
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
    language = await contacts.language_of(session, consent.recipient_telegram_id,
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


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/contact: explain and ask; /contact remove: revoke."""
    services = services_of(context)
    now = services.now()
    words = ("remove", "stop", "delete", "quitar", "borrar", "eliminar")
    args = context.args or []
    remove = bool(args) and args[0].lower() in words
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        if participant is None or participant.status == "enrolling":
            message = None
        else:
            services = services.speaking(participant.language)
            texts = services.catalog.texts["contact"]
            consent = await contacts.current(session, participant.id, now)
            if remove:
                message = await _remove(session, services, participant, consent)
            elif consent is None:
                message = offer_question(services, participant)
            elif consent.status == "offered":
                message = texts["pending"]
            else:
                levels = _levels_text(services.catalog, consent.levels)
                message = fill(texts["status"], contact=consent.recipient_name, levels=levels)
    if message is None:  # not a participant, or enrolling: nothing changed about them
        message = await help_text(update, context)
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


async def _remove(session, services: Services, participant: Participant, consent: Consent | None):
    texts, now = services.catalog.texts["contact"], services.now()
    if consent is None:
        return texts["removed_none"]
    was_accepted = consent.status == "accepted"
    contacts.revoke(session, consent, "participant", now)
    if was_accepted and consent.recipient_telegram_id:
        theirs = await _contact_catalog(session, services, consent, participant)
        stopped = fill(theirs.text("contact", "stopped_contact"), name=participant.first_name or "")
        await _tell(session, consent.recipient_telegram_id, stopped,
                    f"consent:{consent.id}:revoked:contact", now, participant.id)  # fmt: skip
        contacts.log_message(session, consent, "stopped", now)
    return texts["removed"]


async def on_offer_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ContactOfferButton
) -> None:
    """The participant chose when a contact hears from us: make the consent and the link."""
    services = services_of(context)
    message = None
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        if participant is not None:
            services = services.speaking(participant.language)
            message = await _offer_choice(session, services, participant, data.levels,
                                          context.bot.username)  # fmt: skip
    await _answer_press(update, context, message, services.catalog)


async def offer_text(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    typed: str,
    bot_username: str,
) -> Reply | None:
    """The /contact question answered in words: a button's label (or a part of it), its
    number, or no. Anything else brings the question back with a hint."""
    if await contacts.current(session, participant.id, services.now()) is not None:
        awaiting.answered(session, awaiting.CONTACT_OFFER)
        return None  # they have a contact by now: the question no longer stands
    question = offer_question(services, participant)
    read = choices.read(services.catalog, typed, question, no=ContactOfferButton("n"))
    if read.button is None:
        return await safety.not_an_answer(session, services, participant, typed, read.again)
    message = await _offer_choice(session, services, participant, read.button.levels,
                                  bot_username)  # fmt: skip
    return Reply([message or services.catalog.text("general", "expired_button")])


async def _offer_choice(
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
    if await contacts.current(session, participant.id, now) is not None:
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
        kind=contacts.KIND,
        status="offered",
        shares=list(contacts.SHARES),
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


async def _answer_press(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    message: str | Rendered | None,
    catalog: Catalog | None = None,
) -> None:
    """A one-shot button: answer it, remove the buttons, reply; or say it is no longer active."""
    query = incoming.button(update)
    expired = (catalog or services_of(context).catalog).text("general", "expired_button")
    await query.answer(None if message else expired)
    if message is not None:
        if query.message is not None:
            await telegram_io.clear_buttons(context.bot, query.message)
        await telegram_io.send(context.bot, incoming.chat_id(update), message)


async def offer_to_contact(
    session: AsyncSession, services: Services, consent: Consent, user_id: int, name: str
) -> Rendered:
    """The contact opened the link: note who they are, then ask (nothing is shared yet)."""
    participant = await session.get_one(Participant, consent.participant_id)
    consent.recipient_telegram_id, consent.recipient_name = user_id, name
    contacts.log_message(session, consent, "offer", services.now())
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


async def on_language_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ContactLanguageButton
) -> None:
    """The invited contact switches language: the offer again in it, and all that follows."""
    services = services_of(context)
    query = incoming.button(update)
    async with services.sessionmaker.begin() as session:
        consent = await session.get(Consent, data.consent_id)
        message = await _switch_language(session, services, consent, query.from_user.id,
                                         data.locale)  # fmt: skip
    await _answer_press(update, context, message)


async def _switch_language(
    session: AsyncSession, services: Services, consent: Consent | None, user_id: int, locale: str
) -> Rendered | Markup | None:
    if consent is None or consent.recipient_telegram_id != user_id:
        return None
    if locale not in services.catalogs.by_locale:
        return None
    await contacts.choose_language(session, user_id, locale)
    participant = await session.get_one(Participant, consent.participant_id)
    catalog = services.speaking(locale).catalog
    if consent.status == "offered" and consent.expires_at > services.now():
        return _offer(services, catalog, consent, participant)
    return fill(catalog.text("settings", "saved_language"), language=catalog.language_name)


async def on_answer_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ContactAnswerButton
) -> None:
    """Accept or decline, pressed only by the person the link was opened by."""
    services = services_of(context)
    query = incoming.button(update)
    async with services.sessionmaker.begin() as session:
        consent = await session.get(Consent, data.consent_id)
        message = await _answer(session, services, consent, query.from_user.id, data.accept)
    await _answer_press(update, context, message)


async def _answer(
    session: AsyncSession, services: Services, consent: Consent | None, user_id: int, accept: bool
) -> str | None:
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
        audit.record(session, now, contacts.contact_ref(consent), "consent_accepted",
                     subject, {"consent_id": consent.id})  # fmt: skip
    else:
        consent.status = "declined"
        message = fill(texts["declined_contact"], name=name)
        notice = fill(theirs["declined_participant"], contact=consent.recipient_name)
        audit.record(session, now, contacts.contact_ref(consent), "consent_declined",
                     subject, {"consent_id": consent.id})  # fmt: skip
    await _tell(session, participant.chat_id, notice,
                f"consent:{consent.id}:{consent.status}", now, participant.id)  # fmt: skip
    contacts.log_message(session, consent, consent.status, now)
    return message


async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE, asked: Asked | None) -> bool:
    """A support contact's typed reply to the offer (accept, decline or a language, in words);
    True if it was one. Anything else from a contact gets what fits a stranger: nothing a
    contact writes is kept."""
    if not awaiting.is_(asked, awaiting.CONTACT_ANSWER):
        return False
    services = services_of(context)
    text = incoming.message(update).text or ""
    user_id = incoming.sender_id(update)
    async with services.sessionmaker.begin() as session:
        consent = await session.get(Consent, asked.ref_id)
        if consent is None or consent.recipient_telegram_id != user_id:
            return False
        reply: Rendered | Markup | str | None = None
        if consent.status == "offered":
            participant = await session.get(Participant, consent.participant_id)
            catalog = await _contact_catalog(session, services, consent, participant)
            question = _offer(services, catalog, consent, participant)
            read = choices.read(catalog, text, question,
                                yes=ContactAnswerButton(consent.id, True),
                                no=ContactAnswerButton(consent.id, False))  # fmt: skip
            if read.button is None and len(text.split()) >= safety.NOTE_MIN_WORDS:
                return False
            if isinstance(read.button, ContactLanguageButton):
                reply = await _switch_language(session, services, consent, user_id,
                                               read.button.locale)  # fmt: skip
            elif isinstance(read.button, ContactAnswerButton):
                reply = await _answer(session, services, consent, user_id, read.button.accept)
            else:
                reply = read.again
    if reply is None:
        return False
    await telegram_io.send(context.bot, incoming.chat_id(update), reply)
    return True


async def on_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop from a contact: no more messages about anyone they support."""
    services = services_of(context)
    now = services.now()
    replies: list[str] = []
    async with services.sessionmaker.begin() as session:
        catalog = await reader_catalog(session, services, incoming.sender(update),
                                       resolved.sender(context))  # fmt: skip
        for consent in await contacts.as_contact(session, incoming.sender_id(update), now):
            participant = await session.get_one(Participant, consent.participant_id)
            contacts.revoke(session, consent, "contact", now)
            texts = (await _contact_catalog(session, services, consent, participant)).texts[
                "contact"
            ]
            replies.append(fill(texts["stopped_contact"], name=participant.first_name or ""))
            contacts.log_message(session, consent, "stopped", now)
            theirs = _participant_catalog(services, participant).texts["contact"]
            notice = fill(theirs["stopped_participant"], contact=consent.recipient_name)
            await _tell(session, participant.chat_id, notice,
                        f"consent:{consent.id}:revoked:participant", now,
                        participant.id)  # fmt: skip
    for reply in replies or [catalog.text("contact", "stop_none")]:
        await telegram_io.send(context.bot, incoming.chat_id(update), reply)
