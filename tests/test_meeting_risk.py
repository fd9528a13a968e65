"""Attendance in the risk rules: the same meeting missed two weeks running, and no meeting for
14 days, are watch. Pure: the facts are passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from messages.catalog import load_catalog
from messages.risk import MeetingOccurrence, assess_meeting_gap, assess_meeting_skips

CATALOG = load_catalog()
TUESDAY = date(2026, 1, 20)


def weeks(*answers: str | None) -> list[MeetingOccurrence]:
    """Answers newest first, one week apart."""
    return [
        MeetingOccurrence(TUESDAY - timedelta(weeks=i), answer) for i, answer in enumerate(answers)
    ]


@pytest.mark.parametrize(
    "rule, answers, level",
    [
        ("skipped two weeks running is watch", weeks("skipped", "skipped"), "watch"),
        ("couldn't go two weeks running is watch", weeks("no", "skipped", "yes"), "watch"),
        ("skipped once is nothing", weeks("skipped", "yes"), "none"),
        ("skipped once, first week", weeks("skipped"), "none"),
        ("went this week", weeks("yes", "skipped", "skipped"), "none"),
        ("a third week running is not flagged again", weeks("skipped", "no", "skipped"), "none"),
        ("an unanswered week breaks the run", weeks("skipped", None, "skipped"), "none"),
        ("not yet answered", weeks(None, "skipped", "skipped"), "none"),
        ("nothing asked yet", [], "none"),
    ],
)
def test_same_meeting_missed_weeks_running(rule, answers, level):
    assessment = assess_meeting_skips(CATALOG, "Hope Group", answers)
    assert assessment.level == level, rule
    if level == "watch":
        assert assessment.reasons == ("Didn't make it to Hope Group 2 weeks running",)
        assert assessment.stage == "emotional"


NOW = datetime(2026, 1, 20, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    "rule, last_attended, tracking_since, level",
    [
        ("no meetings on the list", None, None, "none"),
        ("went 3 days ago", NOW - timedelta(days=3), NOW - timedelta(days=60), "none"),
        ("went 15 days ago", NOW - timedelta(days=15), NOW - timedelta(days=60), "watch"),
        ("exactly 14 days is not yet more", NOW - timedelta(days=14), NOW - timedelta(days=60),
         "none"),
        ("never went, meetings for 15 days", None, NOW - timedelta(days=15), "watch"),
        ("never went, meetings added 10 days ago", None, NOW - timedelta(days=10), "none"),
        ("went before the current meetings were added", NOW - timedelta(days=40),
         NOW - timedelta(days=5), "none"),
    ],
)  # fmt: skip
def test_no_meeting_for_fourteen_days(rule, last_attended, tracking_since, level):
    assessment = assess_meeting_gap(CATALOG, last_attended, tracking_since, NOW)
    assert assessment.level == level, rule
    if level == "watch":
        assert assessment.reasons == ("No meeting in 14 days (they have meetings on their list)",)
