"""Rendering: content templates plus values -> Telegram HTML text and inline buttons. Pure.

Every interpolated value is escaped here. Only text that is already rendered HTML may pass
through unescaped, and it must be marked so by wrapping it in `Markup`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from messages.callback_data import (
    AlertButton,
    AnswerButton,
    CallbackData,
    ConsentButton,
    CopingButton,
    DischargeButton,
    LanguageButton,
    PickButton,
    QuietButton,
    SettingsButton,
    SosButton,
    TimeButton,
    TimezoneButton,
    WeekdayButton,
    encode,
)
from messages.catalog import Catalog, CopingPrompt, Question
from messages.html import escape

Button = tuple[str, CallbackData]
Keyboard = tuple[tuple[Button, ...], ...]


class Markup(str):
    """HTML we rendered ourselves: interpolated as is."""


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: Keyboard = ()
    # A button kept under the text field (a reply keyboard), e.g. "I need help now".
    persistent_button: str | None = None
    # No link preview: set on messages that carry a link (a preview would fetch it).
    no_preview: bool = False

    def reply_markup(self) -> dict[str, Any] | None:
        """Bot API reply markup as plain JSON data (for the outbox and the bot)."""
        if self.persistent_button:
            assert not self.buttons, "a message carries inline buttons or a reply keyboard"
            return {
                "keyboard": [[{"text": self.persistent_button}]],
                "is_persistent": True,
                "resize_keyboard": True,
            }
        if not self.buttons:
            return None
        rows = [
            [{"text": label, "callback_data": encode(data)} for label, data in row]
            for row in self.buttons
        ]
        return {"inline_keyboard": rows}

    def payload(self) -> dict[str, Any]:
        """sendMessage parameters, minus chat_id."""
        body: dict[str, Any] = {"text": self.text, "parse_mode": "HTML"}
        markup = self.reply_markup()
        if markup:
            body["reply_markup"] = markup
        if self.no_preview:
            body["link_preview_options"] = NO_PREVIEW
        return body


NO_PREVIEW = {"is_disabled": True}


def with_dashboard_link(catalog: Catalog, text: str, url: str) -> Markup:
    """An alert's text with its "Open in dashboard" link under it."""
    return Markup(text + "\n\n" + fill(catalog.text("alerts", "open_dashboard"), url=url))


def fill(template: str, **values: object) -> Markup:
    safe = {k: v if isinstance(v, Markup) else escape(v) for k, v in values.items()}
    return Markup(template.format(**safe))


def _rows(buttons: Sequence[Button], per_row: int) -> Keyboard:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


# --- enrollment -------------------------------------------------------------------------------


def consent(catalog: Catalog, name: str, languages: Sequence[tuple[str, str]] = ()) -> Rendered:
    """The first message; `languages` (code, own name) adds a row to switch to another."""
    buttons = (
        (catalog.text("consent", "agree"), ConsentButton(True)),
        (catalog.text("consent", "decline"), ConsentButton(False)),
    )
    switch = tuple((f"🌐 {own}", LanguageButton(code)) for code, own in languages)
    rows = (buttons, switch) if switch else (buttons,)
    return Rendered(fill(catalog.text("consent", "text"), name=name), rows)


def timezone_prompt(catalog: Catalog) -> Rendered:
    buttons = [(label, TimezoneButton(zone)) for zone, label in catalog.timezones]
    return Rendered(catalog.text("enrollment", "ask_timezone"), _rows(buttons, 2))


def time_prompt(catalog: Catalog, zone: str) -> Rendered:
    buttons = [(hhmm, TimeButton(hhmm)) for hhmm in catalog.time_buttons]
    return Rendered(fill(catalog.text("enrollment", "ask_time"), timezone=zone), _rows(buttons, 3))


