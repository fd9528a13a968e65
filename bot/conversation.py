"""Typed text: screened first, then given to the one question its writer was asked last.

Every typed message from anyone who is not a counselor is screened before anything else reads
it, whatever they were being asked: crisis words get the crisis response (and, for someone we
know, the alert) and then the open question comes back. Otherwise the text goes to what was
asked last (db/awaiting), and only there; with nothing open it is kept as a note. What a
participant's text answers is care/typed_text.py's; a counselor's, a discharge's and a
contact's go to their handlers.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import contacts, counselor, discharge, incoming, resolved
from bot.common import reply_to_non_participant
from bot.reply import deliver as _deliver
from bot.services import services_of
from care import typed_text
from care.reply import Reply
from db import inbound, senders
from messages import render
from messages.screen import screen


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    text = incoming.message(update).text or ""
    user_id = incoming.sender_id(update)
    sender = resolved.sender(context)
    async with services.sessionmaker.begin() as session:
        if sender is None:  # not through the gate (it always is in the routing table)
            sender = await senders.resolve(session, user_id, update.update_id)
        # Merged, not read again: the check-in asked about is then in the session's identity
        # map, where care/typed_text.py's session.get finds it.
        participant = await senders.attach(session, sender)
        asked = sender.asked
        if participant is not None and sender.applied:
            speaking = services.speaking(participant.language)
            reply = await typed_text.applied_before(session, speaking, participant, asked, text)
        elif participant is not None:
            speaking = services.speaking(participant.language)
            reply = await typed_text.from_participant(session, speaking, participant, asked,
                                                      text, context.bot.username)  # fmt: skip
            # With the answer, in its transaction: a replay of this update (its replies failed
            # to go, or the process died before it was marked handled) must not answer the
            # question after it with the same words.
            await inbound.mark_applied(session, update.update_id, services.now())
        else:
            reply = None
    if reply is not None:
        await _deliver(context, update, reply)
        return
    if await counselor.typed(update, context, asked):
        return
    if await discharge.typed(update, context, asked):
        return
    if await contacts.typed(update, context, asked):
        return
    await _from_stranger(update, context, text)


async def _from_stranger(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Someone we do not know (or no longer know: they deleted their data) still gets crisis
    help at once when they write of a crisis; there is no one to alert."""
    services = services_of(context)
    result = screen(text, services.catalog.screen)
    if result.crisis:
        crisis = render.crisis(services.catalog, counselor_alerted=False)
        await _deliver(context, update, Reply(urgent=[crisis]))
    await reply_to_non_participant(update, context)
