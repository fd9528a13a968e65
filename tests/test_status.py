"""The status server over real HTTP: /healthz, /readyz, and /metrics parsed with
prometheus-client's own parser, its figures following a crisis alert through the outbox."""

from __future__ import annotations

import aiohttp

from bot import status
from tests.cli import free_port, metric
from tests.harness import enroll_participant, register_counselor


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text()


async def test_health_readiness_and_metrics_follow_a_crisis_through_the_outbox(tg, db_url, clock):
    from tests.harness import BotHarness

    port = free_port()
    async with BotHarness(tg, db_url, clock, status_listen=f"127.0.0.1:{port}") as bot:
        server = await status.start(bot.app, bot.services)
        try:
            assert await get(port, "/healthz") == (200, "ok\n")
            assert await get(port, "/readyz") == (200, "ready\n")  # getMe and getUpdates answered
            # The process's counters are shared by every test in this process: count the change.
            sends = {"method": "sendMessage", "outcome": "ok"}
            handled = await metric(port, "aftercare_updates_handled_total")
            sent = await metric(port, "aftercare_telegram_requests_total", sends) or 0
            dana = await register_counselor(bot)
            sam = await enroll_participant(bot, dana)
            assert await metric(port, "aftercare_is_poller") == 1
            now_handled = await metric(port, "aftercare_updates_handled_total")
            assert now_handled - handled == 7  # each /start, tap and answer of the enrollment
            assert await metric(port, "aftercare_update_handling_seconds_count") == now_handled
            assert await metric(port, "aftercare_telegram_requests_total", sends) - sent >= 7

            await sam.say("/sos")  # resources at once; the counselor's alert goes by the outbox
            crisis = {"priority": "crisis"}
            assert await metric(port, "aftercare_outbox_pending", crisis) >= 1
            assert await metric(port, "aftercare_alerts_unacknowledged", {"level": "crisis"}) == 1
            clock.advance(seconds=90)
            assert await metric(port, "aftercare_oldest_pending_crisis_seconds") >= 90  # > 60: page

            await bot.dispatch()  # sent
            assert await metric(port, "aftercare_outbox_pending", crisis) == 0
            assert await metric(port, "aftercare_oldest_pending_crisis_seconds") == 0
            age = await metric(port, "aftercare_oldest_unacknowledged_alert_seconds",
                               {"level": "crisis"})  # fmt: skip
            assert age >= 90

            await dana.press("Acknowledge")
            assert await metric(port, "aftercare_alerts_unacknowledged", {"level": "crisis"}) == 0
            assert await metric(port, "aftercare_checkins_total", {"outcome": "started"}) == 0
        finally:
            await server.cleanup()


async def test_readyz_says_what_is_wrong(tg, db_url, clock):
    from tests.harness import BotHarness

    port = free_port()
    async with BotHarness(tg, db_url, clock, status_listen=f"127.0.0.1:{port}") as bot:
        server = await status.start(bot.app, bot.services)
        try:
            await bot.services.engine.dispose()
            bot.services.sessionmaker.configure(bind=_broken_engine())
            code, text = await get(port, "/readyz")
            assert code == 503 and "database unreachable" in text
        finally:
            bot.services.sessionmaker.configure(bind=bot.services.engine)
            await server.cleanup()


def _broken_engine():
    from db.engine import create_engine

    return create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none")
