"""Rendering meetings: /meetings and its steps, reminders and "did you make it?". Pure.

Values are escaped by `fill`; button labels are plain text (Telegram shows them as written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from messages.callback_data import (
    AttendanceButton,
    MeetingDayButton,
    MeetingFilterButton,
    MeetingLeadButton,
    MeetingManageButton,
    MeetingMenuButton,
    MeetingPickButton,
    MeetingRemoveButton,
)
from messages.catalog import Catalog
from messages.html import escape
from messages.render import Button, Keyboard, Markup, Rendered, every, fill
from messages.render import when as when_text

UNSET, ANY = "-", "*"
CANCEL = MeetingMenuButton("x")


@dataclass(frozen=True)
class MeetingInfo:
    """A participant's meeting as a person reads it."""

    name: str
    weekday: int  # 0 = Monday, in `zone`
    start: str  # "HH:MM"
    end: str
    zone: str
    place: str | None = None
    link: str | None = None
    phone: str | None = None
    lead_minutes: int = 60
    types: tuple[str, ...] = ()  # labels, e.g. ("Open", "Speaker")


@dataclass(frozen=True)
class Found:
    """A program meeting offered in the results, on one of its days."""

    meeting_id: int
    weekday: int
    start: str
    name: str
    online_only: bool


def _rows(buttons: Sequence[Button], per_row: int) -> Keyboard:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def _texts(catalog: Catalog) -> dict[str, str]:
    return catalog.texts["meetings"]


