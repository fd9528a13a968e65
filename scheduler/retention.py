"""The retention purge, run from the sweep job at most once an hour (its statements scan whole
tables, and nothing in it is urgent):

- a discharged participant's answers, check-ins, notes, attendance and doses go RETENTION_MONTHS
  after discharge, with their meetings, plan and medications, and their alerts' words;
- raw Telegram updates go, and sent messages lose their text, MESSAGE_RETENTION_DAYS after
  they were handled, whoever they are about.

What is deleted and what stays is db/erasure.py's; when, this module's.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from db import erasure

log = logging.getLogger(__name__)

EVERY = timedelta(hours=1)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier; a day the month lacks becomes
    its last (31 May - 3 months = 28 or 29 February). Pure."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class Retention:
    months: int
    message_days: float


@dataclass(frozen=True)
class RetentionResult:
    purged: erasure.Purged
    updates_deleted: int
    messages_emptied: int


async def run_retention(
    sessionmaker: async_sessionmaker, now: datetime, retention: Retention
) -> RetentionResult:
    """One purge, in one transaction."""
    async with sessionmaker.begin() as session:
        purged = await erasure.purge_discharged(session, months_before(now, retention.months))
        updates, messages = await erasure.purge_messages(
            session, now - timedelta(days=retention.message_days)
        )
    result = RetentionResult(purged, updates, messages)
    if purged.participants or updates or messages:
        log.info(
            "retention: %s discharged participants past %s months (%s check-ins, %s notes, "
            "%s alerts' words), %s raw updates, %s sent messages' text",
            purged.participants, retention.months, purged.checkins, purged.notes,
            purged.alerts, updates, messages,
        )  # fmt: skip
    return result


class RetentionSweep:
    """Runs the purge when an hour has passed since this process last did (a second worker
    doing it too is harmless: every statement is idempotent)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        clock: Callable[[], datetime],
        retention: Retention,
        every: timedelta = EVERY,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._retention = retention
        self._every = every
        self._last: datetime | None = None

    async def maybe_run(self) -> RetentionResult | None:
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            return None
        self._last = now
        return await run_retention(self._sessionmaker, now, self._retention)
