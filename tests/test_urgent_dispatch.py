"""A crisis alert is sent as soon as its transaction commits, not at the next dispatch interval:
the outbox wakes the dispatcher's urgent lane, which claims only crisis and reply rows."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import select

from db import outbox
from db.models import OutboxMessage
from delivery.dispatcher import Dispatcher
from delivery.priority import Priority
from scheduler.checkins import run_tick
from tests.harness import enroll_participant, participant_row, register_counselor


@contextlib.asynccontextmanager
async def urgent_lane(bot):
    """What `aftercare run` starts beside its interval jobs; no interval dispatch here."""
    dispatcher = Dispatcher(bot.sessionmaker, bot.app.bot, bot.clock, bot.catalog)
    outbox.on_urgent_commit(bot.sessionmaker, dispatcher.wake)
    task = asyncio.create_task(dispatcher.serve_urgent())
    try:
        yield dispatcher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        bot.sessionmaker.configure(info={})


async def test_a_crisis_alert_goes_out_without_waiting_for_the_dispatch_interval(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    async with urgent_lane(bot):
        before = len(dana.messages())
        await sam.say("honestly I just want to end it all tonight")
        [alert] = await bot.tg.wait_for_sent(dana.chat_id, after=before, timeout=5)
    assert "Crisis alert: Sam" in alert["text"]


async def test_a_check_in_broadcast_does_not_wake_the_urgent_lane(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    async with urgent_lane(bot):
        before = len(sam.messages())
        clock.set((await participant_row(bot, sam.user_id)).next_checkin_at)
        result = await run_tick(
            bot.sessionmaker, bot.catalog, clock(), bot.settings.response_window
        )
        assert result.created == 1
        await asyncio.sleep(0.3)
        assert len(sam.messages()) == before  # check-ins wait for the interval dispatch
        async with bot.sessionmaker() as session:
            pending = await session.scalars(
                select(OutboxMessage.priority).where(OutboxMessage.status == "pending")
            )
            assert pending.all() == [Priority.CHECKIN]
