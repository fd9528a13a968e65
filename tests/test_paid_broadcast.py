"""Paid broadcasts end to end: the real dispatcher and rate limiter against the local Bot API
server, which lets paid messages past the free limit at up to 1,000 a second, on both
databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from sqlalchemy import func, select
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from db import paid as paid_db
from db.engine import create_engine, create_sessionmaker
from db.models import OutboxMessage
from delivery.dispatcher import Dispatcher
from delivery.paid_policy import PaidPolicy
from delivery.priority import Priority
from delivery.rate_limit import PriorityRateLimiter
from messages.catalog import load_catalog

NOW = datetime(2026, 1, 5, 14, tzinfo=UTC)
FREE = 30


async def queue(url: str, chats: list[int], priority: int, prefix: str) -> None:
    engine = create_engine(url)
    async with create_sessionmaker(engine).begin() as session:
        session.add_all(
            OutboxMessage(
                dedupe_key=f"{prefix}:{chat}", chat_id=chat, method="sendMessage",
                payload={"text": f"hello {chat}"}, priority=priority, status="pending",
                attempts=0, due_at=NOW, created_at=NOW,
            )
            for chat in chats
        )  # fmt: skip
    await engine.dispose()


async def deliver(tg, url: str, policy: PaidPolicy) -> Dispatcher:
    """The free lane and the paid one side by side until the outbox is empty."""
    engine = create_engine(url)
    limiter = PriorityRateLimiter(per_second=FREE, chat_interval=1.0,
                                  paid_per_second=policy.per_second)  # fmt: skip
    bot = ExtBot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
                 rate_limiter=limiter)  # fmt: skip
    await bot.initialize()
    sessionmaker = create_sessionmaker(engine)
    dispatcher = Dispatcher(sessionmaker, bot, lambda: NOW, load_catalog(), paid=policy,
                            free_per_second=FREE)  # fmt: skip
    paid_lane = asyncio.create_task(dispatcher.serve_paid())
    try:
        for _ in range(600):  # the paid lane may still have a batch out when drain is done
            await dispatcher.drain()
            async with sessionmaker() as session:
                left = await session.scalar(
                    select(func.count()).where(OutboxMessage.status != "sent")
                )
            if not left:
                break
            await asyncio.sleep(0.1)
        assert left == 0
    finally:
        dispatcher.close()
        await paid_lane
        await bot.shutdown()
        await engine.dispose()
    return dispatcher


async def spent(url: str) -> int:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        count = await paid_db.spent(session, NOW.date())
    await engine.dispose()
    return count


def chats(tg, count: int, start: int) -> list[int]:
    for chat in range(start, start + count):
        tg.user(chat, first_name="P")
    return list(range(start, start + count))


def paid_flags(tg, chat_list: list[int]) -> list[bool]:
    sent = {params["chat_id"]: bool(params.get("allow_paid_broadcast"))
            for method, params in tg.requests if method == "sendMessage"}  # fmt: skip
    return [sent[chat] for chat in chat_list]


async def test_the_surplus_goes_paid_and_crisis_never_does(tg, db_url):
    tg.set_rate_limits(global_per_second=FREE, per_chat_per_second=1, paid_per_second=1000)
    broadcast = chats(tg, 400, 20_000)
    crisis = chats(tg, 5, 30_000)
    await queue(db_url, broadcast, Priority.CHECKIN, "checkin")
    await queue(db_url, crisis, Priority.CRISIS, "crisis")
    # 2 s at the free rate is 60 messages: the rest of the 400 may go paid.
    policy = PaidPolicy(per_second=1000, daily_stars=1000, after_seconds=2)
    await deliver(tg, db_url, policy)
    assert tg.stats["rate_limited"] == 0
    assert [len(tg.sent(chat)) for chat in broadcast + crisis] == [1] * 405
    assert not any(paid_flags(tg, crisis))
    paid = sum(paid_flags(tg, broadcast))
    assert 300 <= paid <= 400 - 60
    assert tg.stats["paid_broadcasts"] == paid == await spent(db_url)


async def test_the_local_server_lets_paid_messages_past_the_free_limit(tg):
    """As Telegram does: 1,000 paid a second beside 30 free; the per-chat limit holds for both."""
    tg.set_rate_limits(global_per_second=FREE, per_chat_per_second=1, paid_per_second=1000)
    # All of them within one second, as on an idle machine: on a loaded one the 31 free sends
    # can take over a second to arrive, and the first would leave the window before the 31st.
    tg.rate_clock = lambda: 1000.0
    targets = chats(tg, 2 * FREE + 2, 60_000)
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as bot:

        async def send(chat: int, paid: bool) -> bool:
            try:
                await bot.send_message(chat, "hi", allow_paid_broadcast=paid or None)
            except RetryAfter:
                return False
            return True

        free = await asyncio.gather(*(send(c, False) for c in targets[: FREE + 1]))
        paid = await asyncio.gather(*(send(c, True) for c in targets[FREE + 1 :]))
        again = await send(targets[-1], True)  # the same chat within a second
    assert sum(free) == FREE  # the 31st free one in a second is refused
    assert all(paid) and not again
    assert tg.stats["paid_broadcasts"] == FREE + 1


async def test_the_daily_cap_is_never_passed(tg, db_url):
    tg.set_rate_limits(global_per_second=FREE, per_chat_per_second=1, paid_per_second=1000)
    broadcast = chats(tg, 200, 40_000)
    await queue(db_url, broadcast, Priority.REMINDER, "reminder")
    policy = PaidPolicy(per_second=1000, daily_stars=5, after_seconds=1)  # 50 messages a day
    counted = REGISTRY.get_sample_value("aftercare_paid_messages_total") or 0
    await deliver(tg, db_url, policy)
    assert [len(tg.sent(chat)) for chat in broadcast] == [1] * 200
    assert sum(paid_flags(tg, broadcast)) == 50 == await spent(db_url)
    assert REGISTRY.get_sample_value("aftercare_paid_messages_total") - counted == 50
    assert REGISTRY.get_sample_value("aftercare_paid_stars_today") == 5.0


async def test_off_by_default_nothing_is_paid(tg, db_url):
    tg.set_rate_limits(global_per_second=FREE, per_chat_per_second=1)
    broadcast = chats(tg, 60, 50_000)
    await queue(db_url, broadcast, Priority.CHECKIN, "checkin")
    await deliver(tg, db_url, PaidPolicy())
    assert not any(paid_flags(tg, broadcast)) and await spent(db_url) == 0
