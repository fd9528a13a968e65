"""Program figures against a table computed by hand, and the caseload's order. Pure: plain
rows in, no bot, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from messages import caseload, figures
from messages.figures import AlertRow, CaseloadEntry, CheckinRow, EnrollmentRow, ProgramRows
from messages.svg_chart import trend_svg
from messages.trend_points import ChartPoint

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
TARGETS = {"crisis": 15 * MINUTE, "high": 240 * MINUTE, "watch": 1440 * MINUTE}


def ago(delta: timedelta) -> datetime:
    return NOW - delta


CHECKINS = [
    # participant 1
    CheckinRow(1, ago(1 * DAY), "completed"),
    CheckinRow(1, ago(2 * DAY), "missed"),
    CheckinRow(1, ago(3 * DAY), "completed"),
    CheckinRow(1, ago(6 * DAY), "completed"),
    CheckinRow(1, ago(10 * DAY), "missed"),
    CheckinRow(1, ago(20 * DAY), "completed"),
    CheckinRow(1, ago(40 * DAY), "completed"),  # before both windows
    CheckinRow(1, NOW, "completed"),  # a slot this very instant is not in the past yet
    # participant 2
    CheckinRow(2, ago(1 * DAY), "skipped"),  # never sent after an outage: not counted
    CheckinRow(2, ago(2 * DAY), "sent"),  # still open: not counted
    CheckinRow(2, ago(5 * DAY), "completed"),
    CheckinRow(2, ago(7 * DAY), "completed"),  # exactly 7 days ago: inside the 7-day window
    CheckinRow(2, ago(8 * DAY), "missed"),
]


def enrolled(pid: int, days_ago: int, *answered_on_day: int) -> EnrollmentRow:
    start = ago(days_ago * DAY)
    return EnrollmentRow(pid, start, tuple(start + d * DAY for d in answered_on_day))


ENROLLMENTS = [
    enrolled(1, 100, 25, 85),  # day 30: answered on day 25 (in 16-30]; day 90: day 85
    enrolled(2, 95, 10),  # answered only on day 10: neither
    enrolled(3, 40, 30),  # answered on day 30 itself: retained at 30; too new for 90
    enrolled(4, 20),  # too new for either
    enrolled(5, 35, 16),  # day 16 is 14 days before day 30, outside "the last 14 days"
]


def acked(id_: int, level: str, created: timedelta, after_minutes: float | None,
          status: str = "acknowledged", pid: int = 1) -> AlertRow:  # fmt: skip
    at = ago(created)
    ack = None if after_minutes is None else at + after_minutes * MINUTE
    return AlertRow(id_, pid, level, status, at, ack)


ALERTS = [
    acked(1, "crisis", 2 * HOUR, 10),
    acked(2, "crisis", 3 * HOUR, 20),
    acked(3, "high", 1 * DAY, 100),
    acked(4, "high", 2 * DAY, 300),
    acked(5, "high", 3 * DAY, 60, status="resolved"),
    acked(6, "watch", 30 * HOUR, None, status="open", pid=2),
    acked(7, "watch", 10 * HOUR, None, status="open"),  # open, but not 24 h yet
    acked(8, "crisis", 40 * DAY, 5),  # before the 30 days
    acked(9, "high", 45 * DAY, None, status="open", pid=3),
]

CASELOAD = [
    CaseloadEntry("Dana", "active"),
    CaseloadEntry("Dana", "paused"),
    CaseloadEntry("Dana", "active"),
    CaseloadEntry("Omar", "discharged"),
    CaseloadEntry("", "active"),
]

# Computed by hand from the rows above.
EXPECTED = {
    "completion": ((7, 5, 6, 83.3), (30, 6, 9, 66.7)),
    "retention": ((30, 2, 4, 50.0), (90, 1, 2, 50.0)),
    "alerts_by_level": (("watch", 2), ("high", 3), ("crisis", 2), ("all", 7)),
    "time_to_acknowledge": (
        ("watch", 0, None, None, None, 1440.0),
        ("high", 3, 100.0, 300.0, 66.7, 240.0),
        ("crisis", 2, 15.0, 20.0, 50.0, 15.0),
        ("all", 5, 60.0, 300.0, 60.0, ""),
    ),
    "unacknowledged": (
        (9, "high", 3, "2026-01-15T12:00+00:00", 1080.0),
        (6, "watch", 2, "2026-02-28T06:00+00:00", 30.0),
    ),
    "caseload": (("", 1, 0, 0, 1), ("Dana", 2, 1, 0, 3), ("Omar", 0, 0, 1, 1)),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_program_figures_match_the_hand_computed_table(name):
    tables = figures.tables(ProgramRows(CHECKINS, ENROLLMENTS, ALERTS, CASELOAD), NOW, TARGETS)
    table = next(t for t in tables if t.name == name)
    assert table.rows == EXPECTED[name]
    assert all(len(row) == len(table.header) for row in table.rows)


def test_figures_of_nothing_are_empty_not_errors():
    tables = figures.tables(ProgramRows([], [], [], []), NOW, TARGETS)
    by_name = {t.name: t.rows for t in tables}
    assert by_name["completion"] == ((7, 0, 0, None), (30, 0, 0, None))
    assert by_name["unacknowledged"] == () and by_name["caseload"] == ()


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([7], 7, 7),
        ([1, 2], 1.5, 2),
        ([5, 1, 3], 3, 5),
        (list(range(1, 11)), 5.5, 9),  # nearest rank: the 9th of 10
        (list(range(1, 21)), 10.5, 18),
    ],
)
def test_median_and_nearest_rank_percentile(values, median, p90):
    assert figures.median(values) == median
    assert figures.percentile(values, 0.9) == p90


@pytest.mark.parametrize(
    ("value", "cell"),
    [(None, ""), (3, "3"), (66.7, "66.7"), ("Dana", "Dana"), ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
     ("@cmd", "'@cmd"), ("+1", "'+1")],
)  # fmt: skip
def test_csv_cells_never_run_as_spreadsheet_formulas(value, cell):
    assert figures.csv_cell(value) == cell


def row(pid: int, level: str | None, last_days: float | None) -> caseload.CaseloadRow:
    last = None if last_days is None else NOW - last_days * DAY
    return caseload.CaseloadRow(pid, f"P{pid}", "active", 3, level, last, 0, (), (), None)


def test_caseload_orders_by_open_level_then_longest_without_a_check_in():
    rows = [row(1, None, 1), row(2, "watch", 5), row(3, "crisis", 0.5), row(4, None, None),
            row(5, None, 9), row(6, "watch", None), row(7, "high", 2)]  # fmt: skip
    assert [r.participant_id for r in caseload.ordered(rows, NOW)] == [3, 7, 6, 2, 4, 5, 1]
    assert caseload.highest(["watch", "crisis", "high"]) == "crisis"
    assert caseload.highest([]) is None


def test_the_chart_marks_lapses_and_misses_with_letters_not_only_colour():
    start = date(2026, 2, 1)
    points = [ChartPoint(start, mood=2, craving=9, lapse=True),
              ChartPoint(start + 2 * DAY, missed=True),
              ChartPoint(start + 3 * DAY, mood=4, craving=3)]  # fmt: skip
    svg = trend_svg(points, start, start + 30 * DAY)
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    assert ">L</text>" in svg and ">M</text>" in svg
    assert svg.count("<circle") == 2 and svg.count("<rect") == 2
    assert 'stroke-dasharray="6 4"' in svg  # cravings dashed, mood solid