def _date_parts(catalog: Catalog, local: datetime | date) -> dict[str, str]:
    dates = catalog.dates
    parts = {
        "weekday": dates.weekdays[local.weekday()],
        "weekday_short": dates.weekdays_short[local.weekday()],
        "day": str(local.day),
        "month": dates.months[local.month - 1],
        "month_short": dates.months_short[local.month - 1],
        "year": str(local.year),
    }
    if isinstance(local, datetime):
        parts.update(time=local.strftime("%H:%M"), zone=local.strftime("%Z"))
    return parts


def when(catalog: Catalog, local: datetime, today: date) -> str:
    """'today at 09:00', 'tomorrow at 09:00', 'on Tue 3 Dec at 09:00', in the catalog's words."""
    days = (local.date() - today).days
    key = "today" if days == 0 else "tomorrow" if days == 1 else "later"
    return catalog.dates.formats[key].format(**_date_parts(catalog, local))


def day_and_time(catalog: Catalog, local: datetime) -> str:
    """'Thu 8 Jan, 09:00': a moment that needs no 'today' or 'tomorrow' (the end of a pause)."""
    return catalog.dates.formats["moment"].format(**_date_parts(catalog, local))


def a_date(catalog: Catalog, day: date) -> str:
    """'Tue 3 Feb'."""
    return catalog.dates.formats["date"].format(**_date_parts(catalog, day))


def stamp(catalog: Catalog, local: datetime) -> str:
    """'Sat 5 Dec 2026, 14:30 EST': when a link expires."""
    return catalog.dates.formats["stamp"].format(**_date_parts(catalog, local))


def every(catalog: Catalog, weekday: int | None) -> str:
    """The weekday as something that repeats: 'Mondays', 'los lunes' (the template has 'los')."""
    return catalog.dates.weekdays_every[weekday] if weekday is not None else "–"


