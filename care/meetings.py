"""A participant's /meetings: their list, adding a meeting from the program's list (filtered by day,
time of day, in person or online, and kind) or typing their own, the reminder choice, removal,
and the answers to "did you make it?" (tapped or typed).

Every button is checked against the person pressing it (bot/meetings.py finds who that is);
every step is stored, so a restart continues where the participant was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from care import choices, safety
from care.reply import Reply
from care.services import Services
from db import awaiting, notes
from db import meetings as meeting_db
from db.awaiting import Asked
from db.models import Meeting, MeetingAttendance, Participant, ParticipantMeeting
from messages import render_meetings as view
from messages.answers import parse_clock_time, parse_weekday, word_list
from messages.callback_data import (
    AttendanceButton,
    MeetingButton,
    MeetingDayButton,
    MeetingFilterButton,
    MeetingLeadButton,
    MeetingManageButton,
    MeetingMenuButton,
    MeetingPickButton,
    MeetingRemoveButton,
    decode,
    encode,
)
from messages.meeting_guide import DEFAULT_LENGTH, days_of, start_plus
from messages.render import Markup, Rendered, fill
from scheduler import meetings as meeting_work

MAX_OWN_NAME = 100
MAX_PLACE = 300
RESULTS_SHOWN = 8
NOTE_MIN_WORDS = 4  # a bad answer this long is kept as a note too, as in check-ins
# A half-typed meeting older than this no longer takes what they type.
DRAFT_TTL = timedelta(hours=1)
# A typed yes / no / skipped answers a "did you make it?" asked within this long.
FOLLOW_UP_TEXT_WINDOW = timedelta(hours=12)


@dataclass
class Outcome:
    """What to do after the transaction commits."""

    toast: str | None = None  # the callback answer
    edit: Rendered | str | None = None  # replaces the pressed message
    clear_buttons: bool = False  # or only removes its buttons
    send: list[Rendered | str] = field(default_factory=list)


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


LIST, MANAGE = "list", "manage"  # the MEETINGS steps besides a program-list choice (its filter)


async def _list_view(services: Services, session: AsyncSession, participant: Participant):
    meetings = await meeting_db.active_meetings(session, participant.id)
    items = [(m.id, meeting_work.info_of(services.catalog, m)) for m in meetings]
    program = await meeting_db.program_has_meetings(session)
    awaiting.asking(session, awaiting.MEETINGS, services.now(), step=LIST)
    return view.meeting_list(services.catalog, items, participant.timezone, program)


async def open_list(services: Services, session: AsyncSession, participant: Participant):
    """/meetings: their list, with buttons to add, change or remove. It also ends a half-typed
    meeting: the participant has moved on."""
    await meeting_db.discard_drafts(session, participant.id)
    return await _list_view(services, session, participant)


async def press(
    services: Services, session: AsyncSession, participant: Participant, data: MeetingButton
) -> Outcome:
    catalog, now = services.catalog, services.now()
    texts = catalog.texts["meetings"]
    expired = Outcome(toast=catalog.text("general", "expired_button"))
    match data:
        case MeetingMenuButton("p"):
            return await _start_picking(services, session, participant)
        case MeetingMenuButton("o"):
            return await _start_own(services, session, participant)
        case MeetingMenuButton("x"):
            if await meeting_db.discard_drafts(session, participant.id):
                awaiting.answered(session, awaiting.MEETING)
                return Outcome(edit=texts["cancelled"])
        case MeetingMenuButton("s"):
            draft = await _live_draft(session, participant, now)
            if draft is not None and draft.draft_step == "place":
                finished = await _finish(services, session, participant, draft)
                return Outcome(clear_buttons=True, send=[finished])
        case MeetingDayButton(day):
            draft = await _live_draft(session, participant, now)
            if draft is not None and draft.draft_step == "day":
                draft.weekday, draft.draft_step, draft.updated_at = day, "time", now
                awaiting.asking(session, awaiting.MEETING, now, draft.id, "time")
                return Outcome(clear_buttons=True, send=[view.own_time(catalog)])
        case MeetingFilterButton():
            return await _filter(services, session, data)
        case MeetingPickButton(meeting_id, day):
            return await _pick(services, session, participant, meeting_id, day)
        case MeetingManageButton(meeting_id):
            meeting = await meeting_db.owned(session, participant.id, meeting_id)
            if meeting is not None:
                return Outcome(send=[await _manage(services, session, participant, meeting)])
        case MeetingLeadButton(meeting_id, minutes):
            meeting = await meeting_db.owned(session, participant.id, meeting_id)
            label = dict(catalog.meetings.leads).get(minutes)
            if meeting is not None and label is not None:
                meeting_work.change_lead(meeting, minutes, now)
                edit = await _manage(services, session, participant, meeting)
                return Outcome(toast=texts["lead_set"].format(lead=label), edit=edit)
        case MeetingRemoveButton(meeting_id):
            meeting = await meeting_db.owned(session, participant.id, meeting_id)
            if meeting is not None:
                meeting_db.remove(meeting, now)
                awaiting.answered(session, awaiting.MEETINGS)
                return Outcome(edit=fill(texts["removed"], name=meeting.name or ""))
        case AttendanceButton(attendance_id, answer):
            return await _attendance_button(services, session, participant, attendance_id, answer)
    return expired


async def _manage(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    meeting: ParticipantMeeting,
    header: str = "",
) -> Rendered:
    program = await session.get(Meeting, meeting.meeting_id) if meeting.meeting_id else None
    info = meeting_work.info_of(services.catalog, meeting, program)
    awaiting.asking(session, awaiting.MEETINGS, services.now(), meeting.id, MANAGE)
    return view.manage(services.catalog, meeting.id, info, participant.timezone, header)


async def _room_for_one_more(
    services: Services, session: AsyncSession, participant: Participant
) -> Markup | None:
    """None, or the kind reply when their list is full."""
    most = services.catalog.meetings.max_meetings
    if await meeting_db.count_active(session, participant.id) < most:
        return None
    return fill(services.catalog.text("meetings", "limit_reached"), count=most)


# --- the program's list -----------------------------------------------------------------------


async def _start_picking(
    services: Services, session: AsyncSession, participant: Participant
) -> Outcome:
    if full := await _room_for_one_more(services, session, participant):
        return Outcome(send=[full])
    if not await meeting_db.program_has_meetings(session):
        return Outcome(send=[services.catalog.text("meetings", "program_empty")])
    _asking_filter(services, session, view.FIRST_STEP)
    return Outcome(send=[view.filter_step(services.catalog, view.FIRST_STEP)])


def _asking_filter(services: Services, session: AsyncSession, chosen: MeetingFilterButton) -> None:
    """The program list's next choice (or its results) is asked: the choices so far are the
    step, as the buttons carry them."""
    awaiting.asking(session, awaiting.MEETINGS, services.now(), step=encode(chosen))


def _filter_of(services: Services, data: MeetingFilterButton) -> meeting_db.MeetingFilter | None:
    """The choices as a query, or None when they are not a sequence we make."""
    choices = [data.day, data.part, data.where, data.kind]
    first_unset = choices.index(view.UNSET) if view.UNSET in choices else len(choices)
    if any(c != view.UNSET for c in choices[first_unset:]):
        return None
    options = services.catalog.meetings
    if data.kind not in (view.UNSET, view.ANY, *options.filter_types):
        return None
    morning, evening = (t.strftime("%H:%M") for t in (options.morning_before, options.evening_from))
    start_from, start_before = {
        "m": (None, morning), "a": (morning, evening), "e": (evening, None),
    }.get(data.part, (None, None))  # fmt: skip
    return meeting_db.MeetingFilter(
        weekday=int(data.day) if data.day.isdigit() else None,
        start_from=start_from,
        start_before=start_before,
        in_person={"p": True, "o": False}.get(data.where),
        kind=data.kind if data.kind not in (view.UNSET, view.ANY) else None,
    )


async def _filter(services: Services, session: AsyncSession, data: MeetingFilterButton) -> Outcome:
    catalog = services.catalog
    chosen = _filter_of(services, data)
    if chosen is None:
        return Outcome(toast=catalog.text("general", "expired_button"))
    _asking_filter(services, session, data)
    if data.kind == view.UNSET:
        return Outcome(edit=view.filter_step(catalog, data))
    count, rows = await meeting_db.find_meetings(session, chosen, RESULTS_SHOWN)
    found = [
        view.Found(row.id, day, row.start_time, row.name, online_only=not row.in_person)
        for row in rows
        for day in ([chosen.weekday] if chosen.weekday is not None else days_of(row.day_mask))
    ]
    found = sorted(found, key=lambda f: (f.weekday, f.start, f.name))[:RESULTS_SHOWN]
    return Outcome(edit=view.results(catalog, found, count))


async def _pick(
    services: Services, session: AsyncSession, participant: Participant, meeting_id: int, day: int
) -> Outcome:
    catalog, now = services.catalog, services.now()
    texts = catalog.texts["meetings"]
    program = await session.get(Meeting, meeting_id)
    offered = program is not None and (program.in_person or program.online)
    if program is None or not offered or not program.day_mask & (1 << day):
        return Outcome(toast=catalog.text("general", "expired_button"))
    if await meeting_db.already_added(session, participant.id, meeting_id, day):
        return Outcome(toast=texts["already_added"])
    if full := await _room_for_one_more(services, session, participant):
        return Outcome(send=[full])
    meeting = await meeting_db.add_from_program(
        session, participant.id, program, day, catalog.meetings.default_lead, now
    )
    meeting_work.start_schedule(meeting, now)
    added = await _manage(services, session, participant, meeting, texts["added"])
    return Outcome(toast=texts["added"], send=[added])


# --- their own meeting, typed in --------------------------------------------------------------


async def _start_own(services: Services, session: AsyncSession, participant: Participant):
    if full := await _room_for_one_more(services, session, participant):
        return Outcome(send=[full])
    lead = services.catalog.meetings.default_lead
    await meeting_db.start_draft(session, participant.id, lead, services.now())
    return Outcome(send=[view.own_name(services.catalog)])


async def _live_draft(
    session: AsyncSession, participant: Participant, now: datetime
) -> ParticipantMeeting | None:
    draft = await meeting_db.draft_of(session, participant.id)
    if draft is None or draft.updated_at <= now - DRAFT_TTL:
        return None
    return draft


async def _finish(
    services: Services, session: AsyncSession, participant: Participant, draft: ParticipantMeeting
) -> Rendered | Markup:
    now = services.now()
    if full := await _room_for_one_more(services, session, participant):
        await meeting_db.discard_drafts(session, participant.id)
        return full
    zone = participant.timezone or services.settings.default_timezone
    meeting_db.activate(draft, zone, now)
    awaiting.answered(session, awaiting.MEETING, draft.id)
    meeting_work.start_schedule(draft, now)
    return await _manage(
        services, session, participant, draft, services.catalog.texts["meetings"]["added"]
    )


def _is_link(text: str) -> bool:
    return text.lower().startswith(("https://", "http://")) and " " not in text


async def _draft_text(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    draft: ParticipantMeeting,
    text: str,
) -> list[Rendered | Markup | str]:
    catalog, now = services.catalog, services.now()
    texts = catalog.texts["meetings"]
    value = " ".join(text.split())
    draft.updated_at = now
    step = draft.draft_step
    problem: Rendered | None = None
    # Whatever comes of it, the draft's step (the next one, or this one again) is asked now.
    awaiting.asking(session, awaiting.MEETING, now, draft.id, step)
    if step == "name":
        if value and len(value) <= MAX_OWN_NAME:
            draft.name, draft.draft_step = value, "day"
            awaiting.asking(session, awaiting.MEETING, now, draft.id, "day")
            return [view.own_day(catalog, value)]
        problem = view.own_name(catalog, fill(texts["own_name_invalid"], max=MAX_OWN_NAME))
    elif step == "day":
        day = parse_weekday(value, catalog.dates.weekdays)
        if day is not None:
            draft.weekday, draft.draft_step = day, "time"
            awaiting.asking(session, awaiting.MEETING, now, draft.id, "time")
            return [view.own_time(catalog)]
        invalid = fill(texts["own_day_invalid"], text=_shown(value))
        problem = view.own_day(catalog, draft.name or "", invalid)
    elif step == "time":
        at = parse_clock_time(value)
        if at is not None:
            draft.start_time = at.strftime("%H:%M")
            draft.end_time = start_plus(at, DEFAULT_LENGTH).strftime("%H:%M")
            draft.draft_step = "place"
            awaiting.asking(session, awaiting.MEETING, now, draft.id, "place")
            return [view.own_place(catalog)]
        problem = view.own_time(catalog, fill(texts["own_time_invalid"], text=_shown(value)))
    else:
        if value and len(value) <= MAX_PLACE:
            if _is_link(value):
                draft.link = value
            else:
                draft.place = value
            return [await _finish(services, session, participant, draft)]
        problem = view.own_place(catalog, fill(texts["own_place_invalid"], max=MAX_PLACE))
    if len(text.split()) >= NOTE_MIN_WORDS:
        # Too long to be the answer asked for, and maybe something that matters: keep it.
        notes.save_note(session, participant.id, text, now)
        saved = catalog.text("checkin", "note_saved_during")
        problem = Rendered(Markup(saved + "\n\n" + problem.text), problem.buttons)
    return [problem]


# --- "did you make it?" -----------------------------------------------------------------------


async def _answer(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    attendance: MeetingAttendance,
    answer: str,
    source: str,
) -> tuple[Markup, str]:
    """Record the answer (and what it means for risk); the answered line and the reply."""
    catalog = services.catalog
    awaiting.answered(session, awaiting.ATTENDANCE, attendance.id)
    meeting = await session.get_one(ParticipantMeeting, attendance.participant_meeting_id)
    await meeting_work.record_attendance(
        session, services.program_catalog, participant, attendance, answer, source, services.now(),
        team_chat_id=services.settings.counselor_team_chat_id,
    )  # fmt: skip
    reply = catalog.meetings.answer(answer)
    return view.answered(catalog, meeting.name or "", answer), reply.reply if reply else ""


async def _attendance_button(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    attendance_id: int,
    answer: str,
) -> Outcome:
    catalog = services.catalog
    attendance = await session.get(MeetingAttendance, attendance_id)
    if attendance is None or attendance.participant_id != participant.id:
        return Outcome(toast=catalog.text("general", "not_for_you"))
    if attendance.answer is not None:
        return Outcome(toast=catalog.text("meetings", "already_answered"))
    line, reply = await _answer(services, session, participant, attendance, answer, "button")
    return Outcome(edit=line, send=[reply])


async def draft_text(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    draft_id: int | None,
    text: str,
) -> Reply | None:
    """The next step of the meeting they are typing in (Cancel, and Skip at the place, typed
    whole do what the buttons do); None when that draft is gone."""
    draft = await _live_draft(session, participant, services.now())
    if draft is None or draft.id != draft_id:
        return None
    texts = services.catalog.texts["meetings"]
    buttons = [(texts["cancel"], view.CANCEL)]
    if draft.draft_step == "place":
        buttons.append((texts["skip"], MeetingMenuButton("s")))
    pressed = choices.label_typed(text, Rendered("", (tuple(buttons),)))
    if isinstance(pressed, MeetingMenuButton):
        return _typed_outcome(await press(services, session, participant, pressed))
    return Reply(await _draft_text(services, session, participant, draft, text))


async def draft_question(
    services: Services, session: AsyncSession, participant: Participant, draft_id: int | None
) -> Rendered | None:
    """The question of the step their half-typed meeting stands at, asked again."""
    draft = await _live_draft(session, participant, services.now())
    if draft is None or draft.id != draft_id:
        return None
    catalog, step = services.catalog, draft.draft_step
    awaiting.asking(session, awaiting.MEETING, services.now(), draft.id, step)
    if step == "name":
        return view.own_name(catalog)
    if step == "day":
        return view.own_day(catalog, draft.name or "")
    if step == "time":
        return view.own_time(catalog)
    return view.own_place(catalog)


async def _open_attendance(
    services: Services, session: AsyncSession, participant: Participant, attendance_id: int | None
) -> MeetingAttendance | None:
    attendance = await session.get(MeetingAttendance, attendance_id) if attendance_id else None
    if attendance is None or attendance.participant_id != participant.id:
        return None
    stale = attendance.asked_at < services.now() - FOLLOW_UP_TEXT_WINDOW
    if attendance.answer is not None or stale:
        return None
    return attendance


async def attendance_text(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    attendance_id: int | None,
    text: str,
) -> Reply | None:
    """A typed answer to "did you make it?"; the question again (with a hint) when the text is
    not one; None when that question is no longer open."""
    asked = await _open_attendance(services, session, participant, attendance_id)
    if asked is None:
        return None
    question = await attendance_question(services, session, participant, attendance_id)
    if question is None:
        return None
    catalog = services.catalog
    words = [(word_list(", ".join(a.typed)), AttendanceButton(asked.id, a.value))
             for a in catalog.meetings.answers]  # fmt: skip
    read = choices.read(catalog, text, question, words=words)
    if read.button is None:
        return await safety.not_an_answer(session, services, participant, text, read.again)
    line, reply = await _answer(services, session, participant, asked, read.button.answer, "typed")
    return Reply([Markup(line + "\n\n" + reply)])


async def attendance_question(
    services: Services, session: AsyncSession, participant: Participant, attendance_id: int | None
) -> Rendered | None:
    asked = await _open_attendance(services, session, participant, attendance_id)
    if asked is None:
        return None
    meeting = await session.get(ParticipantMeeting, asked.participant_meeting_id)
    awaiting.asking(session, awaiting.ATTENDANCE, services.now(), asked.id)
    return view.follow_up(services.catalog, asked.id, (meeting.name or "") if meeting else "")


# --- the /meetings messages answered in words -------------------------------------------------


def _typed_outcome(outcome: Outcome) -> Reply:
    """What a press shows (the pressed message replaced, messages sent, or a toast), as the
    replies to the same choice typed."""
    messages: list[Rendered | Markup | str] = []
    if outcome.edit is not None:  # a toast beside an edit is the press's only word about it
        messages += [outcome.toast] if outcome.toast else []
        messages.append(outcome.edit)
    messages += outcome.send
    if not messages and outcome.toast:
        messages = [outcome.toast]
    return Reply(messages)


async def menu_question(
    services: Services, session: AsyncSession, participant: Participant, asked: Asked
) -> Rendered | None:
    """The /meetings message asked last, again (and asked anew): their list, the program
    list's next choice or its results, or one meeting's; None when it no longer stands."""
    if asked.step == LIST:
        return await _list_view(services, session, participant)
    if asked.step == MANAGE:
        meeting = await meeting_db.owned(session, participant.id, asked.ref_id or 0)
        return await _manage(services, session, participant, meeting) if meeting else None
    chosen = decode(asked.step)
    if not isinstance(chosen, MeetingFilterButton):
        return None
    shown = (await _filter(services, session, chosen)).edit
    return shown if isinstance(shown, Rendered) else None


async def menu_text(
    services: Services, session: AsyncSession, participant: Participant, asked: Asked, text: str
) -> Reply | None:
    """A typed reply to the /meetings message asked last: what the button it stands for does."""
    question = await menu_question(services, session, participant, asked)
    if question is None:
        awaiting.answered(session, awaiting.MEETINGS)
        return None
    read = choices.read(services.catalog, text, question)
    if read.button is None:
        return await safety.not_an_answer(session, services, participant, text, read.again)
    awaiting.answered(session, awaiting.MEETINGS)  # what the button does asks anew, if it asks
    return _typed_outcome(await press(services, session, participant, read.button))
