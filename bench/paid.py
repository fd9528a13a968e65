"""Paid broadcasts at scale: 20,000 check-ins with paid broadcasts at 1,000 a second (the local
server letting paid messages through at up to 1,000/s beside the free 30/s), crisis answers
pushed while it runs, and what a 50,000-participant morning takes at the free rate and paid."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import TOKEN, enroll, fresh_database, percentile
from bench.latency import COUNSELOR, CRISIS_TEXT, rename
from tests.harness import BotHarness

FREE = 30
PAID = 1000
AFTER = 120  # PAID_BROADCAST_AFTER_SECONDS' default: the last 3,600 go free


def utcnow() -> datetime:
    return datetime.now(UTC)


async def scenario_paid(fake, kind: str, folder: Path, count: int = 20_000, crises: int = 10):
    """`aftercare run`'s lanes through the harness (jobs on): seconds from the first paid message
    to the last, paid messages a second ÷ 1,000, and crisis answers' alert latency meanwhile.
    The crises come about 1.3 s apart: their alerts all go to one counselor, and Telegram
    allows one message a second in a chat."""
    async with fake.FakeTelegram(token=TOKEN) as tg:
        tg.set_rate_limits(global_per_second=FREE, per_chat_per_second=1, retry_after=1,
                           paid_per_second=PAID)  # fmt: skip
        chats = list(range(900_000, 900_000 + count))
        for chat in chats:
            tg.user(chat, first_name="P")
        tg.user(COUNSELOR, first_name="Dana")
        url, drop = await fresh_database(kind, folder)
        rng = random.Random(20261201)
        try:
            await enroll(url, count, chats[0], utcnow())
            names = await rename(url, rng.sample(chats, crises))
            settings: dict[str, Any]
            settings = dict(rate_global_per_second=FREE, rate_chat_interval_seconds=1,
                            tick_interval_seconds=1, paid_broadcast_per_second=PAID,
                            paid_broadcast_daily_stars=10_000,
                            paid_broadcast_after_seconds=AFTER)  # fmt: skip
            async with BotHarness(tg, url, utcnow, run_jobs=True, **settings):
                paid = lambda: tg.stats["paid_broadcasts"]  # noqa: E731
                await tg.wait_for(lambda: paid() > 0, timeout=120, message="paid broadcasts")
                surplus = count - FREE * AFTER
                loop = asyncio.get_running_loop()
                started = loop.time()
                span = surplus / PAID * 0.8

                async def crisis(chat: int, at: float) -> float:
                    await asyncio.sleep(max(0.0, started + at - loop.time()))
                    pushed = time.monotonic()
                    tg.push_message(chat, CRISIS_TEXT)

                    def alert():
                        return next((m for m in tg.sent(COUNSELOR)
                                     if names[chat] in (m["text"] or "")), None)  # fmt: skip

                    message = await tg.wait_for(alert, timeout=60, message=names[chat])
                    return message["sent_at"] - pushed

                step = span / crises
                moments = [(chat, 0.2 + i * step + rng.uniform(0, step * 0.1))
                           for i, chat in enumerate(names)]  # fmt: skip
                latencies = await asyncio.gather(*(crisis(c, at) for c, at in moments))
                await tg.wait_for(lambda: paid() >= surplus - 200, timeout=600, interval=0.1,
                                  message="the paid part of the broadcast")  # fmt: skip
                await asyncio.sleep(1.0)  # the last paid batch lands
                free_sent = sum(1 for chat in chats if tg.sent_count(chat)) - paid()
            stamps = sorted(params_time for params_time in _paid_arrivals(tg))
        finally:
            if drop:
                await drop()
    seconds = stamps[-1] - stamps[0]
    rate = (len(stamps) - 1) / seconds
    return {
        f"paid_utilization_{kind}": round(rate / PAID, 3),
        f"paid_rate_{kind}": round(rate, 1),
        f"paid_messages_{kind}": len(stamps),
        f"free_during_paid_{kind}": free_sent,
        f"paid_retry_after_429s_{kind}": tg.stats["rate_limited"],
        f"crisis_alert_p50_paid_s_{kind}": round(percentile(latencies, 0.5), 2),
        f"crisis_alert_p99_paid_s_{kind}": round(percentile(latencies, 0.99), 2),
    }


def _paid_arrivals(tg) -> list[float]:
    """When each paid message reached the server (sent_at of messages sent with the flag)."""
    paid_chats = {params["chat_id"] for method, params in tg.requests
                  if method == "sendMessage" and params.get("allow_paid_broadcast")}  # fmt: skip
    return [tg.sent(chat)[0]["sent_at"] for chat in paid_chats if tg.sent(chat)]


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