def listed(catalog: Catalog, items: Sequence[str]) -> str:
    """'08:00', '08:00 and 20:00', '08:00, 14:00 and 20:00'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {catalog.dates.and_word} " + items[-1]


# --- check-ins --------------------------------------------------------------------------------


def answer_buttons(
    question: Question, checkin_id: int, index: int
) -> tuple[tuple[Button, ...], ...]:
    if question.kind == "scale":
        buttons = [(v, AnswerButton(checkin_id, index, v)) for v in question.values()]
        return _rows(buttons, 6)
    buttons = [(o.label, AnswerButton(checkin_id, index, o.value)) for o in question.options]
    one_row = sum(len(label) for label, _ in buttons) <= 24
    return _rows(buttons, len(buttons) if one_row else 1)


def question(
    catalog: Catalog, question_keys: Sequence[str], index: int, checkin_id: int, intro: str = ""
) -> Rendered:
    q = catalog.questions[question_keys[index]]
    parts = []
    if intro:
        parts.append(intro)
    parts.append(fill(catalog.text("checkin", "progress"), n=index + 1, total=len(question_keys)))
    parts.append(f"<b>{escape(q.prompt)}</b>")
    if q.legend:
        parts.append(escape(q.legend))
    text = "\n".join([parts[0] + "\n"] + parts[1:]) if intro else "\n".join(parts)
    return Rendered(text, answer_buttons(q, checkin_id, index))


def intro(catalog: Catalog, kind: str, name: str) -> Markup:
    key = {"daily": "intro_daily", "weekly": "intro_weekly"}.get(kind, "intro_on_demand")
    return fill(catalog.text("checkin", key), name=name)


class FirstQuestions:
    """The first question of many check-ins at once (a tick), as sendMessage parameters. It is
    rendered once per language and composition, with a placeholder name and check-in id, and
    each message fills in its own: rendering 50,000 in full was a third of a large tick."""

    _NAME = "\x00name\x00"  # no HTML to escape, and no name can contain it
    _ID = 10**11  # as long as an id the callback data allows, so no real one is longer

    def __init__(self) -> None:
        self._templates: dict[tuple, tuple[list[str], Any]] = {}
        self._json_templates: dict[tuple, list[str]] = {}

    def payload(self, catalog: Catalog, kind: str, question_keys: Sequence[str],
                checkin_id: int, name: str) -> dict[str, Any]:  # fmt: skip
        key = (catalog.locale, kind, tuple(question_keys))
        template = self._templates.get(key)
        if template is None:
            rendered = question(catalog, question_keys, 0, self._ID,
                                intro=intro(catalog, kind, self._NAME))  # fmt: skip
            template = self._templates[key] = (rendered.text.split(self._NAME),
                                               rendered.reply_markup())  # fmt: skip
        pieces, markup = template
        body: dict[str, Any] = {"text": escape(name).join(pieces), "parse_mode": "HTML"}
        if markup:
            old, new = f"a:{self._ID}:", f"a:{checkin_id}:"
            body["reply_markup"] = {"inline_keyboard": [
                [{"text": b["text"], "callback_data": b["callback_data"].replace(old, new)}
                 for b in row] for row in markup["inline_keyboard"]]}  # fmt: skip
        return body

    def payload_json(self, catalog: Catalog, kind: str, question_keys: Sequence[str],
                     checkin_id: int, name: str) -> str:  # fmt: skip
        """The same parameters as payload(), as their JSON text, filled into a JSON template
        (the tick stores 50,000 of these at once; encoding each dict was most of the cost)."""
        key = (catalog.locale, kind, tuple(question_keys))
        template = self._json_templates.get(key)
        if template is None:
            encoded = json.dumps(self.payload(catalog, kind, question_keys, self._ID, self._NAME))
            template = self._json_templates[key] = encoded.split(json.dumps(self._NAME)[1:-1])
        name_json = json.dumps(escape(name))[1:-1]
        old, new = f"a:{self._ID}:", f"a:{checkin_id}:"  # in the template only, not the name
        return name_json.join(piece.replace(old, new) for piece in template)


def answered(catalog: Catalog, question_key: str, value: str) -> str:
    q = catalog.questions[question_key]
    return fill(catalog.text("checkin", "answered"), prompt=q.prompt, answer=q.answer_label(value))


def hint(catalog: Catalog, question_key: str) -> Markup:
    q = catalog.questions[question_key]
    if q.kind == "scale":
        return fill(catalog.text("checkin", "scale_hint"), min=q.min, max=q.max)
    options = ", ".join(f'"{o.label}"' for o in q.options)
    return fill(catalog.text("checkin", "choice_hint"), options=options)


@dataclass(frozen=True)
class Progress:
    """What the close of a check-in counts: never reset by a lapse."""

    days: int  # day N of recovery, counting the day of discharge as day 1
    checked_in_days: int
    milestone: int | None = None  # a milestone reached and not yet celebrated


def summary(
    catalog: Catalog,
    name: str,
    answers: Iterable[tuple[str, str]],
    progress: Progress | None = None,
) -> str:
    """The warm close of a check-in: what they said, their days, a milestone, and support when
    any answer carries risk. Safety-screen answers are acknowledged, never listed."""
    lines: list[str] = []
    risky = safety = False
    for key, value in answers:
        q = catalog.questions[key]
        risky = risky or q.risk_of(value) != "none"
        if not q.in_summary:
            safety = True
            continue
        line = catalog.text("checkin", "summary_line")
        lines.append(fill(line, label=q.summary_label, answer=q.answer_label(value)))
    if safety:
        lines.append(catalog.text("checkin", "safety_summary"))
    if progress is not None:
        checked = progress.checked_in_days
        days_line = catalog.text("checkin", "days")
        word = catalog.dates.one_day if checked == 1 else catalog.dates.many_days
        lines += ["", fill(days_line, days=progress.days, checked=checked, checked_days=word)]
    text = fill(catalog.text("checkin", "done"), name=name, summary=Markup("\n".join(lines)))
    if progress is not None and progress.milestone in catalog.milestones:
        words = catalog.milestones[progress.milestone]
        text = Markup(text + "\n\n" + fill(catalog.text("milestones", "text"), milestone=words))
    if risky:
        text = Markup(text + "\n\n" + catalog.text("checkin", "support"))
    return text


def compose_daily(catalog: Catalog, rotation: int, on_medication: bool = False) -> list[str]:
    """The daily check-in: the fixed core, the adherence question for a participant on a daily
    medication, then rotating questions, taken in turn."""
    rotating = catalog.rotating_questions()
    count = min(catalog.rotating_per_day, len(rotating))
    extra = [rotating[(rotation * count + i) % len(rotating)] for i in range(count)]
    medication = catalog.medication_questions() if on_medication else []
    return [*catalog.core_questions(), *medication, *extra]


def compose_weekly(catalog: Catalog, on_medication: bool = False) -> list[str]:
    """The weekly check-in; on a daily medication the adherence question follows the core, so
    no day goes without it."""
    keys = list(catalog.weekly)
    if not on_medication:
        return keys
    core = [i for i, k in enumerate(keys) if k in catalog.core_questions()]
    at = max(core) + 1 if core else 0
    return keys[:at] + catalog.medication_questions() + keys[at:]


# --- safety and support -----------------------------------------------------------------------


def help_keyboard(catalog: Catalog, text: str) -> Rendered:
    """A message that also puts the persistent "I need help now" button under the text field."""
    return Rendered(text, persistent_button=catalog.text("crisis", "help_button"))


def crisis(catalog: Catalog, counselor_alerted: bool) -> Rendered:
    follow = "alerted" if counselor_alerted else "no_counselor"
    return Rendered(catalog.text("crisis", "resources") + "\n\n" + catalog.text("crisis", follow))


def lapse(catalog: Catalog, days: int) -> list[Rendered]:
    return [
        Rendered(fill(catalog.text("lapse", "support"), days=days)),
        Rendered(catalog.text("lapse", "overdose")),
    ]


def coping(catalog: Catalog, prompt: CopingPrompt, intro_section: str = "coping") -> Rendered:
    buttons = (
        (catalog.text("craving", "another"), CopingButton()),
        (catalog.text("craving", "help_now"), SosButton()),
    )
    text = catalog.text(intro_section, "intro") + "\n\n" + prompt.text
    return Rendered(text, (buttons,))


def _bullets(reasons: Sequence[str]) -> Markup:
    return Markup("\n".join(f"• {escape(r)}" for r in reasons))


def trend(catalog: Catalog, points: Sequence[Mapping[str, str]]) -> str:
    """One line: 'mood 4→3→2 · cravings 2→5→9', oldest first."""
    moods = [p["mood"] for p in points if "mood" in p]
    cravings = [p["craving"] for p in points if "craving" in p]
    if not moods and not cravings:
        return catalog.text("alerts", "trend_none")
    return catalog.text("alerts", "trend").format(
        mood="→".join(moods) or "–", craving="→".join(cravings) or "–"
    )


def counselor_alert(
    catalog: Catalog,
    alert_id: int,
    level: str,
    name: str,
    reasons: Sequence[str],
    trend_line: str,
    escalated_minutes: int | None = None,
    acknowledged: bool = False,
    language: str | None = None,
    dashboard_link: str | None = None,
) -> Rendered:
    """The alert a counselor gets, with Acknowledge, Resolve and History buttons (and a link to
    it in the dashboard, when there is one). `language`: the participant's, named when it is
    not the program's."""
    level_text = Markup(catalog.text("alerts", f"level_{level}"))
    template = catalog.text("alerts", "counselor")
    text = fill(template, level=level_text, name=name, reasons=_bullets(reasons), trend=trend_line)
    if language:
        text = Markup(
            text + "\n" + fill(catalog.text("alerts", "language_note"), language=language)
        )
    if escalated_minutes is not None:
        header = fill(catalog.text("alerts", "escalated"), minutes=escalated_minutes)
        text = Markup(header + "\n" + text)
    buttons = [
        (catalog.text("alerts", "resolve"), AlertButton("r", alert_id)),
        (catalog.text("alerts", "history"), AlertButton("h", alert_id)),
    ]
    if not acknowledged:
        buttons.insert(0, (catalog.text("alerts", "acknowledge"), AlertButton("a", alert_id)))
    if dashboard_link is None:
        return Rendered(text, (tuple(buttons),))
    text = with_dashboard_link(catalog, text, dashboard_link)
    return Rendered(text, (tuple(buttons),), no_preview=True)


