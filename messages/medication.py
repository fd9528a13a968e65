"""Medication: reading dose times, injection dates and a counselor's one-line set-up, and
rendering the set-up steps, the list in /medication and the reminders. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from messages.answers import parse_clock_time
from messages.callback_data import DoseButton, MedicationButton, MedicationSetupButton
from messages.catalog import Catalog, MedicationOption
from messages.render import Button, Markup, Rendered, a_date, fill, listed

MAX_DOSE_TIMES = 4
NAME_MAX = 60
NAME_MAX_WORDS = 5
OTHER = "other"  # the key of a medication typed by name
DATE_AHEAD_DAYS = 366
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NO_REMINDER = {"no-reminder", "no-reminders", "noreminder", "noreminders", "no_reminder"}


@dataclass(frozen=True)
class MedicationView:
    """A medication as the participant's list shows it."""

    id: int
    name: str
    kind: str  # daily | injection
    dose_times: tuple[str, ...]
    next_injection_on: date | None
    reminders: bool


def shown_name(catalog: Catalog, key: str, stored: str) -> str:
    """A medication from the list in the reader's language ('metadona'); one typed by name as
    typed."""
    option = catalog.medication(key) if key != OTHER else None
    return option.name if option is not None else stored


# --- reading ----------------------------------------------------------------------------------


def parse_dose_times(text: str) -> tuple[str, ...] | None:
    """'08:00', '8:00, 20:00', '08:00 and 20:00' -> ('08:00', '20:00'); None if any part is not
    a time, or there are none or more than four."""
    # "08:00 and 20:00", "08:00 y 20:00"
    parts = [p for p in re.split(r"[\s,;/&]+|\band\b|\by\b", text.strip().casefold()) if p]
    times = []
    for part in parts:
        at = parse_clock_time(part)
        if at is None:
            return None
        times.append(at.strftime("%H:%M"))
    unique = tuple(sorted(set(times)))
    return unique if 1 <= len(unique) <= MAX_DOSE_TIMES else None


def _month(word: str, months: Sequence[str] = ()) -> int | None:
    """'Feb', 'february'; with `months` (a language's names) also 'feb.', 'febrero'."""
    word = word.casefold().rstrip(".")
    if len(word) < 3:
        return None
    matches = [i + 1 for i, name in enumerate(_MONTHS) if word.startswith(name)]
    if not matches and months:
        matches = [i + 1 for i, name in enumerate(months) if name.casefold().startswith(word)]
    return matches[0] if len(matches) == 1 else None


def _next_occurrence(month: int, day: int, today: date) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def parse_date(text: str, today: date, months: Sequence[str] = ()) -> date | None:
    """'2026-02-03', '2/3' or '2/3/2026' (month first, as in the US), '3 Feb', 'Feb 3rd',
    'today', 'tomorrow' -> a date from today up to a year ahead; anything else -> None.
    `months`: the month names of the participant's language too ('3 de febrero')."""
    cleaned = " ".join(text.strip().casefold().replace(",", " ").replace(" de ", " ").split())
    found: date | None = None
    if cleaned in ("today", "tomorrow"):
        found = today + timedelta(days=cleaned == "tomorrow")
    elif m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", cleaned):
        try:
            found = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    elif m := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?", cleaned):
        month, day, year = int(m.group(1)), int(m.group(2)), m.group(3)
        if year is None:
            found = _next_occurrence(month, day, today) if 1 <= month <= 12 else None
        else:
            try:
                found = date(int(year) + (2000 if len(year) == 2 else 0), month, day)
            except ValueError:
                return None
    elif m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)? ([a-z.]+)(?: (\d{4}))?", cleaned):
        found = _day_month(_month(m.group(2), months), int(m.group(1)), m.group(3), today)
    elif m := re.fullmatch(r"([a-z.]+) (\d{1,2})(?:st|nd|rd|th)?(?: (\d{4}))?", cleaned):
        found = _day_month(_month(m.group(1), months), int(m.group(2)), m.group(3), today)
    if found is None or not today <= found <= today + timedelta(days=DATE_AHEAD_DAYS):
        return None
    return found


