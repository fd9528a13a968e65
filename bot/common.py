"""Handlers for everyone: help, unknown commands, people we don't know, and errors."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import Update, User
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.services import services_of
from care.services import Services
from db import contacts, people
from db.models import Counselor, Participant
from db.senders import Sender
from messages import render
from messages.catalog import Catalog
from messages.render import Markup, fill

log = logging.getLogger(__name__)


async def _known(
    session, user_id: int, sender: Sender | None
) -> tuple[Counselor | None, Participant | None]:
    """The counselor and the participant with this Telegram id: as the gate read them for
    this update, else (no gate ran: the error handler) read now."""
    if sender is not None and sender.user_id == user_id:
        return sender.counselor, sender.participant
    counselor = await people.counselor_by_telegram(session, user_id)
    return counselor, await people.participant_by_telegram(session, user_id)


async def reader_catalog(
    session, services: Services, user: User, sender: Sender | None = None
) -> Catalog:
    """The language to answer this person in: a counselor the program's, a participant their
    own, a support contact the one they chose (else their participant's), anyone else their
    Telegram's when we ship it."""
    counselor, participant = await _known(session, user.id, sender)
    if counselor is not None:
        return services.program_catalog
    if participant is not None:
        return services.catalogs.get(participant.language)
    supporting = await contacts.as_contact(session, user.id, services.now())
    if supporting:
        theirs = await session.get(Participant, supporting[0].participant_id)
        return services.catalogs.get(await contacts.language_of(session, user.id, theirs.language))
    return services.catalogs.get(services.catalogs.match(user.language_code))


async def help_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The help that fits who is asking, in their language, as the gate read who they are:
    every caller has changed nothing about that (none enrolls or deletes them first)."""
    sender = resolved.sender(context)
    services = services_of(context)
    user_id = incoming.sender_id(update)
    async with services.sessionmaker() as session:
        catalog = await reader_catalog(session, services, incoming.sender(update), sender)
        counselor, participant = await _known(session, user_id, sender)
        if counselor is not None:
            return catalog.text("general", "counselor_help")
        supporting = await contacts.as_contact(session, user_id, services.now())
    if participant is None and supporting:
        return catalog.text("contact", "contact_help")
    if participant is None:
        return catalog.text("general", "not_enrolled")
    if participant.status == "enrolling":
        return catalog.text("general", "enrolling_help")
    if participant.status == "discharged":
        return catalog.text("discharge", "ended")
    text = fill(
        catalog.text("general", "participant_help"),
        time=participant.checkin_time or "",
        timezone=participant.timezone or "",
    )
    if participant.status == "paused" and participant.paused_until is not None:
        zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
        until = render.day_and_time(catalog, participant.paused_until.astimezone(zone))
        text = Markup(text + "\n\n" + fill(catalog.text("pause", "paused_help"), until=until))
    return text


async def _reader(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Catalog:
    services = services_of(context)
    async with services.sessionmaker() as session:
        return await reader_catalog(session, services, incoming.sender(update),
                                    resolved.sender(context))  # fmt: skip


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = await help_text(update, context)
    await telegram_io.send(context.bot, incoming.chat_id(update), text)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    catalog = await _reader(update, context)
    text = await help_text(update, context)
    if text != catalog.text("general", "not_enrolled"):
        text = Markup(catalog.text("general", "unknown_command") + "\n\n" + text)
    await telegram_io.send(context.bot, incoming.chat_id(update), text)


async def on_edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edits can't change an answer already saved; say so rather than act on them."""
    catalog = await _reader(update, context)
    await telegram_io.send(
        context.bot, incoming.chat_id(update), catalog.text("general", "edit_not_read")
    )


async def reply_to_non_participant(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A counselor gets their help; a stranger learns kindly how to join."""
    text = await help_text(update, context)
    await telegram_io.send(context.bot, incoming.chat_id(update), text)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Log the update's id and kind only: its text may be health information.
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        return
    catalog = services_of(context).catalog
    try:
        if update.effective_user is not None:
            catalog = await _reader(update, context)
    except Exception:  # the database may be what failed: the program's language, then
        log.warning("could not look up who to tell about the error")
    try:
        await telegram_io.send(context.bot, update.effective_chat.id,
                               catalog.text("general", "error"))  # fmt: skip
    except Exception:  # the error report must never raise in turn
        log.exception("could not tell the user about the error")