def alert_history(catalog: Catalog, name: str, trend_line: str, reasons: Sequence[str]) -> str:
    template = catalog.text("alerts", "history_text")
    return fill(template, name=name, trend=trend_line, reasons=_bullets(reasons))


def weekday_prompt(catalog: Catalog, hhmm: str) -> Rendered:
    buttons = [(day, WeekdayButton(i)) for i, day in enumerate(catalog.dates.weekdays_short)]
    return Rendered(fill(catalog.text("enrollment", "ask_weekly"), time=hhmm), _rows(buttons, 4))


def arrow(values: Sequence[int]) -> str:
    """Which way a series is heading: the last three against the three before (oldest first)."""
    if len(values) < 2:
        return "–" if not values else str(values[-1])
    recent = values[-3:]
    before = values[-6:-3] or values[:1]
    change = sum(recent) / len(recent) - sum(before) / len(before)
    symbol = "↑" if change >= 0.5 else "↓" if change <= -0.5 else "→"
    return f"{values[-1]}{symbol}"


# --- settings and discharge -------------------------------------------------------------------


def settings_menu(
    catalog: Catalog, time: str, zone: str, weekday: int | None, quiet: str, language: str
) -> Rendered:
    texts = catalog.texts["settings"]
    day = every(catalog, weekday)
    text = fill(texts["menu"], time=time, timezone=zone, weekday=day, quiet=quiet,
                language=language)  # fmt: skip
    buttons = [(texts[f"button_{item}"], SettingsButton(item))
               for item in ("time", "timezone", "weekly", "quiet", "language")]  # fmt: skip
    return Rendered(text, _rows(buttons, 2))


