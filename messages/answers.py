"""Reading what a participant typed: answers to questions, time zones and clock times. Pure."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from typing import Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from messages.content_types import MeetingContent, Question

_WHOLE_NUMBER = re.compile(r"[+-]?\d+")
_CLOCK = re.compile(r"(\d{1,2})[:.h](\d{2})")


@dataclass(frozen=True)
class Parsed:
    """Either a valid answer value, or why the text is not one."""

    value: str | None = None
    problem: str | None = None  # not_a_number | out_of_range | not_an_option

    @property
    def ok(self) -> bool:
        return self.value is not None


def parse_answer(question: Question, text: str) -> Parsed:
    cleaned = " ".join(text.strip().casefold().split()).rstrip(".!")
    if question.kind == "scale":
        if not _WHOLE_NUMBER.fullmatch(cleaned):
            return Parsed(problem="not_a_number")
        if len(cleaned) > 6 or not question.min <= int(cleaned) <= question.max:
            return Parsed(problem="out_of_range")
        return Parsed(value=str(int(cleaned)))
    for option in question.options:
        if cleaned in option.typed or cleaned == option.label.casefold() or cleaned == option.value:
            return Parsed(value=option.value)
    return Parsed(problem="not_an_option")


def is_valid_button_value(question: Question, value: str) -> bool:
    return value in question.values()


def parse_clock_time(text: str) -> time | None:
    """'9:30', '09:30', '21.15', '7h00' -> time; anything else -> None."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


_RANGE = re.compile(r"(.+?)\s*(?:-|–|—|\bto\b)\s*(.+)")


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """'22:00-07:00', '22:00 – 7:00', '13:00 to 15:00' -> (start, end); start == end (an empty
    window) or anything else -> None. A window may cross midnight."""
    match = _RANGE.fullmatch(text.strip().casefold())
    if not match:
        return None
    start, end = parse_clock_time(match.group(1)), parse_clock_time(match.group(2))
    if start is None or end is None or start == end:
        return None
    return start, end


def parse_timezone(text: str) -> str | None:
    """A typed IANA zone name, forgiving case and spaces ('america/new york')."""
    candidate = text.strip().replace(" ", "_")
    if not candidate or len(candidate) > 64:
        return None
    name = _zones_by_casefold().get(candidate.casefold())
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@lru_cache(maxsize=1)
def _zones_by_casefold() -> dict[str, str]:
    # Reading the zone list scans tzdata on disk: do it once.
    return {name.casefold(): name for name in available_timezones()}


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _unaccented(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def parse_weekday(text: str, names: Sequence[str] = ()) -> int | None:
    """'Monday', 'mon', 'TUE' -> 0, 1 (Monday is 0, as in Python). `names`: the weekdays in the
    participant's language too ('miércoles', typed 'miercoles' or 'mie')."""
    word = _unaccented(text.strip().casefold()).rstrip(".")
    if len(word) < 2:
        return None
    for words in (_WEEKDAYS, tuple(_unaccented(n.casefold()) for n in names)):
        # "Mondays", "sábados": the plural means the same day.
        found = {i for i, name in enumerate(words) for w in (word, word.removesuffix("s"))
                 if w and (name.startswith(w) or w == name)}  # fmt: skip
        if len(found) == 1:
            return found.pop()
    return None


def parse_attendance(meetings: MeetingContent, text: str) -> str | None:
    """A typed answer to "did you make it?" ('yes', 'I skipped it') as its value, or None."""
    cleaned = " ".join(text.strip().casefold().replace("\u2019", "'").split()).rstrip(".!")
    for answer in meetings.answers:
        if cleaned in answer.typed or cleaned in (answer.label.casefold(), answer.value):
            return answer.value
    return None


class _Ambiguous(enum.Enum):
    # One member, so `choice is AMBIGUOUS` tells a type checker what is left.
    AMBIGUOUS = "AMBIGUOUS"

    def __repr__(self) -> str:
        return "AMBIGUOUS"


T = TypeVar("T")
AMBIGUOUS: Final = _Ambiguous.AMBIGUOUS  # the text fits more than one button
_NOT_LETTERS = re.compile(r"[^\w\s]+")


def _plain(text: str) -> str:
    """Lower case, no accents, punctuation, symbols or emoji, one space between words."""
    return " ".join(_NOT_LETTERS.sub(" ", _unaccented(text.casefold())).split())


def word_list(text: str) -> frozenset[str]:
    """A content list of words, comma-separated ("yes, y, yeah"), as plain words."""
    return frozenset(_plain(w) for w in text.split(",") if _plain(w))


def is_label(text: str, labels: Sequence[str]) -> bool:
    """Whether the text is one of these labels, whole (case, accents, punctuation aside)."""
    typed = _plain(text)
    return bool(typed) and any(typed == _plain(label) for label in labels)


def match_choice(
    text: str,
    options: Sequence[tuple[str, T]],
    *,
    yes: T | None = None,
    no: T | None = None,
    yes_words: frozenset[str] = frozenset(),
    no_words: frozenset[str] = frozenset(),
    words: Sequence[tuple[frozenset[str], T]] = (),
    numbers: bool = True,
    partial: bool = True,
) -> T | _Ambiguous | None:
    """The button a typed reply stands for: its label (or an unambiguous part of it), its
    number in the list, or yes / no where the question has such buttons. AMBIGUOUS when it
    fits several; None when it fits none.

    `words`: other words that stand for a button, typed whole ("skipped it" for Skipped).
    `numbers=False` where a number is an answer of its own (a time, a count); `partial=False`
    where only the whole label may do (a confirmation that can't be undone)."""
    typed = _plain(text)
    if not typed:
        return None
    labels = [(_plain(label), value) for label, value in options]
    if typed.isdigit() and numbers:
        index = int(typed) - 1
        return labels[index][1] if 0 <= index < len(labels) else None
    exact = list(dict.fromkeys(value for label, value in labels if label == typed))
    if exact:
        return exact[0] if len(exact) == 1 else AMBIGUOUS
    synonyms = [*words]
    if yes is not None:
        synonyms.append((yes_words, yes))
    if no is not None:
        synonyms.append((no_words, no))
    said = list(dict.fromkeys(value for group, value in synonyms if typed in group))
    if said:
        return said[0] if len(said) == 1 else AMBIGUOUS
    if len(typed) < 3 or not partial:
        return None
    # A part of a label: the start of it, whole words of it, or the label inside the reply.
    typed_words = set(typed.split())
    found = [
        value
        for label, value in labels
        if label.startswith(typed)
        or (len(label) >= 3 and f" {label} " in f" {typed} ")
        or (typed_words <= set(label.split()) and any(len(w) >= 3 for w in typed_words))
    ]
    unique = list(dict.fromkeys(found))
    if len(unique) == 1:
        return unique[0]
    return AMBIGUOUS if unique else None
