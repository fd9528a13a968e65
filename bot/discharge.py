"""A counselor's /discharge <participant>: confirmed with a button, then check-ins end for good,
the participant gets a warm goodbye with resources, and the audit log records who did it
(care/discharge.py does the work).

Only the participant's own counselor (or an admin) can discharge them, the way /history finds
a participant. Afterwards the participant can still reach /sos, /coping and crisis help.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import help_text
from bot.services import services_of
from care import discharge
from db import awaiting
from db.awaiting import Asked
from messages.callback_data import DischargeButton
from messages.render import Rendered


async def on_discharge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/discharge <number or name>: asks the counselor to confirm with a button (with none, or
    words that fit several, a button for each participant first)."""
    await ask_discharge(update, context, " ".join(context.args or []))


async def ask_discharge(update: Update, context: ContextTypes.DEFAULT_TYPE, wanted: str) -> None:
    services = services_of(context)
    message: Rendered | str | None
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        if counselor is None:
            message = None
        else:
            message = await discharge.ask(session, services, counselor, wanted)
    if message is None:  # participants and strangers get what fits them (unchanged)
        message = await help_text(update, context)
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


async def on_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: DischargeButton
) -> None:
    """Yes or Cancel, authorized against whoever pressed it, not whoever asked."""
    services = services_of(context)
    query = incoming.button(update)
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        toast, reply = await discharge.confirmed(session, services, counselor, data)
    await query.answer(toast)
    if reply is not None:
        if isinstance(query.message, Message) and query.message.reply_markup is not None:
            # One-shot buttons. Best effort: a double tap's second press finds them gone.
            await telegram_io.clear_buttons(context.bot, query.message)
        await telegram_io.send(context.bot, incoming.chat_id(update), reply)


async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE, asked: Asked | None) -> bool:
    """The confirmation answered in words ("yes, discharge", "yes", "cancel"); True if it was
    one. Anything else brings the question back with a hint."""
    if not awaiting.is_(asked, awaiting.DISCHARGE):
        return False
    services = services_of(context)
    text = incoming.message(update).text or ""
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        reply = await discharge.typed(session, services, counselor, asked.ref_id, text)
    if reply is None:
        return False
    await telegram_io.send(context.bot, incoming.chat_id(update), reply)
    return True
