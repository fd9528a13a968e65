"""Run by bench/scale.py in a process of its own: one tick on a prepared database; prints its
seconds (wall and CPU; the CPU figure is less shaken by a busy machine) and the process's peak
RSS (MB) as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from sqlalchemy import text

from bench.scale import NOW, WINDOW
from db.engine import create_engine, create_sessionmaker
from messages.catalog import load_catalog
from scheduler.checkins import run_tick


async def main(url: str) -> dict:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    catalog = load_catalog()
    async with sessionmaker() as session:  # connect before the clock starts
        await session.execute(text("SELECT 1"))
    started, cpu = time.perf_counter(), time.process_time()
    result = await run_tick(sessionmaker, catalog, NOW, WINDOW)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    await engine.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu, "rss_mb": peak_rss_mb(),
            "created": result.created}  # fmt: skip


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (not Linux?)")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