def quiet_hours(catalog: Catalog, start: str | None, end: str | None) -> str:
    """'22:00–07:00', or the word for none."""
    texts = catalog.texts["settings"]
    if not start or not end:
        return texts["quiet_none"]
    return fill(texts["quiet_range"], start=start, end=end)


def quiet_prompt(catalog: Catalog) -> Rendered:
    texts = catalog.texts["settings"]
    buttons = [(hours.replace("-", "–"), QuietButton(hours)) for hours in catalog.quiet_buttons]
    rows = (*_rows(buttons, 2), ((texts["quiet_off"], QuietButton("off")),))
    return Rendered(texts["ask_quiet"], rows)


def language_prompt(catalog: Catalog, languages: Sequence[tuple[str, str]]) -> Rendered:
    """`languages`: (locale, name in its own words)."""
    buttons = [(name, LanguageButton(locale)) for locale, name in languages]
    return Rendered(catalog.text("settings", "ask_language"), _rows(buttons, 2))


PICK_MAX = 24  # participants offered as buttons at once; /caseload lists the rest


def participant_choice(
    catalog: Catalog, message: str, command: str, people: list[tuple[int, str]]
) -> Rendered:
    """A button per participant ("Sam · #3"), for /history or /discharge without one name."""
    shown = people[:PICK_MAX]
    buttons = [(f"{name} · #{pid}" if name else f"#{pid}", PickButton(command, pid))
               for pid, name in shown]  # fmt: skip
    text = message + "\n\n" + catalog.text("history", "choose")
    return Rendered(Markup(text), _rows(buttons, 2))


def discharge_confirm(catalog: Catalog, participant_id: int, name: str) -> Rendered:
    texts = catalog.texts["discharge"]
    buttons = (
        (texts["button_confirm"], DischargeButton(participant_id, True)),
        (texts["button_cancel"], DischargeButton(participant_id, False)),
    )
    return Rendered(fill(texts["confirm"], name=name, number=participant_id), (buttons,))
