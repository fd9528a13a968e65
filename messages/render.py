"""Rendering: content templates plus values -> Telegram HTML text and inline buttons. Pure.

Every interpolated value is escaped here. Only text that is already rendered HTML may pass
through unescaped, and it must be marked so by wrapping it in `Markup`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from messages.callback_data import (
    AnswerButton,
    CallbackData,
    ConsentButton,
    TimeButton,
    TimezoneButton,
    encode,
)
from messages.catalog import Catalog, Question
from messages.html import escape

Button = tuple[str, CallbackData]
Keyboard = tuple[tuple[Button, ...], ...]


class Markup(str):
    """HTML we rendered ourselves: interpolated as is."""


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: Keyboard = ()

    def reply_markup(self) -> dict[str, Any] | None:
        """Bot API InlineKeyboardMarkup as plain JSON data (for the outbox and the bot)."""
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
        return body


def fill(template: str, **values: object) -> Markup:
    safe = {k: v if isinstance(v, Markup) else escape(v) for k, v in values.items()}
    return Markup(template.format(**safe))


def _rows(buttons: Sequence[Button], per_row: int) -> Keyboard:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


# --- enrollment -------------------------------------------------------------------------------


def consent(catalog: Catalog, name: str) -> Rendered:
    buttons = (
        (catalog.text("consent", "agree"), ConsentButton(True)),
        (catalog.text("consent", "decline"), ConsentButton(False)),
    )
    return Rendered(fill(catalog.text("consent", "text"), name=name), (buttons,))


def timezone_prompt(catalog: Catalog) -> Rendered:
    buttons = [(label, TimezoneButton(zone)) for zone, label in catalog.timezones]
    return Rendered(catalog.text("enrollment", "ask_timezone"), _rows(buttons, 2))


def time_prompt(catalog: Catalog, zone: str) -> Rendered:
    buttons = [(hhmm, TimeButton(hhmm)) for hhmm in catalog.time_buttons]
    return Rendered(fill(catalog.text("enrollment", "ask_time"), timezone=zone), _rows(buttons, 3))


def when(local: datetime, today: date) -> str:
    """'today at 09:00', 'tomorrow at 09:00', 'on Tue 3 Dec at 09:00'."""
    clock = local.strftime("%H:%M")
    days = (local.date() - today).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    return f"on {local.strftime('%a')} {local.day} {local.strftime('%b')} at {clock}"


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
    key = "intro_daily" if kind == "daily" else "intro_on_demand"
    return fill(catalog.text("checkin", key), name=name)


def answered(catalog: Catalog, question_key: str, value: str) -> str:
    q = catalog.questions[question_key]
    return fill(catalog.text("checkin", "answered"), prompt=q.prompt, answer=q.answer_label(value))


def hint(catalog: Catalog, question_key: str) -> Markup:
    q = catalog.questions[question_key]
    if q.kind == "scale":
        return fill(catalog.text("checkin", "scale_hint"), min=q.min, max=q.max)
    options = ", ".join(f'"{o.label}"' for o in q.options)
    return fill(catalog.text("checkin", "choice_hint"), options=options)


def summary(catalog: Catalog, name: str, answers: Iterable[tuple[str, str]]) -> str:
    """The warm close of a check-in; adds a line of support when any answer carries risk."""
    lines = []
    risky = False
    for key, value in answers:
        q = catalog.questions[key]
        lines.append(
            fill(
                catalog.text("checkin", "summary_line"),
                label=q.summary_label,
                answer=q.answer_label(value),
            )
        )
        risky = risky or q.risk_of(value) != "none"
    text = fill(catalog.text("checkin", "done"), name=name, summary=Markup("\n".join(lines)))
    if risky:
        text = Markup(text + "\n\n" + catalog.text("checkin", "support"))
    return text


def compose_daily(catalog: Catalog, rotation: int) -> list[str]:
    """The daily check-in: the fixed core, then one rotating question, taken in turn."""
    rotating = catalog.rotating_questions()
    return [*catalog.core_questions(), rotating[rotation % len(rotating)]]
