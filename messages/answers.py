"""Reading what a participant typed: answers to questions, time zones and clock times. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

if TYPE_CHECKING:
    from messages.catalog import MeetingContent, Question

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
