"""Who is writing, as the gate resolved them for this update (bot/gate.py keeps it here):
handlers read the sender from here instead of each looking the person up again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot import incoming
from db import awaiting, people, senders
from db.awaiting import Asked
from db.models import Counselor, Participant

_SENDER = "aftercare_sender"


def keep(context: ContextTypes.DEFAULT_TYPE, sender: senders.Sender) -> None:
    setattr(context, _SENDER, sender)


def sender(context: ContextTypes.DEFAULT_TYPE) -> senders.Sender | None:
    """Who sent the update being handled, as the gate read them (None before the gate, and
    in the error handler, which PTB gives a context of its own)."""
    return getattr(context, _SENDER, None)


async def participant(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> Participant | None:
    """The sender's participant as an object of `session`: the gate's reading merged, not
    read again (a handler that has committed a change to them since reads them by primary
    key instead). Read now only where the gate has not run for this context: the error
    handler's context is a new one, and so is that of a handler called outside the routing
    table."""
    gated = sender(context)
    if gated is None:
        return await people.participant_by_telegram(session, incoming.sender_id(update))
    return await senders.attach(session, gated)


async def counselor(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> Counselor | None:
    """The sender's active counselor row in `session`, as `participant` does it."""
    gated = sender(context)
    if gated is None:  # not through the gate: see participant
        return await people.counselor_by_telegram(session, incoming.sender_id(update))
    return await senders.attach_counselor(session, gated)


async def asked(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> Asked | None:
    """What the sender was asked last, as the gate read it, for a button press or typed text
    (a command sets it aside after the gate has read it: gate.set_aside_question). Read now
    where the gate has not run, as in `participant`."""
    gated = sender(context)
    if gated is None:
        return await awaiting.of(session, incoming.sender_id(update))
    return gated.asked
