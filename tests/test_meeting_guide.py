"""Reading Meeting Guide (TSML) feeds: the weekday conversion, defaults, the online rule, and
every malformed row skipped with its reason. Pure: no bot, no database."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages.meeting_guide import (
    FeedError,
    RowError,
    day_mask,
    days_of,
    parse_feed,
    parse_row,
    weekday_from_meeting_guide,
    weekday_to_meeting_guide,
)

FEED = Path(__file__).parent / "data" / "meeting_guide_feed.json"
NY = "America/New_York"


def row(**fields):
    base = {"name": "Hope Group", "slug": "hope", "day": 2, "time": "19:00"}
    return {**base, **fields}


@pytest.mark.parametrize(
    "meeting_guide, python, name",
    [
        (0, 6, "Sunday"),
        (1, 0, "Monday"),
        (2, 1, "Tuesday"),
        (3, 2, "Wednesday"),
        (4, 3, "Thursday"),
        (5, 4, "Friday"),
        (6, 5, "Saturday"),
    ],
)
def test_meeting_guide_sunday_zero_becomes_python_monday_zero(meeting_guide, python, name):
    assert weekday_from_meeting_guide(meeting_guide) == python
    assert ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][
        python
    ] == name
    assert weekday_to_meeting_guide(python) == meeting_guide
    assert parse_row(row(day=meeting_guide), NY).weekdays == (python,)


@pytest.mark.parametrize("day", [-1, 7, 8])
def test_days_outside_the_week_are_refused(day):
    with pytest.raises(ValueError):
        weekday_from_meeting_guide(day)


def test_a_list_of_days_and_a_day_as_text():
    assert parse_row(row(day=[0, 6, 3, 3]), NY).weekdays == (2, 5, 6)  # Wed, Sat, Sun
    assert parse_row(row(day="1"), NY).weekdays == (0,)


def test_end_defaults_to_an_hour_after_the_start():
    assert parse_row(row(time="19:00"), NY).end == time(20, 0)
    assert parse_row(row(time="23:30"), NY).end == time(0, 30)  # past midnight
    assert parse_row(row(time="19:00", end_time="20:30"), NY).end == time(20, 30)
    assert parse_row(row(time="19:00", end_time="19:00"), NY).end == time(20, 0)
    assert parse_row(row(time="7:05:00"), NY).start == time(7, 5)


def test_time_zone_defaults_to_the_imports_zone():
    assert parse_row(row(), "America/Denver").timezone == "America/Denver"
    assert parse_row(row(timezone="Europe/London"), NY).timezone == "Europe/London"


@pytest.mark.parametrize(
    "fields, in_person, online",
    [
        ({"formatted_address": "1 Elm St"}, True, False),
        ({"location": "Church hall"}, True, False),
        ({}, True, False),  # no address given: still a meeting in a room
        ({"conference_url": "https://meet.example.org/a"}, False, True),
        ({"conference_phone": "+1 555 0100"}, False, True),
        ({"formatted_address": "1 Elm St", "conference_url": "https://meet.example.org/a"},
         True, True),
        # Temporarily closed in person but online: still offered, as online.
        ({"formatted_address": "1 Elm St", "types": ["O", "TC"],
          "conference_url": "https://meet.example.org/a"}, False, True),
        ({"formatted_address": "1 Elm St", "types": ["TC"]}, False, False),
        ({"conference_url": "zoom meeting 123"}, True, False),  # not a link: ignored
    ],
)  # fmt: skip
def test_online_and_in_person(fields, in_person, online):
    meeting = parse_row(row(**fields), NY)
    assert (meeting.in_person, meeting.online) == (in_person, online)
    assert meeting.offered == (in_person or online)


def test_address_from_parts_and_types_normalized():
    meeting = parse_row(
        row(address="88 Water St", city="Riverside", state="NY", postal_code="12401",
            types="o, d ,X"),
        NY,
    )  # fmt: skip
    assert meeting.address == "88 Water St, Riverside, NY, 12401"
    assert meeting.types == ("O", "D", "X")


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("not an object", "not a JSON object"),
        ({"name": "x", "day": 1, "time": "10:00"}, "no slug"),
        (row(name="  "), "no name"),
        (row(time=None), "no time"),
        ({"name": "x", "slug": "x", "day": 1}, "no time"),
        (row(time="7pm"), "time '7pm' is not HH:MM"),
        (row(time="24:00"), "is not HH:MM"),
        (row(end_time="later"), "end_time 'later' is not HH:MM"),
        (row(day=7), "day 7 is not 0-6 (0 = Sunday)"),
        (row(day=[1, 9]), "day 9 is not 0-6"),
        (row(day=True), "is not a number"),
        (row(day="Tuesday"), "is not a number"),
        (row(day=None), "no day"),
        (row(day=[]), "no day"),
        (row(timezone="America/Springfield"), "unknown time zone 'America/Springfield'"),
        (row(timezone=5), "unknown time zone"),
        (row(slug="s" * 201), "slug longer than 200"),
    ],
)
def test_malformed_rows_are_refused_with_a_reason(raw, reason):
    with pytest.raises(RowError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_row(raw, NY)


def test_sample_feed_skips_each_bad_row_with_its_reason_and_keeps_the_rest():
    parsed = parse_feed(json.loads(FEED.read_text()), NY)
    assert len(parsed.meetings) >= 30
    skipped = {s.slug: (s.row, s.reason) for s in parsed.skipped}
    assert skipped == {
        "no-time-group": (33, "no time"),
        "eighth-day": (34, "day 7 is not 0-6 (0 = Sunday)"),
        "springfield-online": (35, "unknown time zone 'America/Springfield'"),
        "tuesday-hope-group": (36, "duplicate slug (first in row 9)"),
        "evening-reflections": (37, "time '7pm' is not HH:MM"),
        "nameless": (38, "no name"),
    }
    by_slug = {m.slug: m for m in parsed.meetings}
    assert by_slug["tuesday-hope-group"].name == "Tuesday Hope Group"  # the first one wins
    assert by_slug["courthouse-group"].online and not by_slug["courthouse-group"].in_person
    assert not by_slug["river-road-group"].offered
    assert by_slug["hilltop-group"].timezone == NY
    assert by_slug["grupo-esperanza"].weekdays == (1, 3)  # Tuesday and Thursday


def test_a_feed_must_be_an_array():
    with pytest.raises(FeedError):
        parse_feed({"meetings": []}, NY)


@given(st.lists(st.integers(0, 6)))
def test_day_mask_round_trips(days):
    assert days_of(day_mask(days)) == tuple(sorted(set(days)))


@given(
    st.lists(st.one_of(st.none(), st.integers(), st.text(), st.dictionaries(st.text(), st.text())))
)
def test_no_row_can_break_a_feed(rows):
    parsed = parse_feed(rows, NY)  # never raises for any list
    assert len(parsed.meetings) + len(parsed.skipped) == len(rows)
