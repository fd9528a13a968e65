"""`aftercare audit export`: the audit log as CSV, oldest first. Pure: reading the dates the
operator typed and rendering rows; bot/runner.py reads the database and writes stdout."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, TextIO

HEADER = ("at", "actor", "action", "subject", "details")
DATE_HELP = "use YYYY-MM-DD (a UTC day) or an ISO 8601 time such as 2026-01-05T14:00:00+00:00"


class AuditRow(Protocol):
    at: datetime
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any] | None


def parse_bound(text: str, *, until: bool = False) -> datetime:
    """A UTC instant from an operator's date. A day given to --until means through its end,
    so `--since 2026-01-01 --until 2026-01-31` is the whole of January. A time without a
    zone is read as UTC. Raises ValueError with a message fit to print."""
    value = text.strip()
    try:
        if not any(mark in value for mark in "T :"):  # a day, not a time
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(), UTC)
            return start + timedelta(days=1) if until else start
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date: {DATE_HELP}") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def fields(row: AuditRow) -> list[str]:
    """One CSV row. Every cell starts with a digit, a letter or "{" (ours, not anyone's text),
    so no spreadsheet reads a cell as a formula."""
    details = json.dumps(row.details or {}, ensure_ascii=False, sort_keys=True)
    return [row.at.astimezone(UTC).isoformat(), row.actor, row.action, row.subject or "", details]


def start(out: TextIO) -> Any:
    """A CSV writer on `out` (RFC 4180: quoted as needed, CRLF line ends), header written."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    return writer


def write_csv(rows: Iterable[AuditRow], out: TextIO) -> int:
    """The header and every row; returns how many rows."""
    writer = start(out)
    count = 0
    for row in rows:
        writer.writerow(fields(row))
        count += 1
    return count
