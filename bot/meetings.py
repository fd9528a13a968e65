"""/meetings and its buttons: the sender's participant (enrolled), then care/meetings.py."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import help_text
from bot.services import services_of
from care import meetings
from care.meetings import Outcome
from db.models import Participant
from messages.callback_data import MeetingButton
from messages.render import Rendered


async def _participant(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> Participant | None:
    participant = await resolved.participant(session, update, context)
    if participant is None or participant.status == "enrolling":
        return None
    return participant


async def on_meetings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/meetings: the list, with buttons to add, change or remove."""
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        participant = await _participant(session, update, context)
        message = None
        if participant is not None:
            message = await meetings.open_list(services.speaking(participant.language), session,
                                               participant)  # fmt: skip
    if message is None:  # not a participant, or enrolling: nothing changed about them
        message = await help_text(update, context)
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


async def on_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: MeetingButton
) -> None:
    services = services_of(context)
    query = incoming.button(update)
    async with services.sessionmaker.begin() as session:
        participant = await _participant(session, update, context)
        if participant is None:
            outcome = Outcome(toast=services.catalog.text("general", "expired_button"))
        else:
            outcome = await meetings.press(services.speaking(participant.language), session,
                                           participant, data)  # fmt: skip
    await query.answer(outcome.toast)
    if outcome.edit is not None:
        edit = outcome.edit if isinstance(outcome.edit, Rendered) else Rendered(outcome.edit)
        await telegram_io.edit(context.bot, query.message, edit)
    elif outcome.clear_buttons and query.message is not None:
        await telegram_io.clear_buttons(context.bot, query.message)
    for message in outcome.send:
        await telegram_io.send(context.bot, incoming.chat_id(update), message)
