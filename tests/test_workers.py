"""Several `aftercare run` workers on one PostgreSQL database share the outbox: every row is
sent exactly once, and a worker's unfinished claims go back when its lease runs out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from telegram.ext import ExtBot

from db.engine import create_engine, create_sessionmaker
from db.models import OutboxMessage
from delivery.dispatcher import Dispatcher
from delivery.rate_limit import PriorityRateLimiter
from messages.catalog import load_catalog

ROWS = 1000
NOW = datetime(2026, 1, 5, 14, tzinfo=UTC)


async def worker(tg, url: str) -> tuple[Dispatcher, ExtBot, object]:
    engine = create_engine(url)
    limiter = PriorityRateLimiter(per_second=100_000, chat_interval=0)
    bot = ExtBot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
                 rate_limiter=limiter)  # fmt: skip
    await bot.initialize()
    return Dispatcher(create_sessionmaker(engine), bot, lambda: NOW, load_catalog()), bot, engine


async def test_two_workers_send_every_row_exactly_once(tg, pg_url):
    postgres_url = pg_url
    chats = list(range(10_000, 10_000 + ROWS))
    for chat in chats:
        tg.user(chat, first_name="P")
    engine = create_engine(postgres_url)
    async with create_sessionmaker(engine).begin() as session:
        session.add_all(
            OutboxMessage(
                dedupe_key=f"bench:{chat}", chat_id=chat, method="sendMessage",
                payload={"text": f"hello {chat}"}, priority=2, status="pending", attempts=0,
                due_at=NOW, created_at=NOW,
            )
            for chat in chats
        )  # fmt: skip
    one, two = await worker(tg, postgres_url), await worker(tg, postgres_url)
    try:
        claimed = await asyncio.gather(one[0].drain(), two[0].drain())
    finally:
        for _, bot, worker_engine in (one, two):
            await bot.shutdown()
            await worker_engine.dispose()
    assert sum(claimed) == ROWS and min(claimed) > 0  # both workers took a share
    assert [len(tg.sent(chat)) for chat in chats] == [1] * ROWS
    async with create_sessionmaker(engine)() as session:
        sent = await session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
    await engine.dispose()
    assert sent == ROWS


async def test_a_slow_batch_keeps_its_claim(tg, db_url):
    """A batch whose sends outlast the lease renews it, so another worker does not take and
    send the same rows again."""
    chats = list(range(20_000, 20_010))
    for chat in chats:
        tg.user(chat, first_name="P")
    now = datetime.now(UTC)
    engine = create_engine(db_url)
    async with create_sessionmaker(engine).begin() as session:
        session.add_all(
            OutboxMessage(
                dedupe_key=f"slow:{chat}", chat_id=chat, method="sendMessage",
                payload={"text": "hello"}, priority=2, status="pending", attempts=0,
                due_at=now, created_at=now,
            )
            for chat in chats
        )  # fmt: skip
    await engine.dispose()
    tg.delay_next("sendMessage", 2.0, count=len(chats))  # each answer comes 2 s late

    def clock() -> datetime:
        return datetime.now(UTC)

    workers = []
    for _ in range(2):
        limiter = PriorityRateLimiter(per_second=100_000, chat_interval=0)
        bot = ExtBot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
                     rate_limiter=limiter)  # fmt: skip
        await bot.initialize()
        worker_engine = create_engine(db_url)
        lease = timedelta(seconds=0.6)
        dispatcher = Dispatcher(create_sessionmaker(worker_engine), bot, clock, load_catalog(),
                                lease=lease)  # fmt: skip
        workers.append((dispatcher, bot, worker_engine))
    try:
        slow = asyncio.create_task(workers[0][0].run_once())
        await asyncio.sleep(1.2)  # two leases' worth into the slow batch
        assert await workers[1][0].run_once() == 0  # nothing to take: the claim was renewed
        assert await slow == len(chats)
    finally:
        for _, bot, worker_engine in workers:
            await bot.shutdown()
            await worker_engine.dispose()
    assert [len(tg.sent(chat)) for chat in chats] == [1] * len(chats)


async def test_dispatchers_in_one_process_never_share_a_row(tg, db_url):
    """The tick's, the interval's and the urgent lane's dispatchers run side by side in one
    process; on SQLite their SELECTs take no lock, so the claim itself must decide."""
    chats = list(range(30_000, 30_200))
    for chat in chats:
        tg.user(chat, first_name="P")
    engine = create_engine(db_url)
    async with create_sessionmaker(engine).begin() as session:
        session.add_all(
            OutboxMessage(
                dedupe_key=f"race:{chat}", chat_id=chat, method="sendMessage",
                payload={"text": "hello"}, priority=2, status="pending", attempts=0,
                due_at=NOW, created_at=NOW,
            )
            for chat in chats
        )  # fmt: skip
    limiter = PriorityRateLimiter(per_second=100_000, chat_interval=0)
    bot = ExtBot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
                 rate_limiter=limiter)  # fmt: skip
    await bot.initialize()
    dispatcher = Dispatcher(create_sessionmaker(engine), bot, lambda: NOW, load_catalog(), batch=20)
    try:
        await asyncio.gather(*(dispatcher.drain() for _ in range(4)))
    finally:
        await bot.shutdown()
        await engine.dispose()
    assert [len(tg.sent(chat)) for chat in chats] == [1] * len(chats)