def _day_month(month: int | None, day: int, year: str | None, today: date) -> date | None:
    if month is None:
        return None
    if year is None:
        return _next_occurrence(month, day, today)
    try:
        return date(int(year), month, day)
    except ValueError:
        return None


def parse_name(text: str) -> str | None:
    """A medication's name typed by the participant: a few words, with a letter in them.
    Anything longer reads as a message, not a name, and is kept as a note instead."""
    name = " ".join(text.split())
    if not any(c.isalpha() for c in name) or len(name) > NAME_MAX:
        return None
    return name if len(name.split()) <= NAME_MAX_WORDS else None


@dataclass(frozen=True)
class CounselorEntry:
    """What a counselor's `/medication <who> <medication> <times or date> [no-reminder]` sets."""

    option: MedicationOption
    dose_times: tuple[str, ...] = ()
    injection_on: date | None = None
    reminders: bool = True


def parse_counselor_entry(
    catalog: Catalog, words: Sequence[str], today: date
) -> CounselorEntry | str:
    """The entry, or the problem: medication, times or date (a [medication] text key)."""
    words = list(words)
    reminders = True
    if words and words[-1].casefold() in _NO_REMINDER:
        reminders = False
        words.pop()
    if not words:
        return "problem_medication"
    option = catalog.medication(words[0].casefold().replace("_", "-"))
    if option is None:
        return "problem_medication"
    rest = " ".join(words[1:])
    if option.kind == "daily":
        times = parse_dose_times(rest)
        if times is None:
            return "problem_times"
        return CounselorEntry(option, dose_times=times, reminders=reminders)
    on = parse_date(rest, today)
    if on is None:
        return "problem_date"
    return CounselorEntry(option, injection_on=on, reminders=reminders)


# --- rendering --------------------------------------------------------------------------------


def day_label(catalog: Catalog, day: date) -> str:
    """'Tue 3 Feb'."""
    return a_date(catalog, day)


def date_example(today: date) -> str:
    return (today + timedelta(days=14)).isoformat()


def times_label(catalog: Catalog, times: Sequence[str]) -> str:
    """'08:00', '08:00 and 20:00', '08:00, 14:00 and 20:00'."""
    return listed(catalog, times)


def _reminders_word(catalog: Catalog, on: bool) -> str:
    return catalog.text("medication", "reminders_on" if on else "reminders_off")


def ask_which(catalog: Catalog) -> Rendered:
    texts = catalog.texts["medication"]
    rows = [((o.button, MedicationSetupButton("p", o.key)),) for o in catalog.medications]
    rows.append(((texts["other_button"], MedicationSetupButton("p", OTHER)),))
    rows.append(((texts["none_button"], MedicationSetupButton("p", "none")),))
    return Rendered(texts["ask_which"], tuple(rows))


def ask_times(catalog: Catalog, name: str) -> Rendered:
    buttons = [(hhmm, MedicationSetupButton("t", hhmm)) for hhmm in catalog.time_buttons]
    rows = tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))
    return Rendered(fill(catalog.text("medication", "ask_times"), medication=name), rows)


def ask_date(catalog: Catalog, name: str, today: date) -> Rendered:
    text = fill(catalog.text("medication", "ask_date"), medication=name,
                example=date_example(today))  # fmt: skip
    return Rendered(text)


def ask_reminder(catalog: Catalog, kind: str, times: Sequence[str]) -> Rendered:
    texts = catalog.texts["medication"]
    if kind == "daily":
        when = fill(texts["when_daily"], times=times_label(catalog, times))
    else:
        when = Markup(texts["when_injection"])
    buttons = (
        (texts["remind_yes"], MedicationSetupButton("r", "y")),
        (texts["remind_no"], MedicationSetupButton("r", "n")),
    )
    return Rendered(fill(texts["ask_reminder"], when=when), (buttons,))


