"""Latency scenarios: crisis alerts during a rate-limited broadcast, and answers pushed as fast
as possible against a bare python-telegram-bot echo bot."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.common import TOKEN, enroll, fresh_database, percentile
from bench.remote import RemoteTelegram
from db.engine import create_engine, create_sessionmaker
from db.models import Participant
from tests.harness import BotHarness, Clock

COUNSELOR = 1  # the counselor tests.databases.add_due_participants creates
CRISIS_TEXT = "honestly I just want to end it all tonight"
LIMIT = 30  # messages a second, as Telegram enforces


def utcnow() -> datetime:
    return datetime.now(UTC)


async def rename(url: str, chats: list[int]) -> dict[int, str]:
    """Give the crisis participants names, so each alert can be matched to its answer."""
    names = {chat: f"Crisis {i:02d}" for i, chat in enumerate(chats)}
    engine = create_engine(url)
    async with create_sessionmaker(engine).begin() as session:
        for chat, name in names.items():
            await session.execute(
                update(Participant).where(Participant.chat_id == chat).values(first_name=name)
            )
    await engine.dispose()
    return names


async def scenario_crisis(kind: str, folder: Path, count: int = 2000, crises: int = 20):
    """20 crisis answers at random moments of a 2,000-message broadcast under Telegram's limits:
    seconds from each answer to its counselor alert, against the wait of a FIFO queue (the
    broadcast messages still ahead of it at that moment, at 30 a second)."""
    async with RemoteTelegram(TOKEN) as tg:
        await tg.set_rate_limits(global_per_second=LIMIT, per_chat_per_second=1, retry_after=1)
        first = 400_000
        chats = list(range(first, first + count))
        await tg.users(first, count)
        await tg.user(COUNSELOR, first_name="Dana")
        url, drop = await fresh_database(kind, folder)
        rng = random.Random(20261129)
        try:
            await enroll(url, count, first, utcnow())
            names = await rename(url, rng.sample(chats, crises))
            settings: dict[str, Any]
            settings = dict(rate_global_per_second=LIMIT, rate_chat_interval_seconds=1,
                            send_max_retries=5, tick_interval_seconds=1)  # fmt: skip
            async with BotHarness(tg, url, utcnow, run_jobs=True, **settings):
                delivered = lambda: tg.reached(first, count)  # noqa: E731
                await tg.wait_for(delivered, timeout=30, message="the broadcast to start")
                loop = asyncio.get_running_loop()
                started = loop.time()
                span = count / LIMIT * 0.85

                async def crisis(chat: int, at: float) -> tuple[float, float]:
                    await asyncio.sleep(max(0.0, started + at - loop.time()))
                    fifo_wait = (count - await delivered()) / LIMIT
                    return await tg.push(chat, CRISIS_TEXT), fifo_wait

                moments = [(chat, rng.uniform(1.0, span)) for chat in names]
                pushed = await asyncio.gather(*(crisis(chat, at) for chat, at in moments))
                alerts = await alert_times(tg, [names[chat] for chat, _ in moments])
                await tg.wait_for(lambda: reached_all(tg, first, count), timeout=count / LIMIT * 3,
                                  message="the whole broadcast")  # fmt: skip
        finally:
            if drop:
                await drop()
    latencies = [alert - at for alert, (at, _) in zip(alerts, pushed, strict=True)]
    waits = [wait for _, wait in pushed]
    return {
        f"crisis_alert_p50_s_{kind}": round(percentile(latencies, 0.5), 2),
        f"crisis_alert_p99_s_{kind}": round(percentile(latencies, 0.99), 2),
        f"fifo_wait_s_{kind}": round(percentile(waits, 0.5), 1),
    }


async def reached_all(tg: RemoteTelegram, first: int, count: int) -> bool:
    """Whether every one of the chats has a message from the bot."""
    return await tg.reached(first, count) == count


async def alert_times(tg: RemoteTelegram, names: list[str]) -> list[float]:
    """When the counselor's alert naming each of `names` arrived (the server's clock)."""
    found: dict[str, float] = {}

    async def all_found() -> bool:
        found.update(await tg.find_many(COUNSELOR, [n for n in names if n not in found]))
        return len(found) == len(names)

    await tg.wait_for(all_found, timeout=60, message="every crisis alert", interval=0.2)
    return [found[name] for name in names]


async def push_and_time(tg: RemoteTelegram, first: int, count: int, text: str
                        ) -> tuple[float, float]:  # fmt: skip
    """Push one message from each chat at once; wait for one more reply in each. Returns
    (replies per second, p99 seconds from push to reply)."""
    pushed = await tg.push_many(first, count, text)
    arrivals: list[float | None] = []

    async def answered() -> bool:
        nonlocal arrivals
        arrivals = await tg.arrivals(first, count, pushed["before"])
        return all(at is not None for at in arrivals)

    await tg.wait_for(answered, timeout=count, interval=0.1, message="every reply")
    stamps = [at for at in arrivals if at is not None]
    latencies = [at - push for at, push in zip(stamps, pushed["pushed"], strict=True)]
    return count / (max(stamps) - min(pushed["pushed"])), percentile(latencies, 0.99)


async def _echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:  # filters.TEXT
        await update.message.reply_text(update.message.text)


async def bare_echo(count: int) -> tuple[float, float]:
    """The baseline: a python-telegram-bot echo bot with PTB's defaults."""
    async with RemoteTelegram(TOKEN) as tg:
        await tg.users(500_000, count)
        app = (
            Application.builder()
            .token(TOKEN)
            .base_url(tg.base_url)
            .base_file_url(tg.base_file_url)
            .build()
        )
        app.add_handler(MessageHandler(filters.TEXT, _echo))
        updater = app.updater
        assert updater is not None  # the builder's default
        async with app:
            await app.start()
            await updater.start_polling(poll_interval=0, timeout=1)
            try:
                return await push_and_time(tg, 500_000, count, "7")
            finally:
                await updater.stop()
                await app.stop()


async def scenario_inbound(kind: str, folder: Path, echo: tuple[float, float],
                           count: int = 2000) -> dict:  # fmt: skip
    """2,000 check-in answers (a typed mood, 4 of 5) pushed at once; the bot's rate limiter
    lifted, as the server sets no limit here: answers processed a second ÷ the echo bot's."""
    async with RemoteTelegram(TOKEN) as tg:
        chats = list(range(600_000, 600_000 + count))
        await tg.users(chats[0], count)
        url, drop = await fresh_database(kind, folder)
        try:
            clock = Clock(utcnow())
            await enroll(url, count, chats[0], clock())
            async with BotHarness(tg, url, clock, rate_global_per_second=1_000_000) as bot:
                await bot.tick()  # everyone has the first question
                rate, p99 = await push_and_time(tg, chats[0], count, "4")  # a valid mood (1-5)
        finally:
            if drop:
                await drop()
    return {
        f"inbound_ratio_{kind}": round(rate / echo[0], 2),
        f"inbound_rate_{kind}": round(rate, 1),
        f"reply_p99_s_{kind}": round(p99, 2),
        f"echo_rate_{kind}": round(echo[0], 1),
        f"echo_reply_p99_s_{kind}": round(echo[1], 2),
    }
