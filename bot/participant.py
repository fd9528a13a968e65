"""Participant handlers: commands, buttons and media from participants (typed text is
bot/conversation.py's). Each reads the sender (bot/resolved.py), authorizes, calls one service
of care/ in one transaction, then sends its Reply. Nothing a participant writes is dropped: if
it is not an answer it is kept as a note.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import reply_to_non_participant
from bot.medication import counselor_command
from bot.reply import deliver as _deliver
from bot.services import services_of
from care import checkin, enrollment, medication, participant_settings, pause, plan, safety_ask
from care.reply import Reply
from care.services import Services
from db.models import Participant
from messages.callback_data import (
    AnswerButton,
    ConsentButton,
    DoseButton,
    MedicationButton,
    MedicationSetupButton,
    PlanButton,
)


async def _step_button(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    data: ConsentButton | participant_settings.SettingsPress,
) -> Reply:
    """A set-up button: an enrollment step, or (after enrollment) a change in /settings,
    which reuses the same time zone, time and weekday buttons."""
    services = services_of(context)
    expired = Reply(toast=services.catalog.text("general", "expired_button"))
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        if participant is None or participant.status == "discharged":
            return expired
        services = services.speaking(participant.language)
        if participant.status == "enrolling":
            return await enrollment.pressed(session, services, participant, data) or expired
        if isinstance(data, ConsentButton):
            return expired
        asked = await resolved.asked(session, update, context)
        changed = await participant_settings.pressed(session, services, participant, data, asked)
        return Reply([changed]) if changed is not None else expired


async def _answer_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: AnswerButton
) -> Reply:
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        if participant is None:
            return Reply(toast=services.catalog.text("general", "not_for_you"))
        return await checkin.pressed(services, session, participant, data)


# --- buttons: one handler per kind (bot/app.py routes each by its callback data) -------------


async def on_answer_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    reply = await _answer_button(update, context, data)
    await _deliver(context, update, reply)


async def on_sos_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    await _as_participant(update, context, checkin.sos, enrolling=checkin.sos_enrolling)


async def on_coping_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    await _as_participant(update, context, checkin.coping)


async def on_setup_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    """/plan and /medication buttons, and a dose reminder's."""
    await _as_participant(update, context, _setup_button(data))


async def on_step_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    """Enrollment's and /settings' buttons."""
    query = incoming.button(update)
    reply = await _step_button(update, context, data)
    shown = query.message if isinstance(query.message, Message) else None
    if reply.messages and shown is not None and shown.reply_markup is not None:
        # Set-up and settings buttons are one-shot: remove them so the chat reads as a clean
        # record. Best effort: a double tap's second press finds them gone.
        await telegram_io.clear_buttons(context.bot, shown)
    await _deliver(context, update, reply)


async def on_safety_ask_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    """I'm safe / I need help now / Talk to my counselor."""
    await _as_participant(update, context, safety_ask.button(data))


async def on_unknown_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button we did not make (forged, or from an older version): changes nothing."""
    expired = services_of(context).catalog.text("general", "expired_button")
    await incoming.button(update).answer(expired)


ActiveWork = Callable[[Services, AsyncSession, Participant], Awaitable[Reply]]
EnrollingWork = ActiveWork
# After enrollment: active, paused, unreachable or discharged. A discharged participant keeps
# /sos, /coping, the help button and free text (kept and screened), nothing else.


async def _as_participant(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    active: ActiveWork,
    enrolling: EnrollingWork = enrollment.ask_again,
) -> None:
    """Run `active` (or `enrolling`) for the sender in one transaction, then reply.
    Counselors and strangers get the reply that fits them instead."""
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        if participant is None:
            reply = None
        elif participant.status == "enrolling":
            reply = await enrolling(services.speaking(participant.language), session, participant)
        else:
            reply = await active(services.speaking(participant.language), session, participant)
    if reply is None:
        if update.callback_query is not None:
            await update.callback_query.answer(services.catalog.text("general", "expired_button"))
            return
        await reply_to_non_participant(update, context)
    else:
        await _deliver(context, update, reply)


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, files: we can't read them, and we say so kindly."""
    await _as_participant(update, context, checkin.media)


async def on_checkin_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _as_participant(update, context, checkin.start_now)


# --- help now and coping ----------------------------------------------------------------------


async def on_sos(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sos and the "I need help now" buttons: crisis resources and an urgent alert, at once."""
    await _as_participant(update, context, checkin.sos, enrolling=checkin.sos_enrolling)


async def on_coping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/coping: an idea for the moment, chosen for the recent stage, never the last one."""
    await _as_participant(update, context, checkin.coping)


# --- plan and medication ----------------------------------------------------------------------


def _setup_button(
    data: PlanButton | MedicationSetupButton | MedicationButton | DoseButton,
) -> ActiveWork:
    """The work a /plan or /medication button (or a dose reminder's) does for its presser."""

    async def work(services: Services, session: AsyncSession, participant: Participant):
        if isinstance(data, PlanButton):
            return await plan.button(services, session, participant, data)
        if isinstance(data, MedicationSetupButton):
            return await medication.setup_button(services, session, participant, data)
        if isinstance(data, MedicationButton):
            return await medication.manage_button(services, session, participant, data)
        return await medication.dose_button(services, session, participant, data)

    return work


async def on_plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/plan: their plan for hard moments, or its guided set-up."""
    await _as_participant(update, context, plan.command)


async def on_medication(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/medication: a participant's medication and reminders; a counselor's set-up for one."""
    if await counselor_command(update, context):
        return
    await _as_participant(update, context, medication.command)


# --- settings and pauses ----------------------------------------------------------------------


async def on_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings: check-in time, time zone, weekly day, quiet hours and language."""
    await _as_participant(update, context, participant_settings.command)


async def on_pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pause [days]: no scheduled check-ins for a while; help keeps working."""
    args = list(context.args or [])

    async def active(services: Services, session: AsyncSession, participant: Participant):
        return await pause.command(services, session, participant, args)

    await _as_participant(update, context, active)


async def on_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resume: ends a pause early."""
    await _as_participant(update, context, pause.resume_command)
