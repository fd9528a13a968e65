"""APScheduler wiring: a few fixed interval jobs in UTC, never a job per participant."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

from delivery.dispatcher import Dispatcher
from messages.catalog import Catalog, Catalogs
from scheduler.alerting import run_escalation
from scheduler.checkins import run_missed_sweep, run_tick
from scheduler.meetings import run_meeting_tick
from scheduler.reminders import run_reminders
from scheduler.retention import Retention, RetentionSweep
from scheduler.safety_asks import run_unanswered_sweep

log = logging.getLogger(__name__)

LONG_RUN_SECONDS = 30.0


class FailureLog:
    """What the log says about a job that keeps failing. The dispatch job runs every second:
    while the database is down, a traceback each run would bury everything else. So a job's
    first failure is logged (with its traceback, unless it is the database being unreachable,
    which one line says fully), repeats are only counted, and the recovery is one line."""

    def __init__(self) -> None:
        self._failing: dict[str, tuple[float, int]] = {}  # job -> (since, failed runs)

    def failed(self, job: str, exc: BaseException, now: float) -> None:
        if job in self._failing:
            since, runs = self._failing[job]
            self._failing[job] = (since, runs + 1)
            return
        self._failing[job] = (now, 1)
        if isinstance(exc, (DBAPIError, OSError)):
            cause = type(getattr(exc, "orig", None) or exc).__name__
            log.error("scheduled job %s failed: the database can't be reached (%s); retrying "
                      "each run, quietly until it recovers", job, cause)  # fmt: skip
        else:
            log.error("scheduled job %s failed; retrying each run, quietly until it recovers",
                      job, exc_info=exc)  # fmt: skip

    def succeeded(self, job: str, now: float) -> None:
        failing = self._failing.pop(job, None)
        if failing is not None:
            since, runs = failing
            log.info("scheduled job %s recovered after %.0fs (%s failed runs)", job,
                     now - since, runs)  # fmt: skip


class _SkippedRuns(logging.Filter):
    """APScheduler warns at every interval a job is still running (max_instances=1). A drain
    sending a morning's backlog runs for minutes as meant, and printed a line a second per job
    (600 in one bench run); the run is logged once, when it ends, instead (JobScheduler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "skipped: maximum number of running instances" not in str(record.msg)


SKIPPED_RUNS = _SkippedRuns()


class JobScheduler(AsyncIOScheduler):
    """APScheduler's, with a stop that lets running jobs finish. Its own shutdown(wait=False)
    cancels them wherever they are, mid-query included: a traceback for every job running
    (the CancelledError in the asyncpg ping) and a connection cut off mid-conversation.
    A run longer than `long_run_seconds` is one line when it ends."""

    def __init__(self, long_run_seconds: float = LONG_RUN_SECONDS, **options) -> None:
        super().__init__(**options)
        self._running: set[asyncio.Task] = set()
        self.failures = FailureLog()
        self._long_run_seconds = long_run_seconds
        self._logger.addFilter(SKIPPED_RUNS)  # once: addFilter ignores a filter already there

    def add_tracked_job(self, func, **options) -> None:
        job = options.get("id") or func.__name__

        @functools.wraps(func)
        async def tracked() -> None:
            task = asyncio.current_task()
            assert task is not None  # APScheduler runs a coroutine job as a task
            self._running.add(task)
            clock = asyncio.get_running_loop().time
            started = clock()
            try:
                await func()
            except Exception as exc:  # the next run retries; see FailureLog
                self.failures.failed(job, exc, clock())
            else:
                self.failures.succeeded(job, clock())
            finally:
                self._running.discard(task)
                took = clock() - started
                if took > self._long_run_seconds:
                    log.info("scheduled job %s ran for %.0fs; its runs meanwhile were skipped",
                             job, took)  # fmt: skip

        self.add_job(tracked, **options)

    async def stop(self, grace_seconds: float) -> None:
        """No new runs; the running jobs get `grace_seconds` to finish, then are cancelled."""
        if self.running:
            self.pause()
        running = set(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=grace_seconds)
            for task in late:
                log.warning("a scheduled job did not finish in %.0fs; stopping it", grace_seconds)
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.running:
            self.shutdown(wait=False)


@dataclass(frozen=True)
class Intervals:
    tick_seconds: float
    dispatch_seconds: float
    sweep_seconds: float


def build_scheduler(
    sessionmaker: async_sessionmaker,
    catalog: Catalog,
    dispatcher: Dispatcher,
    clock: Callable[[], datetime],
    response_window: timedelta,
    intervals: Intervals,
    escalation_timeouts: dict[str, timedelta],
    catalogs: Catalogs | None = None,
    team_chat_id: int | None = None,
    retention: Retention | None = None,
    safety_ask_wait: timedelta = timedelta(minutes=30),
) -> JobScheduler:
    """`catalog` is the program's language (counselors, alerts); `catalogs` holds each
    participant's; `team_chat_id` is the counselor team group that also hears of alerts;
    `retention` the purge's periods (none: no purge); `safety_ask_wait` how long "Are you safe
    right now?" waits for an answer before the counselor is told."""
    purge = RetentionSweep(sessionmaker, clock, retention) if retention is not None else None

    async def tick() -> None:
        result = await run_tick(sessionmaker, catalog, clock(), response_window, catalogs)
        if result.created or result.skipped:
            log.info("check-in tick: %s created, %s skipped", result.created, result.skipped)
        # Medication reminders are due on the same clock; the same job scans for them.
        reminders = await run_reminders(sessionmaker, catalog, clock(), catalogs)
        if reminders:
            log.info("medication reminders: %s queued", reminders)
        await dispatcher.drain()

    async def meetings() -> None:
        result = await run_meeting_tick(sessionmaker, catalog, clock(), team_chat_id, catalogs)
        if result.reminders or result.follow_ups or result.skipped:
            log.info("meeting tick: %s reminders, %s follow-ups, %s skipped",
                     result.reminders, result.follow_ups, result.skipped)  # fmt: skip
        await dispatcher.drain()

    async def sweep() -> None:
        missed = await run_missed_sweep(sessionmaker, catalog, clock(), team_chat_id)
        if missed:
            log.info("missed sweep: %s check-ins marked missed", missed)
        await run_escalation(sessionmaker, catalog, clock(), escalation_timeouts, team_chat_id)
        await run_unanswered_sweep(sessionmaker, catalog, clock(), safety_ask_wait, team_chat_id)
        await dispatcher.drain()
        await dispatcher.daily_report()
        if purge is not None:  # last, and at most hourly: nothing in it is urgent
            await purge.maybe_run()

    scheduler = JobScheduler(timezone="UTC")
    common = dict(trigger="interval", max_instances=1, coalesce=True, misfire_grace_time=None)
    add = scheduler.add_tracked_job
    add(tick, seconds=intervals.tick_seconds, id="checkin_tick", **common)
    # Reminders are due at minute-level times, like check-ins: the same interval serves both.
    add(meetings, seconds=intervals.tick_seconds, id="meeting_tick", **common)
    add(dispatcher.drain, seconds=intervals.dispatch_seconds, id="dispatch", **common)
    add(sweep, seconds=intervals.sweep_seconds, id="missed_sweep", **common)
    return scheduler
