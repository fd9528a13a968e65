"""`make bench`: delivery figures measured side by side in one run against the local Bot API
server, on SQLite and PostgreSQL. Prints a table and writes bench/results.json.

Run by hand (never in the suite). PostgreSQL uses TEST_DATABASE_URL, or the CI default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import Bot
from telegram.ext import ExtBot
from telegram.request import BaseRequest

from bench.common import KINDS, TOKEN, enroll, fresh_database
from bench.latency import bare_echo, scenario_crisis, scenario_inbound
from bench.paid import morning, scenario_paid
from bench.remote import RemoteTelegram
from bench.scale import jobqueue_rss, scenario_scale, tick_50k
from db.engine import create_engine, create_sessionmaker
from delivery.dispatcher import Dispatcher
from delivery.http_request import AiohttpRequest
from delivery.markup import reply_markup_from
from delivery.rate_limit import PriorityRateLimiter
from messages import render
from messages.catalog import load_catalog
from scheduler.checkins import run_tick

NOW = datetime(2026, 1, 5, 14, tzinfo=UTC)
WINDOW = timedelta(hours=6)
RESULTS = Path(__file__).resolve().parent / "results.json"


async def deliver(tg, url: str, limiter: PriorityRateLimiter) -> float:
    """Tick, then drain the outbox through the real bot; returns seconds from tick to done."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    catalog = load_catalog()
    # The request layer `aftercare run` builds its bot with (bot/app.py).
    bot = ExtBot(TOKEN, base_url=tg.base_url, base_file_url=tg.base_file_url,
                 rate_limiter=limiter, request=AiohttpRequest())  # fmt: skip
    await bot.initialize()
    try:
        started = time.perf_counter()
        await run_tick(sessionmaker, catalog, NOW, WINDOW)
        dispatcher = Dispatcher(sessionmaker, bot, lambda: NOW, catalog, batch=200)
        while await dispatcher.drain():
            pass
        return time.perf_counter() - started
    finally:
        await bot.shutdown()
        await engine.dispose()


async def bare_loop(tg, chats: list[int], request: BaseRequest | None = None) -> float:
    """The baseline: python-telegram-bot's send_message in a plain loop, nothing else, sending
    the same message a check-in sends (text and buttons), so both pay the same server cost.
    With PTB's own request layer (httpx) unless `request` is given."""
    catalog = load_catalog()
    keys = render.compose_daily(catalog, 0)
    question = render.question(catalog, keys, 0, 1, intro=render.intro(catalog, "daily", "P"))
    markup = reply_markup_from(question.reply_markup(), None)
    async with Bot(TOKEN, base_url=tg.base_url, base_file_url=tg.base_file_url,
                   request=request) as bot:  # fmt: skip
        started = time.perf_counter()
        for chat in chats:
            await bot.send_message(chat, question.text, parse_mode="HTML", reply_markup=markup)
        return time.perf_counter() - started


async def scenario_dispatch(kind: str, folder: Path, count: int = 5000) -> dict:
    async with RemoteTelegram(TOKEN) as tg:
        chats = list(range(100_000, 100_000 + count))
        await tg.users(chats[0], count)
        cpu = time.process_time()
        bare_seconds = await bare_loop(tg, chats)
        bare_cpu = time.process_time() - cpu
        # The same loop on the request layer the bot uses: what the dispatcher itself costs.
        await tg.users(150_000, count)
        same_seconds = await bare_loop(tg, list(range(150_000, 150_000 + count)),
                                       AiohttpRequest())  # fmt: skip
        url, drop = await fresh_database(kind, folder)
        try:
            await enroll(url, count, 200_000, NOW)
            await tg.users(200_000, count)
            unlimited = PriorityRateLimiter(per_second=1_000_000, chat_interval=0)
            cpu = time.process_time()
            ours = await deliver(tg, url, unlimited)
            ours_cpu = time.process_time() - cpu
        finally:
            if drop:
                await drop()
    return {
        f"dispatch_ratio_{kind}": round((count / ours) / (count / bare_seconds), 2),
        # CPU seconds, bare ÷ ours: the same comparison, less shaken by other processes' load.
        f"dispatch_cpu_ratio_{kind}": round(bare_cpu / ours_cpu, 2),
        f"dispatch_rate_{kind}": round(count / ours, 1),
        f"bare_rate_{kind}": round(count / bare_seconds, 1),
        f"dispatch_ratio_same_transport_{kind}": round(same_seconds / ours, 2),
        f"bare_rate_aiohttp_{kind}": round(count / same_seconds, 1),
    }


async def scenario_limits(kind: str, folder: Path, count: int = 2000) -> dict:
    async with RemoteTelegram(TOKEN) as tg:
        await tg.set_rate_limits(global_per_second=30, per_chat_per_second=1, retry_after=1)
        url, drop = await fresh_database(kind, folder)
        try:
            await enroll(url, count, 300_000, NOW)
            await tg.users(300_000, count)
            limiter = PriorityRateLimiter()  # Telegram's defaults: 30/s, 1 s per chat
            seconds = await deliver(tg, url, limiter)
        finally:
            if drop:
                await drop()
        delivery = await tg.delivery(300_000, count)
        return {
            f"limit_utilization_{kind}": round((count / seconds) / 30, 3),
            f"retry_after_429s_{kind}": (await tg.stats())["rate_limited"],
            f"lost_{kind}": delivery["lost"],
            f"duplicated_{kind}": delivery["duplicated"],
        }


