"""Scale scenarios: the tick's cost as enrolment grows, and memory with 100,000 participants
(the bot itself, and the alternative of one PTB JobQueue job per participant)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.common import TOKEN, enroll, fresh_database
from bench.latency import reached_all
from bench.remote import RemoteTelegram
from db.engine import create_engine, create_sessionmaker
from messages.catalog import load_catalog
from scheduler.checkins import run_tick

NOW = datetime(2026, 1, 5, 14, tzinfo=UTC)
WINDOW = timedelta(hours=6)
DUE = 1000
ENROLLED = 100_000


async def tick_seconds(kind: str, folder: Path, enrolled: int) -> float:
    """One tick with DUE participants due among `enrolled`, on a warmed-up, analyzed database."""
    url, drop = await fresh_database(kind, folder)
    try:
        await enroll(url, DUE, 700_000, NOW, not_due=enrolled - DUE)
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))  # as autovacuum / a DBA would have
        sessionmaker = create_sessionmaker(engine)
        catalog = load_catalog()
        async with sessionmaker() as session:  # connect before the clock starts
            await session.execute(text("SELECT 1"))
        started = time.perf_counter()
        result = await run_tick(sessionmaker, catalog, NOW, WINDOW)
        seconds = time.perf_counter() - started
        assert result.created == DUE, result
        await engine.dispose()
        return seconds
    finally:
        if drop:
            await drop()


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (not Linux?)")


async def bot_rss(kind: str, folder: Path) -> float:
    """`aftercare run` as its own process on 100,000 participants, 1,000 of them due now:
    its peak RSS once it has ticked and sent those check-ins."""
    async with RemoteTelegram(TOKEN) as tg:
        url, drop = await fresh_database(kind, folder)
        try:
            chats = range(800_000, 800_000 + DUE)
            await tg.users(chats[0], DUE)
            await enroll(url, DUE, chats[0], datetime.now(UTC), not_due=ENROLLED - DUE)
            from tests.cli import operator_env

            env = operator_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=tg.base_url,
                               DATABASE_URL=url, LOG_LEVEL="WARNING", TICK_INTERVAL_SECONDS="1",
                               RATE_GLOBAL_PER_SECOND="100000",
                               RATE_CHAT_INTERVAL_SECONDS="0")  # fmt: skip
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            try:
                await tg.wait_for(lambda: reached_all(tg, chats[0], DUE), timeout=120,
                                  interval=0.2, message="the 1,000 due check-ins")  # fmt: skip
                await asyncio.sleep(2)  # a few more ticks and sweeps over the 100,000
                return peak_rss_mb(process.pid)
            finally:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
        finally:
            if drop:
                await drop()


JOBQUEUE = """
import asyncio, datetime, pathlib
from zoneinfo import ZoneInfo
from telegram.ext import Application

async def checkin(context):
    pass

async def main():
    app = Application.builder().token({token!r}).build()  # never contacts Telegram
    zone = ZoneInfo("America/New_York")
    for i in range({count}):
        at = datetime.time(7 + i % 12, i % 60, tzinfo=zone)
        app.job_queue.run_daily(checkin, at, chat_id=i, user_id=i, name=f"checkin-{{i}}")
    await app.job_queue.start()
    await asyncio.sleep(1)
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(int(line.split()[1]) / 1024)
    await app.job_queue.stop()

asyncio.run(main())
"""


async def jobqueue_rss() -> float:
    """For comparison: the memory of one PTB JobQueue run_daily job per participant."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", JOBQUEUE.format(token=TOKEN, count=ENROLLED),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 300)
    return float(out.decode().strip())


async def tick_50k(kind: str, folder: Path, due: int = 50_000) -> dict:
    """The 09:00 tick of a state-wide program: 50,000 due among 100,000, in a process of its
    own (bench/tick_child.py), so its peak RSS is the tick's."""
    url, drop = await fresh_database(kind, folder)
    try:
        await enroll(url, due, 1_000_000, NOW, not_due=ENROLLED - due)
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        await engine.dispose()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.tick_child", url, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(process.communicate(), 600)
        figures = json.loads(out)
        assert figures["created"] == due, figures
    finally:
        if drop:
            await drop()
    return {
        f"tick_50k_s_{kind}": round(figures["seconds"], 2),
        f"tick_50k_cpu_s_{kind}": round(figures["cpu_seconds"], 2),
        f"tick_50k_rss_mb_{kind}": round(figures["rss_mb"], 1),
    }


async def scenario_scale(kind: str, folder: Path) -> dict:
    small = await tick_seconds(kind, folder, DUE)
    large = await tick_seconds(kind, folder, ENROLLED)
    return {
        f"tick_scale_ratio_{kind}": round(large / small, 2),
        f"tick_1k_of_1k_s_{kind}": round(small, 3),
        f"tick_1k_of_100k_s_{kind}": round(large, 3),
        f"rss_100k_mb_{kind}": round(await bot_rss(kind, folder), 1),
    }
