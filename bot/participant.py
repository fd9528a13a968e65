"""Participant handlers: enrollment steps, check-ins (tapped or typed), free text and media.

Each handler parses, authorizes against the sender, does its work in one transaction, then
replies. Nothing a participant writes is dropped: if it is not an answer it is kept as a note.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import reply_to_non_participant
from bot.medication import counselor_command
from bot.reply import deliver as _deliver
from bot.services import services_of
from care import choices, medication, participant_settings, pause, plan, safety, safety_ask
from care.reply import Reply, as_typed
from care.services import Services
from db import audit, awaiting, conversations, notes, people
from db import checkins as checkin_db
from db.models import CheckIn, Participant
from messages import render
from messages.answers import (
    is_valid_button_value,
    parse_answer,
    parse_clock_time,
    parse_timezone,
)
from messages.callback_data import (
    AnswerButton,
    ConsentButton,
    DoseButton,
    LanguageButton,
    MedicationButton,
    MedicationSetupButton,
    PlanButton,
    TimeButton,
    TimezoneButton,
    WeekdayButton,
)
from messages.catalog import Catalog
from messages.render import Markup, Rendered, fill
from messages.risk import assess
from messages.screen import screen
from scheduler.checkins import advance_schedule, current_question, start_on_demand

# A reply to a bad answer also keeps the text as a note once it reads like more than a slip.
NOTE_MIN_WORDS = safety.NOTE_MIN_WORDS


def _name(participant: Participant) -> str:
    return participant.first_name or ""


# --- enrollment -------------------------------------------------------------------------------


def enrollment_prompt(catalog: Catalog, participant: Participant) -> Rendered:
    """The question for the step enrollment stands at, so anyone can pick up where they were."""
    if participant.enroll_step == "timezone":
        return render.timezone_prompt(catalog)
    if participant.enroll_step == "time":
        return render.time_prompt(catalog, participant.timezone or "")
    if participant.enroll_step == "weekly":
        return render.weekday_prompt(catalog, participant.checkin_time or "")
    return render.consent(catalog, _name(participant))


def _choose_time(services: Services, participant: Participant, hhmm: str) -> Rendered:
    participant.checkin_time = hhmm
    participant.enroll_step = "weekly"
    return render.weekday_prompt(services.catalog, hhmm)


async def _finish_enrollment(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    weekday: int,
    now: datetime,
) -> list[Rendered | str]:
    catalog = services.catalog
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    today = now.astimezone(zone).date()
    hhmm = participant.checkin_time or ""
    participant.weekly_day = weekday
    advance_schedule(participant, now)
    assert participant.next_checkin_at is not None
    people.activate(participant, hhmm, participant.next_checkin_at, today, now)
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, "participant_enrolled", subject,
                 {"counselor_id": participant.counselor_id})  # fmt: skip
    first = render.when(catalog, participant.next_checkin_at.astimezone(zone), today)
    text = fill(
        catalog.text("enrollment", "done"),
        name=_name(participant),
        time=hhmm,
        timezone=participant.timezone,
        first=first,
        weekday=render.every(catalog, weekday),
    )
    # A medication their counselor set up meanwhile can be scheduled now their zone is known.
    told = await medication.after_enrollment(services, session, participant)
    return [render.help_keyboard(catalog, text), *told]


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
            return await _enrollment_button(session, services, participant, data) or expired
        if isinstance(data, ConsentButton):
            return expired
        asked = await resolved.asked(session, update, context)
        changed = await participant_settings.pressed(session, services, participant, data, asked)
        return Reply([changed]) if changed is not None else expired


async def _enrollment_button(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    data: ConsentButton | participant_settings.SettingsPress,
) -> Reply | None:
    catalog, now = services.catalog, services.now()
    step = participant.enroll_step
    subject = f"participant:{participant.id}"
    match data:
        case ConsentButton(agree=True) if step == "consent":
            people.give_consent(participant, catalog.consent_version, now)
            audit.record(session, now, subject, "consent_given", subject,
                         {"version": catalog.consent_version})  # fmt: skip
            pressed = f"✓ {catalog.text('consent', 'agree')}"
            return Reply([render.timezone_prompt(catalog)], edit_pressed=None, toast=pressed)
        case ConsentButton(agree=False) if step == "consent":
            audit.record(session, now, subject, "consent_declined", subject,
                         {"version": catalog.consent_version})  # fmt: skip
            return Reply([catalog.text("consent", "declined")])
        case LanguageButton(code) if step == "consent" and code in services.catalogs.by_locale:
            # The first message again, in the language they chose; kept for all that follows.
            participant.language = code
            catalog = services.speaking(code).catalog
            others = services.catalogs.others(code)
            return Reply([render.consent(catalog, _name(participant), others)])
        case TimezoneButton(zone) if step == "timezone" and parse_timezone(zone) == zone:
            people.set_timezone(participant, zone)
            return Reply([render.time_prompt(catalog, zone)])
        case TimeButton(hhmm) if step == "time" and parse_clock_time(hhmm) is not None:
            return Reply([_choose_time(services, participant, hhmm)])
        case WeekdayButton(day) if step == "weekly":
            return Reply(await _finish_enrollment(session, services, participant, day, now))
    return None


async def enrollment_text(
    session: AsyncSession, services: Services, participant: Participant, text: str
) -> Reply:
    """A typed answer at the step enrollment stands at: what the button it stands for would
    do (a zone, a time or a day, or a button's label), or the question again."""
    catalog = services.catalog
    step = participant.enroll_step
    if step not in ("timezone", "time", "weekly"):
        return await _consent_text(session, services, participant, text)
    press = participant_settings.typed_press(services, step, text)
    if press is not None:
        reply = await _enrollment_button(session, services, participant, press)
        if reply is not None:
            return reply
    shown = text if len(text) <= 40 else text[:40] + "…"
    message = fill(catalog.text("enrollment", f"{step}_invalid"), text=shown)
    buttons = enrollment_prompt(catalog, participant).buttons
    if len(text.split()) >= NOTE_MIN_WORDS:  # reads like a message: kept as one too
        notes.save_note(session, participant.id, text, services.now())
        message = Markup(catalog.text("checkin", "note_saved_during") + "\n\n" + message)
    return Reply([Rendered(message, buttons)])


async def _consent_text(
    session: AsyncSession, services: Services, participant: Participant, text: str
) -> Reply:
    """Consent in words: "I agree", "yes", a part of either button, no, or a language."""
    catalog = services.catalog
    others = services.catalogs.others(catalog.locale)
    question = render.consent(catalog, _name(participant), others)
    read = choices.read(catalog, text, question, yes=ConsentButton(True), no=ConsentButton(False))
    if read.button is None:
        if len(text.split()) >= NOTE_MIN_WORDS:
            notes.save_note(session, participant.id, text, services.now())
        return Reply([read.again])
    reply = await _enrollment_button(session, services, participant, read.button)
    if reply is None:
        return Reply([enrollment_prompt(catalog, participant)])
    return as_typed(reply)


# --- check-ins --------------------------------------------------------------------------------


async def _progress(
    services: Services, session: AsyncSession, participant: Participant
) -> render.Progress:
    now = services.now()
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    completed = await checkin_db.completed_dates(session, participant.id)
    checked = len({c.astimezone(zone).date() for c in completed})
    days = safety.days_in_recovery(services, participant, now)
    reached = [m for m in services.catalog.milestones if m <= days]
    milestone = max(reached) if reached else None
    if milestone is not None and milestone > participant.last_milestone:
        participant.last_milestone = milestone
    else:
        milestone = None
    return render.Progress(days=days, checked_in_days=checked, milestone=milestone)


async def _after_answer(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    checkin: CheckIn,
    value: str,
    source: str,
) -> Reply:
    """Record the answer to the current question, respond at once to what it means, then ask
    the next question or close the check-in."""
    catalog = services.catalog
    key = checkin.question_keys[checkin.current_index]
    previous_message = checkin.question_message_id
    follow_ups = catalog.questions[key].follow_ups_for(value)
    done = await checkin_db.record_answer(session, checkin, value, source, services.now(),
                                          follow_ups)  # fmt: skip
    answers = dict(await checkin_db.answers_of(session, checkin))
    answers[key] = value
    urgent, assessment = await safety.on_answer(
        session, services, participant, checkin, answers, key, value
    )
    line = render.answered(catalog, key, value)
    if done:
        awaiting.answered(session, awaiting.CHECKIN, checkin.id)
        await safety.on_complete(session, services, participant, checkin, assessment)
        progress = await _progress(services, session, participant)
        ordered = [(k, answers[k]) for k in checkin.question_keys if k in answers]
        closing = render.summary(catalog, _name(participant), ordered, progress)
        return Reply([closing], urgent=urgent, edit_pressed=line, edit_message_id=previous_message)
    return Reply(
        [current_question(catalog, checkin)],
        urgent=urgent,
        edit_pressed=line,
        edit_message_id=previous_message,
        ask_checkin_id=checkin.id,
    )


async def _answer_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: AnswerButton
) -> Reply:
    services = services_of(context)
    now = services.now()
    async with services.sessionmaker.begin() as session:
        participant = await resolved.participant(session, update, context)
        checkin = await session.get(CheckIn, data.checkin_id)
        if participant is None or checkin is None or checkin.participant_id != participant.id:
            return Reply(toast=services.catalog.text("general", "not_for_you"))
        services = services.speaking(participant.language)
        catalog = services.catalog
        if not checkin_db.is_open(checkin, now):
            return Reply(toast=catalog.text("checkin", "closed"))
        if data.index < checkin.current_index:
            return Reply(toast=catalog.text("checkin", "already_answered"))
        question = catalog.questions[checkin.question_keys[checkin.current_index]]
        if data.index > checkin.current_index or not is_valid_button_value(question, data.value):
            return Reply(toast=catalog.text("general", "expired_button"))
        reply = await _after_answer(services, session, participant, checkin, data.value, "button")
        reply.edit_message_id = None  # the pressed message is the one to edit
        return reply


