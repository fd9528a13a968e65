"""Typed replies to a question with buttons, read one way everywhere.

The words stand for a button when they are its label (or an unambiguous part of it), its
number, or yes / no where the question has such buttons (messages/answers.match_choice; the
yes / no words are content). The caller hands the button it gets to that button's own code, so
a typed reply does exactly what the press would. A reply that fits no button, or several, gets
the question back with the short hint (`general.tap_or_type`); a participant's is kept as a
note only when it reads like a message (safety.not_an_answer decides, as for every question).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from messages.answers import AMBIGUOUS, match_choice, word_list
from messages.callback_data import CallbackData
from messages.catalog import Catalog
from messages.render import Markup, Rendered, fill

# A button's callback data, or whatever value a caller's own options carry.
Value = Any


@dataclass(frozen=True)
class Read:
    """What a typed reply to a question with buttons stands for: the button, or (when it fits
    none or several) the question again with the hint."""

    again: Rendered  # the question with the hint (just the question when a button was read)
    button: Value = None
    ambiguous: bool = False  # it fitted several (rather than none)


def buttons_of(question: Rendered) -> list[tuple[str, CallbackData]]:
    """The question's buttons in the order a person reads them (row by row): their numbers."""
    return [(label, data) for row in question.buttons for label, data in row]


def yes_no(
    catalog: Catalog, yes: Value = None, no: Value = None
) -> list[tuple[frozenset[str], Value]]:
    """The content's yes / no words (in the reader's language) as the buttons they stand for."""
    general = catalog.texts["general"]
    words: list[tuple[frozenset[str], Value]] = []
    if yes is not None:
        words.append((word_list(general["yes_words"]), yes))
    if no is not None:
        words.append((word_list(general["no_words"]), no))
    return words


def read(
    catalog: Catalog,
    text: str,
    question: Rendered,
    *,
    options: Sequence[tuple[str, Value]] | None = None,
    yes: Value = None,
    no: Value = None,
    words: Sequence[tuple[frozenset[str], Value]] = (),
    numbers: bool = True,
    partial: bool = True,
) -> Read:
    """The button `text` stands for among the question's (or `options`, when only some of its
    buttons may be typed, or they are labelled otherwise), or the question with the hint."""
    choices = options if options is not None else buttons_of(question)
    found = match_choice(text, choices, words=[*words, *yes_no(catalog, yes, no)],
                         numbers=numbers, partial=partial)  # fmt: skip
    if found is None or found is AMBIGUOUS:
        again = hinted(catalog, question, [label for label, _ in choices])
        return Read(again=again, ambiguous=found is AMBIGUOUS)
    return Read(again=question, button=found)


def label_typed(text: str, question: Rendered) -> CallbackData | None:
    """The button whose whole label the words are, for questions that take free text too (a
    number or a part of a label is an answer of its own there)."""
    found = match_choice(text, buttons_of(question), numbers=False, partial=False)
    return None if found is None or found is AMBIGUOUS else found


def hinted(catalog: Catalog, question: Rendered, labels: Sequence[str] | None = None) -> Rendered:
    """The question again, after a short hint naming what may be typed."""
    shown = labels if labels is not None else [label for label, _ in buttons_of(question)]
    hint = fill(catalog.text("general", "tap_or_type"), options=" / ".join(shown))
    return Rendered(Markup(hint + "\n\n" + question.text), question.buttons,
                    no_preview=question.no_preview)  # fmt: skip