def zone_city(zone: str) -> str:
    """'America/Los_Angeles' -> 'Los Angeles'."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def when(catalog: Catalog, info: MeetingInfo, participant_zone: str | None) -> Markup:
    """'Tuesdays, 19:00–20:00', with the meeting's zone when it is not the participant's."""
    texts = _texts(catalog)
    line = fill(texts["when"], day=every(catalog, info.weekday), start=info.start, end=info.end)
    if participant_zone and info.zone != participant_zone:
        line = fill(texts["zone_note"], when=line, zone=zone_city(info.zone))
    return line


def details(catalog: Catalog, info: MeetingInfo, participant_zone: str | None) -> Markup:
    texts = _texts(catalog)
    lines = [f"<b>{escape(info.name)}</b>", when(catalog, info, participant_zone)]
    if info.place:
        lines.append(fill(texts["place_line"], place=info.place))
    if info.link:
        lines.append(fill(texts["link_line"], link=info.link))
    if info.phone:
        lines.append(fill(texts["phone_line"], phone=info.phone))
    if info.types:
        lines.append(fill(texts["types_line"], types=" · ".join(info.types)))
    lead = catalog.meetings.lead_label(info.lead_minutes)
    lines.append(fill(texts["reminder_line"], lead=lead))
    return Markup("\n".join(lines))


def manage(
    catalog: Catalog,
    meeting_id: int,
    info: MeetingInfo,
    participant_zone: str | None,
    header: str = "",
) -> Rendered:
    """One meeting, with its reminder choices (the current one ticked) and Remove."""
    texts = _texts(catalog)
    leads = [
        (("✓ " if minutes == info.lead_minutes else "") + label,
         MeetingLeadButton(meeting_id, minutes))
        for minutes, label in catalog.meetings.leads
    ]  # fmt: skip
    text = details(catalog, info, participant_zone) + "\n\n" + texts["ask_lead"]
    if header:
        text = header + "\n\n" + text
    remove = ((texts["remove"], MeetingRemoveButton(meeting_id)),)
    return Rendered(text, (*_rows(leads, 2), remove))


def meeting_list(
    catalog: Catalog,
    meetings: Sequence[tuple[int, MeetingInfo]],
    participant_zone: str | None,
    program_list: bool,
) -> Rendered:
    """/meetings: their meetings, a button to add from the program's list (when there is one)
    or their own, and one button per meeting to change or remove it."""
    texts = _texts(catalog)
    if meetings:
        lines = [texts["list_header"]]
        for _, info in meetings:
            lead = catalog.meetings.lead_label(info.lead_minutes)
            lines.append(
                fill(texts["list_line"], when=when(catalog, info, participant_zone),
                     name=info.name, lead=lead)
            )  # fmt: skip
        text = "\n".join(lines) + "\n\n" + texts["list_add"]
    else:
        text = texts["list_none"]
    add: list[Button] = []
    if program_list:
        add.append((texts["button_program"], MeetingMenuButton("p")))
    add.append((texts["button_own"], MeetingMenuButton("o")))
    rows: list[tuple[Button, ...]] = [tuple(add)]
    for meeting_id, info in meetings:
        label = texts["button_manage"].format(name=info.name)
        rows.append(((label, MeetingManageButton(meeting_id)),))
    return Rendered(text, tuple(rows))


# --- picking from the program's list ----------------------------------------------------------

FIRST_STEP = MeetingFilterButton(UNSET, UNSET, UNSET, UNSET)


PARTS = (("m", "morning"), ("a", "afternoon"), ("e", "evening"), (ANY, "any_time"))
WHERES = (("p", "in_person"), ("o", "online"), (ANY, "either"))


def filter_step(catalog: Catalog, chosen: MeetingFilterButton) -> Rendered:
    """The question for the first choice not made yet; each button carries the earlier ones."""
    texts = _texts(catalog)
    day, part, where = chosen.day, chosen.part, chosen.where
    if day == UNSET:
        days = [(name, MeetingFilterButton(str(i), UNSET, UNSET, UNSET))
                for i, name in enumerate(catalog.dates.weekdays_short)]  # fmt: skip
        days.append((texts["any_day"], MeetingFilterButton(ANY, UNSET, UNSET, UNSET)))
        return Rendered(texts["ask_day"], _rows(days, 4))
    if part == UNSET:
        parts = [(texts[key], MeetingFilterButton(day, code, UNSET, UNSET)) for code, key in PARTS]
        return Rendered(texts["ask_part"], _rows(parts, 2))
    if where == UNSET:
        wheres = [(texts[key], MeetingFilterButton(day, part, code, UNSET)) for code, key in WHERES]
        return Rendered(texts["ask_where"], _rows(wheres, 3))
    kinds = [(texts["any_kind"], MeetingFilterButton(day, part, where, ANY))]
    kinds += [
        (catalog.meetings.types[code], MeetingFilterButton(day, part, where, code))
        for code in catalog.meetings.filter_types
    ]
    return Rendered(texts["ask_kind"], _rows(kinds, 3))


def results(catalog: Catalog, found: Sequence[Found], count: int) -> Rendered:
    texts = _texts(catalog)
    again = ((texts["start_over"], FIRST_STEP),)
    if not found:
        own = (texts["button_own"], MeetingMenuButton("o"))
        return Rendered(texts["results_none"], ((*again, own),))
    if count > len(found):
        text = fill(texts["results_more"], count=count, shown=len(found))
    else:
        text = fill(texts["results"], count=count)
    buttons = []
    for item in found:
        template = texts["result_online_button" if item.online_only else "result_button"]
        short = catalog.dates.weekdays_short[item.weekday]
        label = template.format(day=short, time=item.start, name=item.name)
        buttons.append(((label, MeetingPickButton(item.meeting_id, item.weekday)),))
    return Rendered(text, (*buttons, again))


# --- adding their own -------------------------------------------------------------------------


def own_name(catalog: Catalog, problem: str = "") -> Rendered:
    texts = _texts(catalog)
    text = problem + "\n\n" + texts["own_name"] if problem else texts["own_name"]
    return Rendered(text, (((texts["cancel"], CANCEL),),))


def own_day(catalog: Catalog, name: str, problem: str = "") -> Rendered:
    texts = _texts(catalog)
    days = [(label, MeetingDayButton(i)) for i, label in enumerate(catalog.dates.weekdays_short)]
    text = fill(texts["own_day"], name=name)
    if problem:
        text = Markup(problem + "\n\n" + text)
    return Rendered(text, (*_rows(days, 4), ((texts["cancel"], CANCEL),)))


def own_time(catalog: Catalog, problem: str = "") -> Rendered:
    texts = _texts(catalog)
    text = problem or texts["own_time"]
    return Rendered(text, (((texts["cancel"], CANCEL),),))


def own_place(catalog: Catalog, problem: str = "") -> Rendered:
    texts = _texts(catalog)
    text = problem or texts["own_place"]
    buttons = ((texts["skip"], MeetingMenuButton("s")), (texts["cancel"], CANCEL))
    return Rendered(text, (buttons,))


# --- reminders and follow-ups -----------------------------------------------------------------


def reminder(catalog: Catalog, info: MeetingInfo, starts: datetime, today: date) -> Rendered:
    """`starts` is the meeting's start in the participant's zone; `today` their local date."""
    texts = _texts(catalog)
    when = when_text(catalog, starts, today)
    lines: list[str] = [fill(texts["reminder"], name=info.name, when=when)]
    if info.place:
        lines.append(fill(texts["place_line"], place=info.place))
    if info.link:
        lines.append(fill(texts["link_line"], link=info.link))
    if info.phone:
        lines.append(fill(texts["phone_line"], phone=info.phone))
    lines += ["", texts["reminder_close"]]
    return Rendered("\n".join(lines))


def follow_up(catalog: Catalog, attendance_id: int, name: str) -> Rendered:
    buttons = tuple(
        (answer.label, AttendanceButton(attendance_id, answer.value))
        for answer in catalog.meetings.answers
    )
    return Rendered(fill(_texts(catalog)["follow_up"], name=name), _rows(buttons, 1))


def answered(catalog: Catalog, name: str, value: str) -> Markup:
    answer = catalog.meetings.answer(value)
    label = answer.label if answer else value
    return fill(_texts(catalog)["answered"], name=name, answer=label)