async def checkin_text(
    services: Services, session: AsyncSession, participant: Participant, checkin: CheckIn, text: str
) -> Reply:
    catalog = services.catalog
    key = checkin.question_keys[checkin.current_index]
    parsed = parse_answer(catalog.questions[key], text)
    if parsed.value is not None:  # parsed.ok
        return await _after_answer(services, session, participant, checkin, parsed.value, "typed")
    hint = render.hint(catalog, key)
    result = screen(text, catalog.screen)
    urgent: list[Rendered] = []
    if result.response is not None or len(text.split()) >= NOTE_MIN_WORDS:
        note = notes.save_note(session, participant.id, text, services.now(), checkin.id)
        hint = Markup(catalog.text("checkin", "note_saved_during") + "\n\n" + hint)
        if result.response is not None:
            urgent = await safety.on_free_text(session, services, participant, result, text,
                                               checkin.id, note)  # fmt: skip
    return Reply([Rendered(hint, current_question(catalog, checkin).buttons)], urgent=urgent)


# --- handlers ---------------------------------------------------------------------------------


# --- buttons: one handler per kind (bot/app.py routes each by its callback data) -------------


async def on_answer_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    reply = await _answer_button(update, context, data)
    await _deliver(context, update, reply)


async def on_sos_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    await _as_participant(update, context, _sos, enrolling=_sos_enrolling)


