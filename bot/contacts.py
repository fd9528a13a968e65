"""Support contacts' handlers, both sides: the participant's /contact and its buttons, the
contact's answer, language and /stop; care/contacts.py does the work."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import help_text, reader_catalog
from bot.services import services_of
from care import contacts
from db import awaiting
from db.awaiting import Asked
from db.models import Consent
from messages.callback_data import (
    ContactAnswerButton,
    ContactLanguageButton,
    ContactOfferButton,
)
from messages.catalog import Catalog
from messages.render import Rendered


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/contact: explain and ask; /contact remove: revoke."""
    services = services_of(context)
    words = ("remove", "stop", "delete", "quitar", "borrar", "eliminar")
    args = context.args or []
    remove = bool(args) and args[0].lower() in words
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        if participant is None or participant.status == "enrolling":
            message = None
        else:
            message = await contacts.command(services.speaking(participant.language), session,
                                             participant, remove)  # fmt: skip
    if message is None:  # not a participant, or enrolling: nothing changed about them
        message = await help_text(update, context)
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


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
            levels, username = data.levels, context.bot.username
            message = await contacts.consent_and_link(session, services, participant, levels,
                                                      username)  # fmt: skip
    await _answer_press(update, context, message, services.catalog)


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


async def on_language_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ContactLanguageButton
) -> None:
    """The invited contact switches language: the offer again in it, and all that follows."""
    services = services_of(context)
    query = incoming.button(update)
    async with services.sessionmaker.begin() as session:
        consent = await session.get(Consent, data.consent_id)
        message = await contacts.switch_language(session, services, consent, query.from_user.id,
                                                 data.locale)  # fmt: skip
    await _answer_press(update, context, message)


async def on_answer_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ContactAnswerButton
) -> None:
    """Accept or decline, pressed only by the person the link was opened by."""
    services = services_of(context)
    query = incoming.button(update)
    async with services.sessionmaker.begin() as session:
        consent = await session.get(Consent, data.consent_id)
        message = await contacts.answer(session, services, consent, query.from_user.id,
                                        data.accept)  # fmt: skip
    await _answer_press(update, context, message)


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
        reply = await contacts.answer_text(session, services, asked.ref_id, user_id, text)
    if reply is None:
        return False
    await telegram_io.send(context.bot, incoming.chat_id(update), reply)
    return True


async def on_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop from a contact: no more messages about anyone they support."""
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        catalog = await reader_catalog(session, services, incoming.sender(update),
                                       resolved.sender(context))  # fmt: skip
        replies = await contacts.stop(session, services, incoming.sender_id(update))
    for reply in replies or [catalog.text("contact", "stop_none")]:
        await telegram_io.send(context.bot, incoming.chat_id(update), reply)
