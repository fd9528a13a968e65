"""A counselor's /discharge <participant>: confirmed with a button, then check-ins end for good,
the participant gets a warm goodbye with resources, and the audit log records who did it.

Only the participant's own counselor (or an admin) can discharge them, the way /history finds
a participant. Afterwards the participant can still reach /sos, /coping and crisis help.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import help_text
from bot.services import services_of
from care import choices
from care.caseload import choose, look_up
from care.services import Services
from db import audit, awaiting, outbox, people
from db import checkins as checkin_db
from db.awaiting import Asked
from db.models import Counselor, Participant
from delivery.priority import Priority
from messages import render
from messages.callback_data import DischargeButton
from messages.render import Rendered, fill

SHOWN = 40  # characters of an unknown name quoted back


async def on_discharge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/discharge <number or name>: asks the counselor to confirm with a button (with none, or
    words that fit several, a button for each participant first)."""
    await ask_discharge(update, context, " ".join(context.args or []))


async def ask_discharge(update: Update, context: ContextTypes.DEFAULT_TYPE, wanted: str) -> None:
    services = services_of(context)
    catalog = services.catalog
    texts = catalog.texts["discharge"]
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        if counselor is None:
            message = None
        else:
            found = await look_up(session, counselor, wanted)
            participant = found.participant
            if participant is None:
                message = choose(catalog, "d", found, wanted, usage=texts["usage"])
            elif participant.status == "discharged":
                message = fill(texts["already"], name=participant.first_name or "")
            else:
                name = participant.first_name or ""
                message = render.discharge_confirm(catalog, participant.id, name)
                awaiting.asking(session, awaiting.DISCHARGE, services.now(), participant.id)
    if message is None:  # participants and strangers get what fits them (unchanged)
        message = await help_text(update, context)
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


def _may_discharge(counselor: Counselor, participant: Participant) -> bool:
    return participant.telegram_user_id is not None and (
        counselor.is_admin or participant.counselor_id == counselor.id
    )


async def on_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: DischargeButton
) -> None:
    """Yes or Cancel, authorized against whoever pressed it, not whoever asked."""
    services = services_of(context)
    query = incoming.button(update)
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        toast, reply = await _confirmed(session, services, counselor, data)
    await query.answer(toast)
    if reply is not None:
        if isinstance(query.message, Message) and query.message.reply_markup is not None:
            # One-shot buttons. Best effort: a double tap's second press finds them gone.
            await telegram_io.clear_buttons(context.bot, query.message)
        await telegram_io.send(context.bot, incoming.chat_id(update), reply)


async def _confirmed(
    session: AsyncSession, services: Services, counselor: Counselor | None, data: DischargeButton
) -> tuple[str | None, str | None]:
    """Yes or Cancel: (a refusal's toast, the reply)."""
    texts = services.catalog.texts["discharge"]
    participant = await session.get(Participant, data.participant_id)
    if counselor is None or participant is None or not _may_discharge(counselor, participant):
        return services.catalog.text("general", "not_for_you"), None
    awaiting.answered(session, awaiting.DISCHARGE)
    if not data.confirm:
        return None, texts["cancelled"]
    if participant.status == "discharged":
        return None, fill(texts["already"], name=participant.first_name or "")
    await discharge(session, services, counselor, participant)
    return None, fill(texts["done"], name=participant.first_name or "")


async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE, asked: Asked | None) -> bool:
    """The confirmation answered in words ("yes, discharge", "yes", "cancel"); True if it was
    one. Anything else brings the question back with a hint."""
    if not awaiting.is_(asked, awaiting.DISCHARGE):
        return False
    services = services_of(context)
    catalog = services.catalog
    text = incoming.message(update).text or ""
    reply: Rendered | str
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        participant = await session.get(Participant, asked.ref_id)
        if counselor is None or participant is None or not _may_discharge(counselor, participant):
            return False
        question = render.discharge_confirm(catalog, participant.id, participant.first_name or "")
        read = choices.read(catalog, text, question, yes=DischargeButton(participant.id, True),
                            no=DischargeButton(participant.id, False))  # fmt: skip
        if read.button is None:
            awaiting.asking(session, awaiting.DISCHARGE, services.now(), participant.id)
            reply = read.again
        else:
            toast, confirmed = await _confirmed(session, services, counselor, read.button)
            reply = confirmed or toast or read.again
    await telegram_io.send(context.bot, incoming.chat_id(update), reply)
    return True


async def discharge(
    session: AsyncSession, services: Services, counselor: Counselor, participant: Participant
) -> None:
    """One unit of work: check-ins end, the goodbye is queued, the audit log records it."""
    now = services.now()
    people.discharge(participant, now)
    await checkin_db.close_open(session, participant.id)
    audit.record(session, now, f"counselor:{counselor.id}", "participant_discharged",
                 f"participant:{participant.id}")  # fmt: skip
    catalog = services.speaking(participant.language).catalog
    goodbye = fill(catalog.text("discharge", "goodbye"), name=participant.first_name or "")
    if participant.chat_id is None:  # none only once they deleted their data: no one to tell
        return
    await outbox.enqueue(
        session,
        f"discharge:{participant.id}:goodbye",
        participant.chat_id,
        Rendered(goodbye).payload(),
        Priority.REPLY,
        now,
        participant_id=participant.id,
    )