async def on_coping_press(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    await _as_participant(update, context, _coping)


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


async def _prompt_enrollment(
    services: Services, session: AsyncSession, participant: Participant
) -> Reply:
    return Reply([enrollment_prompt(services.catalog, participant)])


async def _as_participant(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    active: ActiveWork,
    enrolling: EnrollingWork = _prompt_enrollment,
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


async def _media(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    catalog = services.catalog
    checkin = await checkin_db.open_checkin(session, participant.id, services.now())
    if checkin is None:
        return Reply([catalog.text("general", "media_not_read")])
    key = checkin.question_keys[checkin.current_index]
    text = fill(catalog.text("checkin", "media_hint"), hint=render.hint(catalog, key))
    return Reply([Rendered(text, current_question(catalog, checkin).buttons)])


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, files: we can't read them, and we say so kindly."""
    await _as_participant(update, context, _media)


async def _checkin_now(
    services: Services, session: AsyncSession, participant: Participant
) -> Reply:
    catalog = services.catalog
    if participant.status == "discharged":
        return Reply([catalog.text("discharge", "ended")])
    # Asked to check in: typed answers go to the check-in now, not to a set-up left open (a
    # plan keeps what was entered; /plan or /medication starts again).
    await conversations.end(session, participant.id)
    checkin, resumed = await start_on_demand(
        session, catalog, participant, services.now(), services.settings.response_window
    )
    if resumed:
        intro = catalog.text("checkin", "resumed")
    else:
        intro = render.intro(catalog, "on_demand", _name(participant))
    return Reply([current_question(catalog, checkin, intro)], ask_checkin_id=checkin.id)


async def on_checkin_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _as_participant(update, context, _checkin_now)


# --- help now and coping ----------------------------------------------------------------------


async def _sos(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    await safety_ask.helped(services, session, participant)
    reasons = [services.program_catalog.text("reasons", "sos")]
    urgent = await safety.crisis(session, services, participant, "sos", reasons)
    # Their own plan comes after the crisis resources, never before them.
    urgent += await safety.your_plan(session, services, participant)
    return Reply(urgent=urgent)


async def on_sos(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sos and the "I need help now" buttons: crisis resources and an urgent alert, at once."""
    await _as_participant(update, context, _sos, enrolling=_sos_enrolling)


async def _sos_enrolling(
    services: Services, session: AsyncSession, participant: Participant
) -> Reply:
    # Not set up yet, but help comes first: the resources, without an alert.
    return Reply(urgent=[render.crisis(services.catalog, counselor_alerted=False)])


async def _recent_assessment(services: Services, session: AsyncSession, participant: Participant):
    rows = await checkin_db.history(session, participant.id, services.now(), limit=1)
    if not rows or not rows[0][1]:
        return None
    return assess(services.catalog, rows[0][1])


async def _coping(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    assessment = await _recent_assessment(services, session, participant)
    return Reply([safety.coping_prompt(services, participant, assessment)])


async def on_coping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/coping: an idea for the moment, chosen for the recent stage, never the last one."""
    await _as_participant(update, context, _coping)


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


async def _settings(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    if participant.status == "discharged":
        return Reply([services.catalog.text("discharge", "ended")])
    return Reply([participant_settings.menu(services, participant)])


async def on_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings: check-in time, time zone, weekly day, quiet hours and language."""
    await _as_participant(update, context, _settings)


async def on_pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pause [days]: no scheduled check-ins for a while; help keeps working."""
    args = list(context.args or [])

    async def active(services: Services, session: AsyncSession, participant: Participant):
        if participant.status == "discharged":
            return Reply([services.catalog.text("discharge", "ended")])
        return Reply([await pause.pause(session, services, participant, args)])

    await _as_participant(update, context, active)


async def _resume(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    if participant.status == "discharged":
        return Reply([services.catalog.text("discharge", "ended")])
    return Reply([await pause.resume(session, services, participant)])


async def on_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resume: ends a pause early."""
    await _as_participant(update, context, _resume)
