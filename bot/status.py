"""The status server (STATUS_LISTEN, default 127.0.0.1:9464), in polling and webhook mode:

- /healthz: the process and its event loop answer (a container's liveness check);
- /readyz: the database answers and the Bot API answered lately (503 with the reason if not);
- /metrics: Prometheus text, prometheus-client's default REGISTRY (bot/metrics.py).

It binds to localhost by default: the figures say how many crises wait, which is nobody's
business outside the host. Put it on another address only behind a firewall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from telegram.error import TelegramError
from telegram.ext import Application

from bot import metrics
from care.services import Services
from db import health

log = logging.getLogger(__name__)

DB_TIMEOUT = 3.0
BOT_API_FRESH = 120.0  # /readyz wants an answer from the Bot API within this many seconds
HEARTBEAT = 30.0  # a worker that isn't polling asks getMe when nothing else reached Telegram


def status_app(services: Services) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        problems = []
        try:
            async with asyncio.timeout(DB_TIMEOUT), services.sessionmaker() as session:
                await health.ping(session)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            problems.append(f"database unreachable ({type(exc).__name__})")
        reached = REGISTRY.get_sample_value("aftercare_telegram_last_reached_timestamp_seconds")
        age = time.time() - (reached or 0)
        if age > BOT_API_FRESH:
            problems.append(f"Bot API not reached for {age:.0f} s" if reached else
                            "Bot API not reached yet")  # fmt: skip
        if problems:
            return web.Response(status=503, text="; ".join(problems) + "\n")
        return web.Response(text="ready\n")

    async def prometheus(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                await metrics.refresh(services.sessionmaker, services.now())
        except Exception as exc:  # noqa: BLE001 - serve the process's own figures anyway
            log.warning("metrics: could not read the database figures (%s)", type(exc).__name__)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    return app


async def heartbeat(app: Application) -> None:
    """Keep "the Bot API was reached lately" true on a worker with nothing to send."""
    while True:
        await asyncio.sleep(HEARTBEAT)
        reached = REGISTRY.get_sample_value("aftercare_telegram_last_reached_timestamp_seconds")
        if time.time() - (reached or 0) > HEARTBEAT:
            with contextlib.suppress(TelegramError):
                await app.bot.get_me()


class StatusServer:
    def __init__(self, runner: web.AppRunner, beat: asyncio.Task) -> None:
        self.runner = runner
        self.beat = beat

    async def cleanup(self) -> None:
        self.beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.beat
        await self.runner.cleanup()


async def start(app: Application, services: Services) -> StatusServer:
    host, port = services.settings.status_address
    runner = web.AppRunner(status_app(services), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        from bot.startup import Fatal

        raise Fatal(
            f"STATUS_LISTEN: can't listen on {host}:{port} ({exc.strerror or exc}): pick a free "
            "port, or another worker on this host needs its own STATUS_LISTEN"
        ) from None
    log.info("status server on http://%s:%s (/healthz, /readyz, /metrics)", host, port)
    return StatusServer(runner, asyncio.create_task(heartbeat(app), name="bot-api-heartbeat"))