GOALS = {
    "dispatch_ratio": "≥ 0.8",
    "dispatch_cpu_ratio": "reported",
    "dispatch_ratio_same_transport": "reported",
    "limit_utilization": "≥ 0.9",
    "retry_after_429s": "0",
    "lost": "0",
    "duplicated": "0",
    "crisis_alert_p50_s": "reported",
    "crisis_alert_p99_s": "≤ 2",
    "fifo_wait_s": "reported",
    "inbound_ratio": "≥ 0.5",
    "reply_p99_s": "reported",
    "tick_scale_ratio": "≤ 1.5",
    "rss_100k_mb": "≤ 250",
    "tick_50k_s": "≤ 10",
    "tick_50k_rss_mb": "≤ 300",
    "paid_utilization": "≥ 0.85",
    "paid_retry_after_429s": "0",
    "crisis_alert_p99_paid_s": "≤ 1",
    "paid_lost": "0",
    "paid_duplicated": "0",
    "last_message_free_min": "reported",
    "last_message_paid_min": "reported",
}


def load() -> list[float]:
    """The machine's load average: the figures are only as quiet as the machine was."""
    return [round(x, 2) for x in os.getloadavg()]


SCENARIOS = ("dispatch", "limits", "crisis", "inbound", "scale", "tick50k", "paid")


async def run_scenario(name: str, kind: str, folder: Path, results: dict, echo) -> dict:
    if name == "dispatch":
        return await scenario_dispatch(kind, folder)
    if name == "limits":
        return await scenario_limits(kind, folder)
    if name == "crisis":
        return await scenario_crisis(kind, folder)
    if name == "inbound":
        return await scenario_inbound(kind, folder, echo)
    if name == "scale":
        return await scenario_scale(kind, folder)
    if name == "tick50k":
        return await tick_50k(kind, folder)
    if name == "paid":
        figures = await scenario_paid(kind, folder)
        if f"tick_50k_s_{kind}" in results and f"limit_utilization_{kind}" in results:
            figures |= morning(results | figures, kind)
        return figures
    raise ValueError(f"no scenario {name!r}; choose from {', '.join(SCENARIOS)}")


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], metavar="scenario",
                        help=f"some of {', '.join(SCENARIOS)} (default: all, and the results "
                             "are written to bench/results.json)")  # fmt: skip
    parser.add_argument("--kind", action="append", choices=KINDS,
                        help="one database only (default: both)")  # fmt: skip
    return parser.parse_args(argv)


async def main(argv: list[str]) -> int:
    options = arguments(argv)
    chosen = options.scenarios or list(SCENARIOS)
    kinds = options.kind or list(KINDS)
    complete = chosen == list(SCENARIOS) and kinds == list(KINDS)
    results: dict = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                     "load_before": load()}  # fmt: skip
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as folder:
        echo = await bare_echo(2000) if "inbound" in chosen else None  # one for both databases
        for kind in kinds:
            for name in chosen:
                print(f"[{kind}] {name} ... ({time.perf_counter() - began:.0f} s so far, "
                      f"load {load()[0]})", file=sys.stderr, flush=True)  # fmt: skip
                results.update(await run_scenario(name, kind, Path(folder), results, echo))
        if complete:
            results["jobqueue_rss_100k_mb"] = round(await jobqueue_rss(), 1)
    results["load_after"] = load()
    results["seconds"] = round(time.perf_counter() - began)
    if complete:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    else:
        print(json.dumps(results, indent=2))
    print(f"\n| key | {' | '.join(kinds)} | goal |\n|---|{'---|' * len(kinds)}---|")
    for key, goal in GOALS.items():
        if any(f"{key}_{kind}" in results for kind in kinds):
            row = " | ".join(str(results.get(f"{key}_{kind}", "")) for kind in kinds)
            print(f"| {key} | {row} | {goal} |")
    for key in ("dispatch_rate", "bare_rate", "bare_rate_aiohttp", "inbound_rate", "echo_rate"):
        if f"{key}_{kinds[0]}" in results:
            print(f"{key} (msg/s): " + ", ".join(f"{results[f'{key}_{kind}']} ({kind})"
                                                   for kind in kinds))  # fmt: skip
    if complete:
        print(f"jobqueue_rss_100k_mb (one PTB JobQueue job per participant, for comparison): "
              f"{results['jobqueue_rss_100k_mb']}")  # fmt: skip
        print(f"written to {RESULTS}")
    print(f"load average (1, 5, 15 min) before {results['load_before']}, after "
          f"{results['load_after']} on {os.cpu_count()} cores; {results['seconds']} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
