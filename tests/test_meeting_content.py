"""Meeting content, buttons and rendering: validated at start-up, within Telegram's limits,
escaped. Pure: no bot, no database."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages import render_meetings as view
from messages.answers import parse_attendance
from messages.callback_data import (
    AttendanceButton,
    MeetingDayButton,
    MeetingFilterButton,
    MeetingLeadButton,
    MeetingManageButton,
    MeetingMenuButton,
    MeetingPickButton,
    MeetingRemoveButton,
    decode,
    encode,
)
from messages.catalog import CONTENT_DIR, ContentError, load_catalog, parse_catalog
from messages.html import check_html, strip_html

CATALOG = load_catalog()
RAW = tomllib.loads((CONTENT_DIR / "en.toml").read_text())


@pytest.mark.parametrize(
    "break_it, complaint",
    [
        (lambda d: d["meetings"].pop("list_line"), "missing 'list_line'"),
        (lambda d: d["meetings"].update(reminder="{name} soon"), "placeholders"),
        (lambda d: d["meeting_options"].update(default_lead=45), "default_lead"),
        (lambda d: d["meeting_options"].update(filter_types=["W", "ZZ"]), "ZZ"),
        (lambda d: d["meeting_options"].update(morning_before="18:00"), "morning must end"),
        (lambda d: d["meeting_options"].update(evening_from="7pm"), "not HH:MM"),
        (lambda d: d["meeting_answers"].pop(), "must be exactly"),
        (lambda d: d["meeting_answers"][0].update(reply="<blink>hi</blink>"), "unsupported tag"),
        (lambda d: d["meeting_answers"][1]["typed"].append("yes"), "two answers"),
        (lambda d: d["meeting_leads"].append({"minutes": 0, "label": "now"}), "1-1440"),
        (lambda d: d["meeting_types"].update({"wheelchair": "X"}), "short capitals"),
        (lambda d: d["risk"].pop("meeting_gap_days"), "meeting_gap_days"),
        (lambda d: d["reasons"].update(meeting_skips="Skipped {name}"), "placeholders"),
        (lambda d: d["commands"].pop("meetings"), "missing 'meetings'"),
    ],
)
def test_broken_meeting_content_is_refused_with_a_clear_message(break_it, complaint):
    data = copy.deepcopy(RAW)
    break_it(data)
    with pytest.raises(ContentError, match=complaint):
        parse_catalog(data)


BUTTONS = st.one_of(
    st.builds(MeetingMenuButton, st.sampled_from("posx")),
    st.builds(
        MeetingFilterButton,
        st.sampled_from([*"0123456", "*", "-"]),
        st.sampled_from(list("mae*-")),
        st.sampled_from(list("po*-")),
        st.sampled_from(["*", "-", "O", "LGBTQ", "W", "ABCDEFGHIJ"]),
    ),
    st.builds(MeetingPickButton, st.integers(1, 10**12 - 1), st.integers(0, 6)),
    st.builds(MeetingDayButton, st.integers(0, 6)),
    st.builds(MeetingManageButton, st.integers(1, 10**12 - 1)),
    st.builds(MeetingLeadButton, st.integers(1, 10**12 - 1), st.integers(1, 1440)),
    st.builds(MeetingRemoveButton, st.integers(1, 10**12 - 1)),
    st.builds(
        AttendanceButton, st.integers(1, 10**12 - 1), st.sampled_from(["yes", "no", "skipped"])
    ),
)


@given(BUTTONS)
def test_meeting_buttons_round_trip_within_64_bytes(button):
    text = encode(button)
    assert len(text.encode()) <= 64
    assert decode(text) == button


@pytest.mark.parametrize(
    "forged", ["mf:7:-:-:-", "mf:1:x:-:-", "mf:1:m:p:o", "at:1:maybe", "mp:1:7", "mm:z", "md:9"]
)
def test_forged_meeting_buttons_are_not_read(forged):
    assert decode(forged) is None


@pytest.mark.parametrize(
    "typed, value",
    [
        ("Yes", "yes"),
        ("yes!", "yes"),
        ("I went.", "yes"),
        ("no", "no"),
        ("I couldn’t", "no"),
        ("I skipped it", "skipped"),
        ("skipped", "skipped"),
        ("maybe", None),
        ("yes and no", None),
    ],
)
def test_typed_answers_to_did_you_make_it(typed, value):
    assert parse_attendance(CATALOG.meetings, typed) == value


NASTY = view.MeetingInfo(
    name="<b>A & B</b>",
    weekday=1,
    start="19:00",
    end="20:00",
    zone="America/Chicago",
    place="1 <Elm> St",
    link="https://meet.example.org/?a=1&b=2",
    phone="+1 555 0100",
    types=("Open",),
)


def test_everything_a_feed_or_a_participant_wrote_is_escaped():
    rendered = [
        view.manage(CATALOG, 7, NASTY, "America/New_York", "Added"),
        view.meeting_list(CATALOG, [(7, NASTY)], "America/New_York", True),
        view.reminder(CATALOG, NASTY, datetime(2026, 1, 6, 19, tzinfo=UTC), date(2026, 1, 6)),
        view.follow_up(CATALOG, 3, NASTY.name),
        view.own_day(CATALOG, NASTY.name),
    ]
    for message in rendered:
        assert check_html(message.text) is None, message.text
        assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in message.text
    manage = strip_html(rendered[0].text)
    assert "Tuesdays, 19:00–20:00 (Chicago time)" in manage
    assert "📍 1 <Elm> St" in manage and "☎️ +1 555 0100" in manage
    assert [label for row in rendered[1].buttons for label, _ in row][-1] == "⚙️ <b>A & B</b>"


def test_filter_steps_in_order_then_the_kinds_from_content():
    step = view.filter_step(CATALOG, view.FIRST_STEP)
    assert "Which day?" in step.text
    chosen = MeetingFilterButton("1", "e", "p", "-")
    kinds = [label for row in view.filter_step(CATALOG, chosen).buttons for label, _ in row]
    assert kinds[0] == "Any kind" and "Women" in kinds and "LGBTQ" in kinds
