"""A scheduled job that keeps failing (the database is down) says so once, not every second,
and says when it recovers; a bug's first failure keeps its traceback."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text

from db.engine import create_engine, create_sessionmaker
from scheduler.jobs import FailureLog, JobScheduler

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"


def job_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "scheduler.jobs"]


async def test_a_database_outage_is_one_line_then_one_line_when_it_is_back(caplog):
    caplog.set_level(logging.INFO, logger="scheduler.jobs")
    engine = create_engine(UNREACHABLE)
    sessionmaker = create_sessionmaker(engine)
    runs: list[str] = []
    database_up, failed_five_times, recovered = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def dispatch() -> None:
        if database_up.is_set():
            runs.append("ok")
            recovered.set()
            return
        runs.append("failed")
        if runs.count("failed") >= 5:
            failed_five_times.set()
        async with sessionmaker() as session:  # a real connection attempt, refused
            await session.execute(text("SELECT 1"))

    scheduler = JobScheduler(timezone="UTC")
    scheduler.add_tracked_job(dispatch, trigger="interval", seconds=0.05, id="dispatch",
                              max_instances=1, coalesce=True, misfire_grace_time=None)  # fmt: skip
    scheduler.start()
    try:
        await asyncio.wait_for(failed_five_times.wait(), 30)
        database_up.set()
        await asyncio.wait_for(recovered.wait(), 30)
    finally:
        await scheduler.stop(grace_seconds=5)
        await engine.dispose()

    records = job_records(caplog)
    assert [r.levelname for r in records] == ["ERROR", "INFO"], [r.getMessage() for r in records]
    failed, recovered = records
    assert "the database can't be reached" in failed.getMessage()
    assert failed.exc_info is None  # one line, no traceback each second
    assert "dispatch recovered after" in recovered.getMessage()
    assert f"({runs.count('failed')} failed runs)" in recovered.getMessage()
    # APScheduler's own "Job raised an exception" traceback never appears either.
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.exc_info]


def test_a_bug_keeps_its_traceback_once(caplog):
    caplog.set_level(logging.INFO, logger="scheduler.jobs")
    failures = FailureLog()
    for second in range(3):
        failures.failed("sweep", KeyError("a bug"), float(second))
    records = job_records(caplog)
    assert len(records) == 1 and records[0].exc_info is not None
    failures.succeeded("sweep", 10.0)
    failures.succeeded("sweep", 11.0)  # a job that was fine says nothing
    assert [r.getMessage() for r in job_records(caplog)][1] == (
        "scheduled job sweep recovered after 10s (3 failed runs)"
    )
    assert len(job_records(caplog)) == 2


async def test_a_long_run_is_one_line_not_a_warning_at_every_interval(caplog):
    """A drain sending a backlog runs for minutes, as meant: APScheduler's "skipped: maximum
    number of running instances" each interval is kept out of the log; the run is one line."""
    caplog.set_level(logging.INFO)
    done = asyncio.Event()

    async def dispatch() -> None:
        if not done.is_set():
            await asyncio.sleep(0.6)  # a dozen intervals; the later runs are quick
        done.set()

    scheduler = JobScheduler(long_run_seconds=0.3, timezone="UTC")
    scheduler.add_tracked_job(dispatch, trigger="interval", seconds=0.05, id="dispatch",
                              max_instances=1, coalesce=True, misfire_grace_time=None)  # fmt: skip
    scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), 30)
        await asyncio.sleep(0.2)  # the next interval skips nothing now; the run has ended
    finally:
        await scheduler.stop(grace_seconds=5)
    assert not [r for r in caplog.records if "skipped" in r.getMessage()
                and r.name.startswith("apscheduler")]  # fmt: skip
    ran = [r.getMessage() for r in job_records(caplog) if "ran for" in r.getMessage()]
    assert ran == ["scheduled job dispatch ran for 1s; its runs meanwhile were skipped"]
