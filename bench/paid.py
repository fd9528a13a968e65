"""Paid broadcasts at scale: 20,000 check-ins with paid broadcasts at 1,000 a second (the local
server letting paid messages through at up to 1,000/s beside the free 30/s), crisis answers
pushed while it runs, and what a 50,000-participant morning takes at the free rate and paid."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import TOKEN, enroll, fresh_database, percentile
from bench.latency import COUNSELOR, CRISIS_TEXT, alert_times, reached_all, rename
from bench.remote import RemoteTelegram
from tests.harness import BotHarness

FREE = 30
PAID = 1000
AFTER = 120  # PAID_BROADCAST_AFTER_SECONDS' default: the last 3,600 of a morning go free
# The scenario's own setting: the last 300 go free (10 s), so it sees every message delivered
# in well under a minute; the paid lane's rate does not depend on it.
BENCH_AFTER = 10


def utcnow() -> datetime:
    return datetime.now(UTC)


async def scenario_paid(kind: str, folder: Path, count: int = 20_000, crises: int = 10) -> dict:
    """`aftercare run`'s lanes through the harness (jobs on): paid messages a second, from the
    first to the last, ÷ 1,000; crisis answers' alert latency meanwhile; and every chat's
    messages once the free tail is out (none lost, none twice). The crises come about 1.3 s
    apart: their alerts all go to one counselor, and Telegram allows one message a second in a
    chat."""
    first = 900_000
    async with RemoteTelegram(TOKEN) as tg:
        await tg.set_rate_limits(global_per_second=FREE, per_chat_per_second=1, retry_after=1,
                                 paid_per_second=PAID)  # fmt: skip
        chats = list(range(first, first + count))
        await tg.users(first, count)
        await tg.user(COUNSELOR, first_name="Dana")
        url, drop = await fresh_database(kind, folder)
        rng = random.Random(20261201)
        try:
            await enroll(url, count, first, utcnow())
            names = await rename(url, rng.sample(chats, crises))
            settings: dict[str, Any]
            settings = dict(rate_global_per_second=FREE, rate_chat_interval_seconds=1,
                            tick_interval_seconds=1, paid_broadcast_per_second=PAID,
                            paid_broadcast_daily_stars=10_000,
                            paid_broadcast_after_seconds=BENCH_AFTER)  # fmt: skip
            async with BotHarness(tg, url, utcnow, run_jobs=True, **settings):
                async def paid() -> int:
                    return (await tg.stats())["paid_broadcasts"]

                await tg.wait_for(paid, timeout=120, message="paid broadcasts")
                surplus = count - FREE * BENCH_AFTER
                loop = asyncio.get_running_loop()
                started = loop.time()
                span = surplus / PAID * 0.8

                async def crisis(chat: int, at: float) -> float:
                    await asyncio.sleep(max(0.0, started + at - loop.time()))
                    return await tg.push(chat, CRISIS_TEXT)

                step = span / crises
                moments = [(chat, 0.2 + i * step + rng.uniform(0, step * 0.1))
                           for i, chat in enumerate(names)]  # fmt: skip
                pushed = await asyncio.gather(*(crisis(c, at) for c, at in moments))
                alerts = await alert_times(tg, [names[chat] for chat, _ in moments])
                # Everyone: the paid part, then the free tail (BENCH_AFTER s at 30 a second).
                await tg.wait_for(lambda: reached_all(tg, first, count),
                                  timeout=surplus / 50 + BENCH_AFTER * 3 + 60, interval=0.5,
                                  message="every check-in")  # fmt: skip
            stamps = sorted(await tg.paid_arrivals())
            counts = await tg.counts(first, count)
            stats = await tg.stats()
        finally:
            if drop:
                await drop()
    crisis_chats = {chat - first for chat in names}  # they also get the crisis reply
    latencies = [alert - at for alert, at in zip(alerts, pushed, strict=True)]
    seconds = stamps[-1] - stamps[0]
    rate = (len(stamps) - 1) / seconds
    return {
        f"paid_utilization_{kind}": round(rate / PAID, 3),
        f"paid_rate_{kind}": round(rate, 1),
        f"paid_messages_{kind}": len(stamps),
        f"free_during_paid_{kind}": count - len(stamps),
        f"paid_retry_after_429s_{kind}": stats["rate_limited"],
        f"paid_lost_{kind}": sum(1 for n in counts if n == 0),
        f"paid_duplicated_{kind}": sum(1 for i, n in enumerate(counts)
                                       if n > 1 and i not in crisis_chats),  # fmt: skip
        f"crisis_alert_p50_paid_s_{kind}": round(percentile(latencies, 0.5), 2),
        f"crisis_alert_p99_paid_s_{kind}": round(percentile(latencies, 0.99), 2),
    }


def morning(results: dict, kind: str, due: int = 50_000) -> dict:
    """From the measured figures: seconds from 09:00 to the last of `due` check-ins at the free
    rate (as utilized in the limits scenario), and with paid broadcasts at the measured paid
    rate (the last AFTER seconds' worth going free, as the policy wants)."""
    tick = results[f"tick_50k_s_{kind}"]
    free_rate = FREE * results[f"limit_utilization_{kind}"]
    paid_rate = results[f"paid_rate_{kind}"]
    free_share = FREE * AFTER
    paid_part = (due - free_share) / (paid_rate + free_rate)
    return {
        f"last_message_free_min_{kind}": round((tick + due / free_rate) / 60, 1),
        f"last_message_paid_min_{kind}": round((tick + paid_part + free_share / free_rate) / 60, 1),
        f"paid_stars_50k_{kind}": round((due - free_share) * 0.1),
    }
