"""/settings for participants: check-in time, time zone, weekly day, quiet hours and language.

Each change reuses enrollment's keyboards and parsers (messages/render.py, messages/answers.py),
is written to the audit log, and recomputes the next check-in with the pure schedule function.
The functions here work inside the caller's transaction and return what to send; the setting
a typed answer belongs to is what was asked last (db/awaiting).
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from care import choices, safety
from care.reply import Reply
from care.services import Services
from db import audit, awaiting
from db.awaiting import Asked
from db.models import Participant
from db.sql import session_of
from messages import render
from messages.answers import parse_clock_time, parse_quiet_hours, parse_timezone, parse_weekday
from messages.callback_data import (
    LanguageButton,
    QuietButton,
    SettingsButton,
    TimeButton,
    TimezoneButton,
    WeekdayButton,
)
from messages.render import Markup, Rendered, fill
from scheduler import reminders
from scheduler.checkins import advance_schedule, quiet_hours_of
from scheduler.schedule import in_quiet_hours

SHOWN = 40  # characters of unreadable input quoted back

SettingsPress = (
    SettingsButton | TimezoneButton | TimeButton | WeekdayButton | QuietButton | LanguageButton
)


MENU = "menu"  # the step of the settings menu itself (which setting to change)


async def command(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """/settings: the menu; a discharged participant is told their check-ins have ended."""
    if participant.status == "discharged":
        return Reply([services.catalog.text("discharge", "ended")])
    return Reply([menu(services, participant)])


def menu(services: Services, participant: Participant) -> Rendered:
    """The current settings, with a button for each (typed, a button's label or number picks
    it). Opening it drops any half-made change."""
    catalog = services.catalog
    awaiting.asking(session_of(participant), awaiting.SETTINGS, services.now(), step=MENU)
    shown = render.settings_menu(
        catalog,
        participant.checkin_time or "",
        participant.timezone or "",
        participant.weekly_day,
        render.quiet_hours(catalog, participant.quiet_start, participant.quiet_end),
        catalog.language_name,
    )
    if participant.status == "paused" and participant.paused_until is not None:
        note = fill(catalog.text("settings", "paused_note"),
                    until=stamp_for(services, participant, participant.paused_until))  # fmt: skip
        shown = Rendered(Markup(shown.text + "\n\n" + note), shown.buttons)
    return shown


def question(services: Services, participant: Participant, step: str | None) -> Rendered:
    """The question a settings step stands at, asked again: the menu, or one setting's."""
    if not step or step == MENU:
        return menu(services, participant)
    return ask(services, participant, step)


def ask(services: Services, participant: Participant, item: str) -> Rendered:
    """The question for one setting, with enrollment's keyboard for it."""
    awaiting.asking(session_of(participant), awaiting.SETTINGS, services.now(), step=item)
    catalog = services.catalog
    texts = catalog.texts["settings"]
    match item:
        case "time":
            text = fill(texts["ask_time"], timezone=participant.timezone or "")
            return Rendered(text, render.time_prompt(catalog, "").buttons)
        case "timezone":
            return Rendered(texts["ask_timezone"], render.timezone_prompt(catalog).buttons)
        case "weekly":
            return Rendered(texts["ask_weekly"], render.weekday_prompt(catalog, "").buttons)
        case "quiet":
            return render.quiet_prompt(catalog)
    return _language_prompt(services)


async def pressed(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    data: SettingsPress,
    asked: Asked | None,
) -> Rendered | None:
    """A settings button; None when it does not belong to the setting asked last (a stale or
    forged press changes nothing)."""
    step = asked.step if awaiting.is_(asked, awaiting.SETTINGS) else None
    match data:
        case SettingsButton(item):
            return ask(services, participant, item)
        case TimezoneButton(zone) if step == "timezone" and parse_timezone(zone) == zone:
            return await _set_timezone(session, services, participant, zone)
        case TimeButton(hhmm) if step == "time" and (at := parse_clock_time(hhmm)) is not None:
            return _set_time(session, services, participant, at)
        case WeekdayButton(day) if step == "weekly":
            return _set_weekly(session, services, participant, day)
        case QuietButton("off") if step == "quiet":
            return _set_quiet(session, services, participant, None)
        case QuietButton(hours) if step == "quiet" and parse_quiet_hours(hours) is not None:
            return _set_quiet(session, services, participant, parse_quiet_hours(hours))
        case LanguageButton(code) if step == "language" and code in services.catalogs.by_locale:
            return _set_language(session, services, participant, code)
    return None


def typed_press(services: Services, step: str, text: str) -> SettingsPress | None:
    """The button typed words stand for at a setting's question: what its parser reads (a
    zone, a clock time, a weekday, quiet hours), else a button's label or number. Enrollment's
    time zone, time and weekday questions read them the same way."""
    catalog = services.catalog
    match step:
        case "timezone":
            if (zone := parse_timezone(text)) is not None:
                return TimezoneButton(zone)
            return choices.read(catalog, text, render.timezone_prompt(catalog)).button
        case "time":  # a number is an hour there, never a button's place in the row
            at = parse_clock_time(text)
            return TimeButton(at.strftime("%H:%M")) if at is not None else None
        case "weekly":
            if (day := parse_weekday(text, catalog.dates.weekdays)) is not None:
                return WeekdayButton(day)
            return choices.read(catalog, text, render.weekday_prompt(catalog, "")).button
        case "quiet":
            if (window := parse_quiet_hours(text)) is not None:
                return QuietButton("-".join(t.strftime("%H:%M") for t in window))
            off = [(frozenset(catalog.quiet_off_words), QuietButton("off"))]
            return choices.read(catalog, text, render.quiet_prompt(catalog), words=off).button
        case "language":
            return choices.read(catalog, text, _language_prompt(services)).button
    return None


