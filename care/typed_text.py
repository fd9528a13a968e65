"""What a participant's typed message answers once the screen has read it: crisis words first
(the response and the alert, then the open question again), enrollment's step while enrolling,
else the one question asked last (db/awaiting), else a note. A flow that finds the text is no
answer says so with its question again; nothing typed is lost."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from care import checkin as checkin_flow
from care import (
    contacts,
    enrollment,
    medication,
    meetings,
    participant_settings,
    plan,
    privacy,
    safety,
    safety_ask,
)
from care.reply import Reply
from care.services import Services
from db import awaiting, conversations, notes
from db import checkins as checkin_db
from db.awaiting import Asked
from db.models import CheckIn, Participant
from messages import render
from messages.answers import is_label
from messages.render import Rendered
from messages.screen import ScreenResult, screen
from scheduler.checkins import current_question


async def applied_before(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    asked: Asked | None,
    text: str,
) -> Reply:
    """A replay of typed text whose answer, note and alerts were committed, but whose replies did
    not all go: the crisis resources again if it spoke of a crisis (the counselor was alerted
    the first time), then the question open now, which is the one after it. Nothing is
    recorded again."""
    reply = await _open_question(session, services, participant, asked)
    if screen(text, services.catalog.screen).crisis:
        reply.urgent = [render.crisis(services.catalog, True), *reply.urgent]
    return reply


async def from_participant(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    asked: Asked | None,
    text: str,
    bot_username: str,
) -> Reply:
    result = screen(text, services.catalog.screen)
    if await _a_label_typed(session, services, participant, asked, text, result):
        result = ScreenResult()  # a press typed, not words of their own
    if result.crisis:
        return await _crisis_first(session, services, participant, asked, text, result)
    if participant.status == "enrolling":
        return await enrollment.typed(session, services, participant, text)
    reply = await _answer(session, services, participant, asked, text, bot_username)
    if reply is not None:
        return reply
    return await _note(session, services, participant, text, result)


async def _a_label_typed(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    asked: Asked | None,
    text: str,
    result: ScreenResult,
) -> bool:
    """Whether words the screen's model flagged are the whole label of a button of the
    question asked last ("No, keep it to me", "Yes, delete everything"): that is the button
    pressed in words, which no press is screened for. An explicit phrase of the lexicon always
    counts (no label holds one); so does anything more or less than a whole label."""
    if result.response is None or result.topics:
        return False
    shown = (await _open_question(session, services, participant, asked)).messages
    if participant.status == "enrolling":
        others = services.catalogs.others(services.catalog.locale)
        shown.append(render.consent(services.catalog, "", others))
    labels = [label for message in shown if isinstance(message, Rendered)
              for row in message.buttons for label, _ in row]  # fmt: skip
    return is_label(text, labels)


async def _crisis_first(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    asked: Asked | None,
    text: str,
    result: ScreenResult,
) -> Reply:
    """Crisis words, whatever was being asked: the crisis response and the alert, the words
    kept, then the open question again (it is still open). Words the screen is only unsure of
    go on to the open question; where they answer nothing, they are asked about there."""
    checkin_id = asked.ref_id if awaiting.is_(asked, awaiting.CHECKIN) else None
    note = notes.save_note(session, participant.id, text, services.now(), checkin_id)
    if participant.status == "enrolling":
        checkin_id = None  # the note keeps it; enrollment has no check-in to alert about
    urgent = await safety.on_free_text(session, services, participant, result, text, checkin_id,
                                       note)  # fmt: skip
    reply = await _open_question(session, services, participant, asked)
    reply.urgent = urgent + reply.urgent
    return reply


async def _open_question(
    session: AsyncSession, services: Services, participant: Participant, asked: Asked | None
) -> Reply:
    """The question open now, asked again: enrollment's while enrolling, else the one asked
    last (nothing when none is open)."""
    if participant.status == "enrolling":
        return Reply([enrollment.prompt(services.catalog, participant)])
    return await _ask_again(session, services, participant, asked)


async def _open_checkin(
    session: AsyncSession, services: Services, participant: Participant, asked: Asked
) -> CheckIn | None:
    checkin = await session.get(CheckIn, asked.ref_id) if asked.ref_id else None
    if checkin is None or checkin.participant_id != participant.id:
        return None
    return checkin if checkin_db.is_open(checkin, services.now()) else None


async def _setup(session: AsyncSession, participant: Participant):
    """The guided set-up in progress and the flow it belongs to (/plan or /medication)."""
    setup = await conversations.current(session, participant.id)
    if setup is None:
        return None, None
    return setup, plan if setup.flow == plan.FLOW else medication


async def _answer(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    asked: Asked | None,
    text: str,
    bot_username: str,
) -> Reply | None:
    """The text as the answer to the question asked last; None when nothing (still) open
    takes typed text."""
    # An answer to "Are you safe right now?" comes before anything else it might answer.
    answered = await safety_ask.typed(services, session, participant, text)
    if answered is not None:
        return answered
    if asked is None:
        return None
    kind = asked.kind
    if kind == awaiting.CHECKIN:
        checkin = await _open_checkin(session, services, participant, asked)
        if checkin is not None:
            return await checkin_flow.typed(services, session, participant, checkin, text)
        awaiting.answered(session, awaiting.CHECKIN)  # closed meanwhile (missed, or done)
    elif kind == awaiting.SETTINGS:
        return await participant_settings.typed(session, services, participant, asked, text)
    elif kind == awaiting.SETUP:
        setup, flow = await _setup(session, participant)
        if setup is not None:
            return await flow.text(services, session, participant, setup, text)
    elif kind == awaiting.MEETING:
        return await meetings.draft_text(services, session, participant, asked.ref_id, text)
    elif kind == awaiting.ATTENDANCE:
        return await meetings.attendance_text(services, session, participant, asked.ref_id, text)
    elif kind == awaiting.DOSE:
        return await medication.dose_text(services, session, participant, asked.ref_id, text)
    elif kind == awaiting.CONTACT_OFFER:
        return await contacts.offer_text(session, services, participant, text, bot_username)
    elif kind == awaiting.PLAN:
        return await plan.menu_text(services, session, participant, asked, text)
    elif kind == awaiting.MEDICATIONS:
        return await medication.list_text(services, session, participant, text)
    elif kind == awaiting.MEETINGS:
        return await meetings.menu_text(services, session, participant, asked, text)
    elif kind == awaiting.ERASURE:
        return await privacy.erasure_text(session, services, participant, asked, text)
    return None


async def _ask_again(
    session: AsyncSession, services: Services, participant: Participant, asked: Asked | None
) -> Reply:
    """The open question, asked again after a crisis response (nothing when none is open)."""
    if asked is None:
        return Reply()
    catalog = services.catalog
    kind = asked.kind
    if kind == awaiting.CHECKIN:
        checkin = await _open_checkin(session, services, participant, asked)
        if checkin is not None:
            return Reply([current_question(catalog, checkin)], ask_checkin_id=checkin.id)
    elif kind == awaiting.SETTINGS:
        return Reply([participant_settings.question(services, participant, asked.step)])
    elif kind == awaiting.SETUP:
        setup, flow = await _setup(session, participant)
        if setup is not None:
            return flow.ask_again(services, participant, setup)
    elif kind == awaiting.MEETING:
        again = await meetings.draft_question(services, session, participant, asked.ref_id)
        if again is not None:
            return Reply([again])
    elif kind == awaiting.ATTENDANCE:
        again = await meetings.attendance_question(services, session, participant, asked.ref_id)
        if again is not None:
            return Reply([again])
    elif kind == awaiting.CONTACT_OFFER:
        return Reply([contacts.offer_question(services, participant)])
    elif kind == awaiting.PLAN:
        question = await plan.menu_question(services, session, participant, asked)
        if question is not None:
            return Reply([question])
    elif kind == awaiting.MEDICATIONS:
        return await medication.list_question(services, session, participant) or Reply()
    elif kind == awaiting.MEETINGS:
        question = await meetings.menu_question(services, session, participant, asked)
        if question is not None:
            return Reply([question])
    elif kind == awaiting.ERASURE:
        question = privacy.erasure_question(services, participant, asked)
        if question is not None:
            return Reply([question])
    return Reply()


async def _note(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    text: str,
    result: ScreenResult,
) -> Reply:
    """Nothing open takes it: a note, with the response its words call for."""
    catalog = services.catalog
    note = notes.save_note(session, participant.id, text, services.now())
    if result.response is None:
        message: list[Rendered | str] = [catalog.text("general", "note_saved")]
        checkin = await checkin_db.open_checkin(session, participant.id, services.now())
        if checkin is not None:
            message = [catalog.text("checkin", "note_saved_open")]
        return Reply(message)
    urgent = await safety.on_free_text(session, services, participant, result, text, None, note)
    return Reply([catalog.text("screen", "acknowledged")], urgent=urgent)
