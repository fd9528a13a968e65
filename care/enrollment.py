"""Enrollment after a participant's invite: consent, time zone, check-in time and weekly day,
tapped or typed, and its end (the first check-in scheduled). Where it stands is the
participant's enroll_step, so anyone can pick up where they were."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from care import choices, medication, participant_settings, safety
from care.reply import Reply, as_typed
from care.services import Services
from db import audit, notes, people
from db.models import Participant
from messages import render
from messages.answers import parse_clock_time, parse_timezone
from messages.callback_data import (
    ConsentButton,
    LanguageButton,
    TimeButton,
    TimezoneButton,
    WeekdayButton,
)
from messages.catalog import Catalog
from messages.render import Markup, Rendered, fill
from scheduler.checkins import advance_schedule


def _name(participant: Participant) -> str:
    return participant.first_name or ""


def prompt(catalog: Catalog, participant: Participant) -> Rendered:
    """The question for the step enrollment stands at, so anyone can pick up where they were."""
    if participant.enroll_step == "timezone":
        return render.timezone_prompt(catalog)
    if participant.enroll_step == "time":
        return render.time_prompt(catalog, participant.timezone or "")
    if participant.enroll_step == "weekly":
        return render.weekday_prompt(catalog, participant.checkin_time or "")
    return render.consent(catalog, _name(participant))


async def ask_again(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """What an enrolling participant gets for a command that needs them enrolled: the
    question of their step again."""
    return Reply([prompt(services.catalog, participant)])


def _choose_time(services: Services, participant: Participant, hhmm: str) -> Rendered:
    participant.checkin_time = hhmm
    participant.enroll_step = "weekly"
    return render.weekday_prompt(services.catalog, hhmm)


async def _finish(
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


async def pressed(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    data: ConsentButton | participant_settings.SettingsPress,
) -> Reply | None:
    """A step's button (or its typed equivalent): the next step's question; None when the
    button is not for the step enrollment stands at."""
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
            return Reply(await _finish(session, services, participant, day, now))
    return None


async def typed(
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
        reply = await pressed(session, services, participant, press)
        if reply is not None:
            return reply
    shown = text if len(text) <= 40 else text[:40] + "…"
    message = fill(catalog.text("enrollment", f"{step}_invalid"), text=shown)
    buttons = prompt(catalog, participant).buttons
    if len(text.split()) >= safety.NOTE_MIN_WORDS:  # reads like a message: kept as one too
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
        if len(text.split()) >= safety.NOTE_MIN_WORDS:
            notes.save_note(session, participant.id, text, services.now())
        return Reply([read.again])
    reply = await pressed(session, services, participant, read.button)
    if reply is None:
        return Reply([prompt(catalog, participant)])
    return as_typed(reply)
