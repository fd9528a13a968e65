"""`aftercare audit export`: the date bounds an operator types, the CSV rendering of awkward
details, the query on both databases, and the command itself as a real process."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bot import runner
from bot.audit_export import HEADER, fields, parse_bound, write_csv
from config.settings import Settings
from db import audit
from db.engine import create_engine, create_sessionmaker
from tests import cli, databases


@dataclass
class Row:
    at: datetime
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any] | None


AWKWARD = {
    "comma": "a, b",
    "quotes": 'she said "hi"',
    "newline": "line one\nline two\r\nline three",
    "unicode": "Zoë ✓ 🆘 שלום‏ a\u200bb",
    "nested": {"list": [1, "two", None], "empty": ""},
}


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# --- the dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "until", "expected"),
    [
        ("2026-01-05", False, datetime(2026, 1, 5, tzinfo=UTC)),
        ("2026-01-05", True, datetime(2026, 1, 6, tzinfo=UTC)),  # through the end of the day
        (" 2026-01-05 ", False, datetime(2026, 1, 5, tzinfo=UTC)),
        ("2026-01-05T14:30:00+00:00", False, datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),
        ("2026-01-05T09:30:00-05:00", True, datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),
        ("2026-01-05T14:30", False, datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),  # naive: UTC
        ("2026-01-05 14:30:00Z", False, datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),
    ],
)
def test_dates_and_times_are_read_as_utc_bounds(text, until, expected):
    assert parse_bound(text, until=until) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2026-13-01", "2026-02-30", "05/01/2026", "2026-01-05T25:00", "1e9"]
)
def test_a_bad_date_says_what_to_type(text):
    with pytest.raises(ValueError, match="is not a date: use YYYY-MM-DD"):
        parse_bound(text)


# --- the rendering ----------------------------------------------------------------------------


def test_awkward_details_survive_a_round_trip_through_csv():
    at = datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    rows = [
        Row(at, "counselor:3", "history_viewed", "participant:7", AWKWARD),
        Row(at + timedelta(minutes=1), "cli", "meetings_imported", None, None),
        Row(at, 'actor, "quoted"', "x\ny", "subject é", {"k": "=1+1"}),
    ]
    out = io.StringIO(newline="")
    assert write_csv(rows, out) == 3
    header, first, second, third = parse(out.getvalue())
    assert tuple(header) == HEADER
    assert first[:4] == ["2026-01-05T14:00:00+00:00", "counselor:3", "history_viewed",
                         "participant:7"]  # fmt: skip
    assert json.loads(first[4]) == AWKWARD
    assert "Zoë ✓ 🆘" in first[4]  # readable, not \u-escaped
    assert second == ["2026-01-05T14:01:00+00:00", "cli", "meetings_imported", "", "{}"]
    assert third[1:4] == ['actor, "quoted"', "x\ny", "subject é"]
    assert json.loads(third[4]) == {"k": "=1+1"}
    assert third[4].startswith("{")  # never a cell a spreadsheet would run as a formula


def test_an_empty_export_is_the_header_alone():
    out = io.StringIO(newline="")
    assert write_csv([], out) == 0
    assert out.getvalue() == "at,actor,action,subject,details\r\n"


def test_each_row_has_five_cells():
    row = Row(datetime(2026, 1, 5, tzinfo=UTC), "bot", "alert_raised", "participant:1", {"a": 1})
    assert fields(row) == ["2026-01-05T00:00:00+00:00", "bot", "alert_raised", "participant:1",
                           '{"a": 1}']  # fmt: skip


# --- the query, on each database --------------------------------------------------------------

JAN_5 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def write_events(url: str) -> None:
    """Events written out of time order, some on the edges of the window."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            for at, action, details in [
                (JAN_5 + timedelta(days=2), "alert_resolved", {"alert_id": 2}),
                (JAN_5, "history_viewed", AWKWARD),
                (JAN_5 - timedelta(days=10), "participant_enrolled", None),  # before --since
                (datetime(2026, 1, 8, tzinfo=UTC), "participant_discharged", None),  # after
                (JAN_5 + timedelta(hours=1), "alert_acknowledged", {"alert_id": 2}),
                (datetime(2026, 1, 4, tzinfo=UTC), "consent_given", {"version": "v1"}),  # edge
                (JAN_5, "flags_viewed", {"alerts": []}),  # same instant: in writing order
            ]:
                audit.record(session, at, "counselor:1", action, "participant:1", details)
    finally:
        await engine.dispose()


async def test_export_reads_the_window_in_time_order(db_url):
    await write_events(db_url)
    settings = Settings(_env_file=None, database_url=db_url, telegram_bot_token=None)
    out = io.StringIO(newline="")
    since, until = parse_bound("2026-01-04"), parse_bound("2026-01-07", until=True)
    assert await runner.export_audit(settings, since, until, out) == 5
    rows = parse(out.getvalue())
    assert [r[2] for r in rows[1:]] == [
        "consent_given",
        "history_viewed",
        "flags_viewed",
        "alert_acknowledged",
        "alert_resolved",
    ]
    assert json.loads(rows[2][4]) == AWKWARD
    # The export is recorded too, after what it exported.
    out = io.StringIO(newline="")
    await runner.export_audit(settings, parse_bound("2020-01-01"), None, out)
    last = parse(out.getvalue())[-1]
    assert last[1:3] == ["cli", "audit_exported"] and json.loads(last[4])["rows"] == 5


# --- the command, as an operator runs it ------------------------------------------------------


async def aftercare(url: str, cwd, *args: str) -> tuple[int, str, str]:
    return await cli.aftercare(cli.operator_env(DATABASE_URL=url), cwd, *args)


async def test_the_command_prints_csv_and_refuses_bad_dates(sqlite_template, tmp_path):
    url = databases.sqlite_copy(sqlite_template, tmp_path)
    await write_events(url)

    code, out, err = await aftercare(
        url, tmp_path, "audit", "export", "--since", "2026-01-05", "--until", "2026-01-06"
    )
    assert code == 0, err
    rows = parse(out)
    assert tuple(rows[0]) == HEADER
    assert [(r[0], r[2]) for r in rows[1:]] == [
        ("2026-01-05T12:00:00+00:00", "history_viewed"),
        ("2026-01-05T12:00:00+00:00", "flags_viewed"),
        ("2026-01-05T13:00:00+00:00", "alert_acknowledged"),
    ]
    assert json.loads(rows[1][4]) == AWKWARD

    code, out, err = await aftercare(url, tmp_path, "audit", "export", "--since", "2026-02-30")
    assert code == 2 and out == ""
    assert "'2026-02-30' is not a date: use YYYY-MM-DD" in err


async def test_until_before_since_is_refused(sqlite_template, tmp_path):
    url = databases.sqlite_copy(sqlite_template, tmp_path)
    code, out, err = await aftercare(
        url, tmp_path, "audit", "export", "--since", "2026-01-05", "--until", "2026-01-01"
    )
    assert code == 2 and out == ""
    assert "--until must come after --since" in err