async def typed(
    session: AsyncSession, services: Services, participant: Participant, asked: Asked, text: str
) -> Reply:
    """A typed answer to the settings menu or to the setting being changed: what the button it
    stands for would do. Anything else gets the question again (kept as a note, and read for
    safety, when it reads like a message)."""
    catalog = services.catalog
    step = asked.step or MENU
    if step == MENU:
        read = choices.read(catalog, text, menu(services, participant))
        if read.button is not None:
            return Reply([ask(services, participant, read.button.item)])
        return await safety.not_an_answer(session, services, participant, text, read.again)
    press = typed_press(services, step, text)
    if press is not None:
        changed = await pressed(session, services, participant, press, asked)
        if changed is not None:
            return Reply([changed])
    shown = text if len(text) <= SHOWN else text[:SHOWN] + "…"
    invalid = {
        "timezone": ("enrollment", "timezone_invalid"),
        "time": ("enrollment", "time_invalid"),
        "weekly": ("enrollment", "weekly_invalid"),
        "quiet": ("settings", "quiet_invalid"),
    }
    question = ask(services, participant, step)
    if step in invalid:
        again = Rendered(fill(catalog.text(*invalid[step]), text=shown), question.buttons)
    else:
        again = choices.hinted(catalog, question)
    return await safety.not_an_answer(session, services, participant, text, again)


def _language_prompt(services: Services) -> Rendered:
    languages = [(code, services.catalogs.get(code).language_name)
                 for code in services.catalogs.locales()]  # fmt: skip
    return render.language_prompt(services.catalog, languages)


# --- changes ----------------------------------------------------------------------------------


def when_for(services: Services, participant: Participant, instant) -> str:
    """'tomorrow at 09:00', in the participant's own time."""
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    return render.when(services.catalog, instant.astimezone(zone),
                       services.now().astimezone(zone).date())  # fmt: skip


def stamp_for(services: Services, participant: Participant, instant) -> str:
    """'Thu 8 Jan, 09:00', in the participant's own time."""
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    return render.day_and_time(services.catalog, instant.astimezone(zone))


def next_checkin_text(services: Services, participant: Participant) -> str:
    """'tomorrow at 09:00': when the next scheduled check-in comes, in their own time."""
    if participant.next_checkin_at is None:
        return ""
    return when_for(services, participant, participant.next_checkin_at)


def _changed(session: AsyncSession, services: Services, participant: Participant, setting: str,
             value: object) -> None:  # fmt: skip
    awaiting.answered(session, awaiting.SETTINGS)
    now = services.now()
    advance_schedule(participant, now)
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, "settings_changed", subject,
                 {"setting": setting, "value": value})  # fmt: skip


def _quiet_note(services: Services, participant: Participant) -> Markup | None:
    """Says so when their check-in time falls in their quiet hours (it moves to their end)."""
    quiet = quiet_hours_of(participant)
    at = parse_clock_time(participant.checkin_time or "")
    if quiet is None or at is None or not in_quiet_hours(at, *quiet):
        return None
    return fill(services.catalog.text("settings", "quiet_moves_checkin"),
                time=participant.checkin_time, end=participant.quiet_end)  # fmt: skip


def _with_note(text: Markup, note: Markup | None) -> Rendered:
    return Rendered(Markup(text + "\n\n" + note) if note else text)


def _set_time(session, services: Services, participant: Participant, at: time) -> Rendered:
    participant.checkin_time = at.strftime("%H:%M")
    _changed(session, services, participant, "checkin_time", participant.checkin_time)
    text = fill(
        services.catalog.text("settings", "saved_time"),
        time=participant.checkin_time,
        timezone=participant.timezone,
        next=next_checkin_text(services, participant),
    )
    return _with_note(text, _quiet_note(services, participant))


async def _set_timezone(
    session, services: Services, participant: Participant, zone: str
) -> Rendered:
    participant.timezone = zone
    _changed(session, services, participant, "timezone", zone)
    # Dose times are local times: their reminders move with the zone.
    await reminders.reschedule_all(session, services.catalog, participant, services.now())
    text = fill(
        services.catalog.text("settings", "saved_timezone"),
        timezone=zone,
        time=participant.checkin_time,
        next=next_checkin_text(services, participant),
    )
    return Rendered(text)


def _set_weekly(session, services: Services, participant: Participant, day: int) -> Rendered:
    participant.weekly_day = day
    _changed(session, services, participant, "weekly_day", day)
    text = fill(services.catalog.text("settings", "saved_weekly"),
                weekday=render.every(services.catalog, day))  # fmt: skip
    return Rendered(text)


def _set_quiet(
    session, services: Services, participant: Participant, window: tuple[time, time] | None
) -> Rendered:
    texts = services.catalog.texts["settings"]
    if window is None:
        participant.quiet_start = participant.quiet_end = None
        _changed(session, services, participant, "quiet_hours", None)
        return Rendered(fill(texts["quiet_cleared"], next=next_checkin_text(services, participant)))
    start, end = (t.strftime("%H:%M") for t in window)
    participant.quiet_start, participant.quiet_end = start, end
    _changed(session, services, participant, "quiet_hours", f"{start}-{end}")
    text = fill(texts["saved_quiet"], start=start, end=end,
                next=next_checkin_text(services, participant))  # fmt: skip
    return _with_note(text, _quiet_note(services, participant))


def _set_language(session, services: Services, participant: Participant, code: str) -> Rendered:
    participant.language = code
    _changed(session, services, participant, "language", code)
    catalog = services.speaking(code).catalog  # the confirmation already speaks it
    text = fill(catalog.text("settings", "saved_language"), language=catalog.language_name)
    # The "I need help now" button under the text field changes language too.
    return render.help_keyboard(catalog, text)
