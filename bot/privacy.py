"""A participant's own data: /mydata sends all of it as a JSON file; /deleteme deletes it after
two confirmations (care/privacy.py does the work). Both work for anyone with a participant row
(enrolling, active, paused, unreachable or discharged): these rights don't end with aftercare.

The export is an interactive reply (a file is never stored in the outbox). Each export and each
deletion is written to the audit log, without anything that identifies the person.
"""

from __future__ import annotations

import json

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import reply_to_non_participant
from bot.services import services_of
from care import privacy
from messages.callback_data import ErasureButton
from messages.render import Rendered


async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mydata: everything stored about the sender, as a JSON document."""
    services = services_of(context)
    now = services.now()
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        if participant is not None:
            document, caption = await privacy.export_document(session, services, participant,
                                                              now)  # fmt: skip
    if participant is None:
        await reply_to_non_participant(update, context)
        return
    data = json.dumps(document, ensure_ascii=False, indent=2).encode()
    await context.bot.send_document(
        incoming.chat_id(update),
        document=data,
        filename=f"aftercare-my-data-{now.date().isoformat()}.json",
        caption=caption,
        parse_mode=ParseMode.HTML,
    )


async def on_deleteme(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/deleteme: explains what goes and what stays, and asks the first time."""
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        if participant is not None:
            message = privacy.ask_erasure(session, services, participant)
    if participant is None:
        await reply_to_non_participant(update, context)
        return
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


async def on_erasure_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ErasureButton
) -> None:
    """A /deleteme button, pressed by the participant whose request it answers."""
    services = services_of(context)
    query = incoming.button(update)
    reply: Rendered | str | None = None
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        services = services.speaking(participant.language if participant else None)
        if participant is not None:
            reply = await privacy.erasure_step(session, services, participant, data)
    await query.answer(None if reply is not None else services.catalog.text("privacy", "stale"))
    if reply is None:
        return
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await telegram_io.clear_buttons(context.bot, query.message)  # one-shot buttons
    await telegram_io.send(context.bot, incoming.chat_id(update), reply)
