"""Reading a Meeting Guide (TSML, code4recovery) JSON feed into meetings we can offer. Pure.

A feed is a JSON array of weekly meetings. Each row is read on its own: a row we can't use is
skipped with a reason a person can act on, and never stops the rest of the import.

The feed counts weekdays from Sunday (0 = Sunday ... 6 = Saturday); everything of ours counts
from Monday, as Python does (0 = Monday ... 6 = Sunday). The conversion happens here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Column sizes in the database; longer text is cut, a longer slug is refused (it is the key).
MAX_SLUG = 200
MAX_NAME = 200
MAX_PLACE = 300
MAX_URL = 500
MAX_PHONE = 60
MAX_TYPE = 10
MAX_UPDATED = 40
MAX_NOTES = 2000
DEFAULT_LENGTH = timedelta(hours=1)
TEMPORARILY_CLOSED = "TC"

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ADDRESS_PARTS = ("address", "city", "state", "postal_code", "country")


def weekday_from_meeting_guide(day: int) -> int:
    """Meeting Guide's 0 = Sunday ... 6 = Saturday as Python's 0 = Monday ... 6 = Sunday."""
    if not 0 <= day <= 6:
        raise ValueError(f"day {day} is not 0-6")
    return (day - 1) % 7


def weekday_to_meeting_guide(weekday: int) -> int:
    """Python's 0 = Monday as Meeting Guide's 0 = Sunday (the inverse of the above)."""
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday {weekday} is not 0-6")
    return (weekday + 1) % 7


@dataclass(frozen=True)
class FeedMeeting:
    slug: str
    name: str
    weekdays: tuple[int, ...]  # 0 = Monday, sorted, no repeats
    start: time
    end: time  # may be earlier than start: the meeting runs past midnight
    timezone: str
    types: tuple[str, ...]
    location: str | None
    address: str | None
    conference_url: str | None
    conference_phone: str | None
    notes: str | None
    updated: str | None
    in_person: bool  # can be attended in person now (not temporarily closed)
    online: bool  # has a conference link or phone

    @property
    def offered(self) -> bool:
        """Whether a participant can pick it: a meeting closed in person and not online can't."""
        return self.in_person or self.online


@dataclass(frozen=True)
class SkippedRow:
    row: int  # 1-based position in the feed
    slug: str | None
    reason: str


@dataclass(frozen=True)
class ParsedFeed:
    meetings: tuple[FeedMeeting, ...]
    skipped: tuple[SkippedRow, ...]


class RowError(ValueError):
    """Why a row can't be used."""


class FeedError(ValueError):
    """The document is not a Meeting Guide feed at all."""


def parse_clock(value: Any) -> time | None:
    """'19:00', '7:30', '19:00:00' -> time; anything else -> None."""
    if not isinstance(value, str):
        return None
    match = _CLOCK.fullmatch(value.strip())
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute)


