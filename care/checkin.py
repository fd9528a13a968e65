"""The check-in flow: an answer tapped or typed (recorded, responded to at once, then the next
question or the summary with their progress), the check-in asked for now (/checkin), /sos,
/coping, and what a photo or sticker gets."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from care import safety, safety_ask
from care.reply import Reply
from care.services import Services
from db import awaiting, conversations, notes
from db import checkins as checkin_db
from db.models import CheckIn, Participant
from messages import render
from messages.answers import is_valid_button_value, parse_answer
from messages.callback_data import AnswerButton
from messages.render import Markup, Rendered, fill
from messages.risk import assess
from messages.screen import screen
from scheduler.checkins import current_question, start_on_demand


def _name(participant: Participant) -> str:
    return participant.first_name or ""


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


async def _record_answer(
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


async def pressed(
    services: Services, session: AsyncSession, participant: Participant, data: AnswerButton
) -> Reply:
    """An answer button, checked against its presser, the check-in's state and its question."""
    checkin = await session.get(CheckIn, data.checkin_id)
    if checkin is None or checkin.participant_id != participant.id:
        return Reply(toast=services.catalog.text("general", "not_for_you"))
    services = services.speaking(participant.language)
    catalog = services.catalog
    if not checkin_db.is_open(checkin, services.now()):
        return Reply(toast=catalog.text("checkin", "closed"))
    if data.index < checkin.current_index:
        return Reply(toast=catalog.text("checkin", "already_answered"))
    question = catalog.questions[checkin.question_keys[checkin.current_index]]
    if data.index > checkin.current_index or not is_valid_button_value(question, data.value):
        return Reply(toast=catalog.text("general", "expired_button"))
    reply = await _record_answer(services, session, participant, checkin, data.value, "button")
    reply.edit_message_id = None  # the pressed message is the one to edit
    return reply


async def typed(
    services: Services, session: AsyncSession, participant: Participant, checkin: CheckIn, text: str
) -> Reply:
    """Typed text for the open check-in's question: its answer, or the hint and the question
    again (the words kept as a note, and responded to, when they say more than a slip)."""
    catalog = services.catalog
    key = checkin.question_keys[checkin.current_index]
    parsed = parse_answer(catalog.questions[key], text)
    if parsed.value is not None:  # parsed.ok
        return await _record_answer(services, session, participant, checkin, parsed.value,
                                    "typed")  # fmt: skip
    hint = render.hint(catalog, key)
    result = screen(text, catalog.screen)
    urgent: list[Rendered] = []
    if result.response is not None or len(text.split()) >= safety.NOTE_MIN_WORDS:
        note = notes.save_note(session, participant.id, text, services.now(), checkin.id)
        hint = Markup(catalog.text("checkin", "note_saved_during") + "\n\n" + hint)
        if result.response is not None:
            urgent = await safety.on_free_text(session, services, participant, result, text,
                                               checkin.id, note)  # fmt: skip
    return Reply([Rendered(hint, current_question(catalog, checkin).buttons)], urgent=urgent)


async def media(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """A sticker, photo, voice note or file, which we can't read: said kindly, with the open
    question's hint."""
    catalog = services.catalog
    checkin = await checkin_db.open_checkin(session, participant.id, services.now())
    if checkin is None:
        return Reply([catalog.text("general", "media_not_read")])
    key = checkin.question_keys[checkin.current_index]
    text = fill(catalog.text("checkin", "media_hint"), hint=render.hint(catalog, key))
    return Reply([Rendered(text, current_question(catalog, checkin).buttons)])


async def start_now(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """/checkin: the open check-in resumed, or one started now."""
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


async def sos(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """/sos: the crisis resources and an urgent alert, then their own plan."""
    await safety_ask.helped(services, session, participant)
    reasons = [services.program_catalog.text("reasons", "sos")]
    urgent = await safety.crisis(session, services, participant, "sos", reasons)
    # Their own plan comes after the crisis resources, never before them.
    urgent += await safety.your_plan(session, services, participant)
    return Reply(urgent=urgent)


async def sos_enrolling(
    services: Services, session: AsyncSession, participant: Participant
) -> Reply:
    """/sos before enrollment is done: help comes first, the resources without an alert."""
    return Reply(urgent=[render.crisis(services.catalog, counselor_alerted=False)])


async def _recent_assessment(services: Services, session: AsyncSession, participant: Participant):
    rows = await checkin_db.history(session, participant.id, services.now(), limit=1)
    if not rows or not rows[0][1]:
        return None
    return assess(services.catalog, rows[0][1])


async def coping(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """/coping: an idea for the moment, chosen for the recent stage, never the last one."""
    assessment = await _recent_assessment(services, session, participant)
    return Reply([safety.coping_prompt(services, participant, assessment)])
