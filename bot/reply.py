"""What a participant handler answers with, and sending it once the transaction has committed."""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import ContextTypes

from bot import gate, incoming, telegram_io
from bot.services import services_of
from db import awaiting
from db import checkins as checkin_db
from delivery.priority import Priority
from messages.render import Rendered


@dataclass
class Reply:
    """What to send after a transaction commits (sending inside it would hold locks)."""

    messages: list[Rendered | str] = field(default_factory=list)
    # Crisis, lapse and craving responses: sent before anything else.
    urgent: list[Rendered] = field(default_factory=list)
    toast: str | None = None  # callback answer text
    edit_pressed: str | None = None  # replace the pressed question with this line
    edit_message_id: int | None = None  # or replace this earlier message
    ask_checkin_id: int | None = None  # the last message is this check-in's next question
    clear_pressed: bool = False  # a one-shot button: take the pressed message's buttons away


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


def as_typed(reply: Reply) -> Reply:
    """A reply made for a button press, for the same answer typed: what the press would have
    shown on the pressed message (or as a toast) becomes a message of its own."""
    messages: list[Rendered | str] = list(reply.messages)
    if not messages:
        messages.extend([line for line in (reply.edit_pressed, reply.toast) if line][:1])
    return Reply(messages, urgent=reply.urgent, ask_checkin_id=reply.ask_checkin_id)