def _text(value: Any, limit: int) -> str | None:
    """A trimmed, single-spaced string cut to `limit`, or None for empty or non-text values."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _day(value: Any) -> int:
    if isinstance(value, bool):
        raise RowError(f"day {value!r} is not a number 0-6 (0 = Sunday)")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise RowError(f"day {value!r} is not a number 0-6 (0 = Sunday)")
    if not 0 <= value <= 6:
        raise RowError(f"day {value} is not 0-6 (0 = Sunday)")
    return weekday_from_meeting_guide(value)


def _weekdays(raw: dict[str, Any]) -> tuple[int, ...]:
    value = raw.get("day")
    if value is None or value == "" or value == []:
        raise RowError("no day (a meeting by appointment can't be reminded)")
    days = value if isinstance(value, list) else [value]
    return tuple(sorted({_day(d) for d in days}))


def _zone(raw: dict[str, Any], default_zone: str) -> str:
    value = raw.get("timezone")
    if value is None or (isinstance(value, str) and not value.strip()):
        return default_zone
    if not isinstance(value, str):
        raise RowError(f"unknown time zone {value!r}")
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RowError(f"unknown time zone {name!r}") from exc
    return name


def _types(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    codes = (_text(v, MAX_TYPE) for v in value)
    return tuple(dict.fromkeys(c.upper() for c in codes if c))


def _address(raw: dict[str, Any]) -> str | None:
    formatted = _text(raw.get("formatted_address"), MAX_PLACE)
    if formatted:
        return formatted
    parts = [_text(raw.get(key), MAX_PLACE) for key in _ADDRESS_PARTS]
    return _text(", ".join(p for p in parts if p), MAX_PLACE)


def _url(value: Any) -> str | None:
    url = _text(value, MAX_URL)
    # Only web links: anything else can't be opened from a chat, and is not shown.
    if url and url.lower().startswith(("https://", "http://")) and " " not in url:
        return url
    return None


def parse_row(raw: Any, default_zone: str) -> FeedMeeting:
    """One feed row as a meeting; raises RowError saying why it can't be used."""
    if not isinstance(raw, dict):
        raise RowError("not a JSON object")
    slug = _text(raw.get("slug"), MAX_SLUG + 1)
    if not slug:
        raise RowError("no slug")
    if len(slug) > MAX_SLUG:
        raise RowError(f"slug longer than {MAX_SLUG} characters")
    name = _text(raw.get("name"), MAX_NAME)
    if not name:
        raise RowError("no name")
    weekdays = _weekdays(raw)
    if raw.get("time") in (None, ""):
        raise RowError("no time")
    start = parse_clock(raw.get("time"))
    if start is None:
        raise RowError(f"time {raw.get('time')!r} is not HH:MM")
    end = start_plus(start, DEFAULT_LENGTH)
    if raw.get("end_time") not in (None, ""):
        given = parse_clock(raw.get("end_time"))
        if given is None:
            raise RowError(f"end_time {raw.get('end_time')!r} is not HH:MM")
        if given != start:  # a zero-length meeting is a data-entry slip: keep the default
            end = given
    zone = _zone(raw, default_zone)
    types = _types(raw.get("types"))
    location = _text(raw.get("location"), MAX_PLACE)
    address = _address(raw)
    url = _url(raw.get("conference_url"))
    phone = _text(raw.get("conference_phone"), MAX_PHONE)
    online = bool(url or phone)
    # Without an address an online meeting is online only; TC closes the room, not the call.
    in_person = TEMPORARILY_CLOSED not in types and (bool(location or address) or not online)
    return FeedMeeting(
        slug=slug,
        name=name,
        weekdays=weekdays,
        start=start,
        end=end,
        timezone=zone,
        types=types,
        location=location,
        address=address,
        conference_url=url,
        conference_phone=phone,
        notes=_text(raw.get("notes"), MAX_NOTES),
        updated=_text(raw.get("updated"), MAX_UPDATED),
        in_person=in_person,
        online=online,
    )


def start_plus(start: time, length: timedelta) -> time:
    """The wall-clock time `length` after `start` (wrapping past midnight)."""
    return (datetime.combine(datetime.min.date(), start) + length).time()


def parse_feed(rows: Any, default_zone: str) -> ParsedFeed:
    """Every usable row, and every skipped row with its reason. The first row with a slug wins;
    a later one with the same slug is skipped."""
    if not isinstance(rows, list):
        raise FeedError("a Meeting Guide feed is a JSON array of meetings")
    meetings: list[FeedMeeting] = []
    skipped: list[SkippedRow] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(rows, start=1):
        slug = _text(raw.get("slug"), MAX_SLUG + 1) if isinstance(raw, dict) else None
        try:
            meeting = parse_row(raw, default_zone)
        except RowError as exc:
            skipped.append(SkippedRow(index, slug, str(exc)))
            continue
        if meeting.slug in seen:
            reason = f"duplicate slug (first in row {seen[meeting.slug]})"
            skipped.append(SkippedRow(index, meeting.slug, reason))
            continue
        seen[meeting.slug] = index
        meetings.append(meeting)
    return ParsedFeed(tuple(meetings), tuple(skipped))


def day_mask(weekdays: Iterable[int]) -> int:
    """Weekdays (0 = Monday) as bits, so a database can filter by day with one AND."""
    mask = 0
    for day in weekdays:
        mask |= 1 << day
    return mask


def days_of(mask: int) -> tuple[int, ...]:
    return tuple(day for day in range(7) if mask & (1 << day))


def matches_type(types: Sequence[str], wanted: str | None) -> bool:
    return wanted is None or wanted in types