def summary(catalog: Catalog, medication: MedicationView, today: date, interval: int | None):
    """One line: 'methadone every day at 08:00, with reminders'."""
    texts = catalog.texts["medication"]
    reminders = _reminders_word(catalog, medication.reminders)
    if medication.kind == "daily":
        times = times_label(catalog, medication.dose_times)
        return fill(texts["summary_daily"], medication=medication.name, times=times,
                    reminders=reminders)  # fmt: skip
    on = medication.next_injection_on or today
    shown = day_label(catalog, upcoming_injection(on, interval, today))
    return fill(texts["summary_injection"], medication=medication.name, date=shown,
                reminders=reminders)  # fmt: skip


def upcoming_injection(on: date, interval_days: int | None, today: date) -> date:
    """The injection date to show: `on`, or the first one after it from today on."""
    if not interval_days or on >= today:
        return on
    periods = -(-(today - on).days // interval_days)  # ceiling division
    return on + timedelta(days=periods * interval_days)


def saved(catalog: Catalog, medication: MedicationView, today: date, interval: int | None):
    texts = catalog.texts["medication"]
    reminders = _reminders_word(catalog, medication.reminders)
    if medication.kind == "daily":
        times = times_label(catalog, medication.dose_times)
        return fill(texts["saved_daily"], medication=medication.name, times=times,
                    reminders=reminders)  # fmt: skip
    on = upcoming_injection(medication.next_injection_on or today, interval, today)
    return fill(texts["saved_injection"], medication=medication.name,
                date=day_label(catalog, on),
                reminders=reminders)  # fmt: skip


def listing(
    catalog: Catalog,
    medications: Sequence[MedicationView],
    today: date,
    intervals: dict[int, int | None],
) -> Rendered:
    """/medication with medications: each one, and buttons to change it."""
    texts = catalog.texts["medication"]
    lines = [texts["list_header"]]
    rows: list[tuple[Button, ...]] = []
    for m in medications:
        reminders = _reminders_word(catalog, m.reminders)
        if m.kind == "daily":
            times = times_label(catalog, m.dose_times)
            lines.append(fill(texts["list_daily"], medication=m.name, times=times,
                              reminders=reminders))  # fmt: skip
        else:
            on = upcoming_injection(m.next_injection_on or today, intervals.get(m.id), today)
            shown = day_label(catalog, on)
            lines.append(fill(texts["list_injection"], medication=m.name, date=shown,
                              reminders=reminders))  # fmt: skip
        change = texts["button_change" if m.kind == "daily" else "button_change_date"]
        toggle = texts["button_reminders_off" if m.reminders else "button_reminders_on"]
        # Button labels are plain text, never parsed as HTML: no escaping.
        rows.append(((change.format(medication=m.name), MedicationButton(m.id, "t")),))
        rows.append(((toggle.format(medication=m.name), MedicationButton(m.id, "r")),))
        rows.append(((texts["button_stopped"].format(medication=m.name),
                      MedicationButton(m.id, "s")),))  # fmt: skip
    rows.append(((texts["add_button"], MedicationSetupButton("a")),))
    return Rendered("\n".join(lines), tuple(rows))


def dose_reminder(catalog: Catalog, dose_id: int, name: str, hhmm: str) -> Rendered:
    texts = catalog.texts["medication"]
    buttons = (
        (texts["taken"], DoseButton(dose_id, "t")),
        (texts["not_yet"], DoseButton(dose_id, "n")),
        (texts["skipped"], DoseButton(dose_id, "s")),
    )
    return Rendered(fill(texts["reminder_daily"], medication=name, time=hhmm), (buttons,))


def injection_reminder(
    catalog: Catalog, name: str, on: date, day_of: bool, next_on: date | None
) -> Rendered:
    texts = catalog.texts["medication"]
    if day_of:
        text = fill(texts["reminder_injection_today"], medication=name, date=day_label(catalog, on),
                    next=day_label(catalog, next_on or on))  # fmt: skip
    else:
        shown = day_label(catalog, on)
        text = fill(texts["reminder_injection_before"], medication=name, date=shown)
    return Rendered(text)
