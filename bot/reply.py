"""Sending a service's Reply (care/reply.py) once the transaction has committed."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import gate, incoming, telegram_io
from bot.services import services_of
from care.reply import Reply
from db import awaiting
from db import checkins as checkin_db
from delivery.priority import Priority


async def deliver(context: ContextTypes.DEFAULT_TYPE, update: Update, reply: Reply) -> None:
    services = services_of(context)
    chat_id = incoming.chat_id(update)
    query = update.callback_query
    if query is not None:
        await query.answer(reply.toast)
    for urgent in reply.urgent:
        await telegram_io.send(context.bot, chat_id, urgent, Priority.CRISIS)
    if query is not None:
        if reply.clear_pressed and query.message is not None and not reply.edit_pressed:
            await telegram_io.clear_buttons(context.bot, query.message)
        if reply.edit_pressed and query.message is not None:
            await telegram_io.replace_keyboard_message(
                context.bot, chat_id, query.message.message_id, reply.edit_pressed
            )
    elif reply.edit_message_id and reply.edit_pressed:
        await telegram_io.replace_keyboard_message(
            context.bot, chat_id, reply.edit_message_id, reply.edit_pressed
        )
    sent = None
    for message in reply.messages:
        sent = await telegram_io.send(context.bot, chat_id, message)
    if reply.ask_checkin_id is not None and sent is not None:
        # Asked now that it has arrived: their next typed message answers it.
        # The update is marked handled in the same unit of work (its replies are sent).
        async with services.sessionmaker.begin() as session:
            now = services.now()
            if await checkin_db.question_sent(session, reply.ask_checkin_id, sent.message_id, now):
                await awaiting.ask(session, incoming.sender_id(update), awaiting.CHECKIN, now,
                                   ref_id=reply.ask_checkin_id)  # fmt: skip
            await gate.finish(session, update, context)
        gate.finished(context)
