"""Participant handlers: enrollment steps, check-ins (tapped or typed), free text and media.

Each handler parses, authorizes against the sender, does its work in one transaction, then
replies. Nothing a participant writes is dropped: if it is not an answer it is kept as a note.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot import telegram_io
from bot.common import reply_to_non_participant
from bot.services import Services, services_of
from db import audit, notes, people
from db import checkins as checkin_db
from db.models import CheckIn, Participant
from messages import render
from messages.answers import is_valid_button_value, parse_answer, parse_clock_time, parse_timezone
from messages.callback_data import (
    AnswerButton,
    ConsentButton,
    TimeButton,
    TimezoneButton,
    decode,
)
from messages.catalog import Catalog
from messages.render import Markup, Rendered, fill
from scheduler.checkins import advance_schedule, current_question, start_on_demand

# A reply to a bad answer also keeps the text as a note once it reads like more than a slip.
NOTE_MIN_WORDS = 4


@dataclass
class Reply:
    """What to send after a transaction commits (sending inside it would hold locks)."""

    messages: list[Rendered | str] = field(default_factory=list)
    toast: str | None = None  # callback answer text
    edit_pressed: str | None = None  # replace the pressed question with this line
    edit_message_id: int | None = None  # or replace this earlier message
    ask_checkin_id: int | None = None  # the last message is this check-in's next question


async def _deliver(context: ContextTypes.DEFAULT_TYPE, update: Update, reply: Reply) -> None:
    services = services_of(context)
    chat_id = update.effective_chat.id
    query = update.callback_query
    if query is not None:
        await query.answer(reply.toast)
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
        async with services.sessionmaker.begin() as session:
            checkin = await session.get(CheckIn, reply.ask_checkin_id)
            if checkin is not None:
                checkin_db.set_question_message(checkin, sent.message_id, services.now())


def _name(participant: Participant) -> str:
    return participant.first_name or ""


# --- enrollment -------------------------------------------------------------------------------


def enrollment_prompt(catalog: Catalog, participant: Participant) -> Rendered:
    """The question for the step enrollment stands at, so anyone can pick up where they were."""
    if participant.enroll_step == "timezone":
        return render.timezone_prompt(catalog)
    if participant.enroll_step == "time":
        return render.time_prompt(catalog, participant.timezone or "")
    return render.consent(catalog, _name(participant))


def _finish_enrollment(
    services: Services, participant: Participant, hhmm: str, now: datetime
) -> Markup:
    catalog = services.catalog
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    today = now.astimezone(zone).date()
    participant.checkin_time = hhmm
    advance_schedule(participant, now)
    assert participant.next_checkin_at is not None
    people.activate(participant, hhmm, participant.next_checkin_at, today, now)
    first = render.when(participant.next_checkin_at.astimezone(zone), today)
    return fill(
        catalog.text("enrollment", "done"),
        name=_name(participant),
        time=hhmm,
        timezone=participant.timezone,
        first=first,
    )


async def _enrollment_button(
    services: Services, user_id: int, data: ConsentButton | TimezoneButton | TimeButton
) -> Reply:
    catalog, now = services.catalog, services.now()
    expired = Reply(toast=catalog.text("general", "expired_button"))
    async with services.sessionmaker.begin() as session:
        participant = await people.participant_by_telegram(session, user_id)
        if participant is None or participant.status != "enrolling":
            return expired
        step = participant.enroll_step
        match data:
            case ConsentButton(agree=True) if step == "consent":
                people.give_consent(participant, catalog.consent_version, now)
                audit.record(session, now, f"participant:{participant.id}", "consent_given",
                             f"participant:{participant.id}",
                             {"version": catalog.consent_version})  # fmt: skip
                pressed = f"✓ {catalog.text('consent', 'agree')}"
                return Reply([render.timezone_prompt(catalog)], edit_pressed=None, toast=pressed)
            case ConsentButton(agree=False) if step == "consent":
                return Reply([catalog.text("consent", "declined")])
            case TimezoneButton(zone) if step == "timezone" and parse_timezone(zone) == zone:
                people.set_timezone(participant, zone)
                return Reply([render.time_prompt(catalog, zone)])
            case TimeButton(hhmm) if step == "time" and parse_clock_time(hhmm) is not None:
                return Reply([_finish_enrollment(services, participant, hhmm, now)])
        return expired


async def _enrollment_text(services: Services, participant: Participant, text: str) -> Reply:
    catalog = services.catalog
    if participant.enroll_step == "timezone":
        zone = parse_timezone(text)
        if zone is None:
            shown = text if len(text) <= 40 else text[:40] + "…"
            message = fill(catalog.text("enrollment", "timezone_invalid"), text=shown)
            return Reply([Rendered(message, render.timezone_prompt(catalog).buttons)])
        people.set_timezone(participant, zone)
        return Reply([render.time_prompt(catalog, zone)])
    if participant.enroll_step == "time":
        at = parse_clock_time(text)
        if at is None:
            shown = text if len(text) <= 40 else text[:40] + "…"
            message = fill(catalog.text("enrollment", "time_invalid"), text=shown)
            return Reply([Rendered(message, render.time_prompt(catalog, "").buttons)])
        hhmm = at.strftime("%H:%M")
        return Reply([_finish_enrollment(services, participant, hhmm, services.now())])
    return Reply([catalog.text("enrollment", "consent_needed")])


# --- check-ins --------------------------------------------------------------------------------


async def _after_answer(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    checkin: CheckIn,
    value: str,
    source: str,
) -> Reply:
    """Record the answer to the current question; the reply is the next question or the close."""
    catalog, now = services.catalog, services.now()
    key = checkin.question_keys[checkin.current_index]
    previous_message = checkin.question_message_id
    done = await checkin_db.record_answer(session, checkin, value, source, now)
    line = render.answered(catalog, key, value)
    if done:
        answers = await checkin_db.answers_of(session, checkin)
        # The answer just added is not flushed into answers_of's view on every backend.
        if key not in dict(answers):
            answers.append((key, value))
        closing = render.summary(catalog, _name(participant), answers)
        return Reply([closing], edit_pressed=line, edit_message_id=previous_message)
    return Reply(
        [current_question(catalog, checkin)],
        edit_pressed=line,
        edit_message_id=previous_message,
        ask_checkin_id=checkin.id,
    )


async def _answer_button(services: Services, user_id: int, data: AnswerButton) -> Reply:
    catalog, now = services.catalog, services.now()
    async with services.sessionmaker.begin() as session:
        participant = await people.participant_by_telegram(session, user_id)
        checkin = await session.get(CheckIn, data.checkin_id)
        if participant is None or checkin is None or checkin.participant_id != participant.id:
            return Reply(toast=catalog.text("general", "not_for_you"))
        if checkin.status not in checkin_db.OPEN or checkin.expires_at <= now:
            return Reply(toast=catalog.text("checkin", "closed"))
        if data.index < checkin.current_index:
            return Reply(toast=catalog.text("checkin", "already_answered"))
        question = catalog.questions[checkin.question_keys[checkin.current_index]]
        if data.index > checkin.current_index or not is_valid_button_value(question, data.value):
            return Reply(toast=catalog.text("general", "expired_button"))
        reply = await _after_answer(services, session, participant, checkin, data.value, "button")
        reply.edit_message_id = None  # the pressed message is the one to edit
        return reply


async def _checkin_text(
    services: Services, session: AsyncSession, participant: Participant, checkin: CheckIn, text: str
) -> Reply:
    catalog = services.catalog
    key = checkin.question_keys[checkin.current_index]
    parsed = parse_answer(catalog.questions[key], text)
    if parsed.ok:
        return await _after_answer(services, session, participant, checkin, parsed.value, "typed")
    hint = render.hint(catalog, key)
    if len(text.split()) >= NOTE_MIN_WORDS:
        notes.save_note(session, participant.id, text, services.now(), checkin.id)
        hint = Markup(catalog.text("checkin", "note_saved_during") + "\n\n" + hint)
    return Reply([Rendered(hint, current_question(catalog, checkin).buttons)])


# --- handlers ---------------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    query = update.callback_query
    data = decode(query.data)
    if isinstance(data, AnswerButton):
        reply = await _answer_button(services, query.from_user.id, data)
    elif data is not None:
        reply = await _enrollment_button(services, query.from_user.id, data)
    else:
        reply = Reply(toast=services.catalog.text("general", "expired_button"))
    if isinstance(data, ConsentButton | TimezoneButton | TimeButton) and reply.messages:
        # Enrollment buttons are one-shot: remove them so the chat reads as a clean record.
        await query.edit_message_reply_markup(reply_markup=None)
    await _deliver(context, update, reply)


ActiveWork = Callable[[Services, AsyncSession, Participant], Awaitable[Reply]]
EnrollingWork = Callable[[Services, Participant], Awaitable[Reply]]


async def _prompt_enrollment(services: Services, participant: Participant) -> Reply:
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
        participant = await people.participant_by_telegram(session, update.effective_user.id)
        if participant is None:
            reply = None
        elif participant.status == "enrolling":
            reply = await enrolling(services, participant)
        else:
            reply = await active(services, session, participant)
    if reply is None:
        await reply_to_non_participant(update, context)
    else:
        await _deliver(context, update, reply)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text from a participant: an answer, an enrollment step, or a note."""
    text = update.effective_message.text or ""

    async def active(services: Services, session: AsyncSession, participant: Participant):
        now = services.now()
        checkin = await checkin_db.open_checkin(session, participant.id, now)
        if checkin is not None:
            return await _checkin_text(services, session, participant, checkin, text)
        notes.save_note(session, participant.id, text, now)
        return Reply([services.catalog.text("general", "note_saved")])

    async def enrolling(services: Services, participant: Participant) -> Reply:
        return await _enrollment_text(services, participant, text)

    await _as_participant(update, context, active, enrolling)


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
