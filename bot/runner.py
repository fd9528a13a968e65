"""What `aftercare run` runs: the bot itself, with its servers (the other commands are in
bot/commands.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Protocol

from telegram.error import InvalidToken
from telegram.ext import Application

from bot import metrics, startup, status, webhook
from bot.app import build_application, stop_application

# The commands that never run the bot live in bot/commands.py (no PTB to import); these names
# stay importable from here.
from bot.commands import export_audit as export_audit
from bot.commands import import_meetings as import_meetings
from bot.commands import invite_counselor as invite_counselor
from bot.commands import migrate as migrate
from bot.commands import migrate_and_report
from bot.commands import read_feed as read_feed
from bot.dashboard import server as dashboard
from bot.polling import Intake
from care.services import Services
from config.redact import safe_url
from config.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.poller_lock import poller_lock
from db.single_process import AlreadyRunning, hold_lock
from messages.catalog import Catalogs, load_catalogs

log = logging.getLogger(__name__)


def make_services(
    settings: Settings, run_jobs: bool = True, catalogs: Catalogs | None = None
) -> Services:
    """Services for one event loop; the engine connects lazily, on first use."""
    engine = create_engine(settings.database_url)
    catalogs = catalogs or load_catalogs()
    return Services(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        catalog=catalogs.default,
        run_jobs=run_jobs,
        catalogs=catalogs,
    )


def run(settings: Settings) -> int:
    """`aftercare run`: 0 after SIGTERM or SIGINT, 1 when what it needs stayed unreachable
    for STARTUP_RETRY_SECONDS, 2 for what only the operator can fix. Each failure is one line."""
    if not settings.token():
        log.error("TELEGRAM_BOT_TOKEN is not set. Set it (or try `aftercare demo`).")
        return 2
    catalogs = load_catalogs()  # a broken content file (in any language) stops us here
    try:
        hold_lock(settings.database_url)
    except AlreadyRunning as exc:
        log.error("%s", exc)
        return 2
    try:
        asyncio.run(serve(settings, catalogs=catalogs))
    except startup.Fatal as exc:
        log.error("%s", exc)
        return 2
    except startup.GaveUp as exc:
        log.error("%s", exc)
        return 1
    return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


class Server(Protocol):
    async def cleanup(self) -> None: ...


async def start_servers(app: Application, services: Services) -> list[Server]:
    """The HTTP servers beside the bot, each with an async cleanup(). Add one line per server."""
    servers: list[Server] = [await status.start(app, services)]
    if services.settings.dashboard_url:  # the counselors' dashboard, at DASHBOARD_LISTEN
        servers.append(await dashboard.start(services, app.bot))
    return servers


async def serve(
    settings: Settings, stop: asyncio.Event | None = None, catalogs: Catalogs | None = None
) -> None:
    """Reach the database and the Bot API (retrying), then take updates in until `stop`.
    `catalogs`: the content as run() already read it (read here when not given)."""
    stop = stop or _stop_on_signals()
    budget = settings.startup_retry_seconds
    try:
        before, after = await startup.until_ready(
            "the database", lambda: migrate_and_report(settings.database_url), budget=budget,
            problem_of=startup.database_problem(settings.database_url), stop=stop,
        )  # fmt: skip
        if before != after:
            log.info("database upgraded from %s to revision %s", before or "empty", after)
        services = make_services(settings, catalogs=catalogs)
        app = build_application(services)
        try:
            await startup.until_ready(
                "the Bot API", app.initialize, budget=budget,
                problem_of=startup.bot_api_problem(settings.telegram_api_base_url), stop=stop,
            )  # fmt: skip
        except BaseException:
            # PTB's shutdown skips a bot that never initialized: its aiohttp session (opened by
            # the first try) is closed here, or asyncio logs an unclosed connector at exit.
            await app.bot.request.shutdown()
            raise
        # Trained before the first update, so the first message waits for nothing. `aftercare
        # run` started it in the background (bot/cli.py); this waits for it, or trains it now.
        waiting = time.perf_counter()
        model = await asyncio.to_thread(services.catalogs.default.screen.trained_model)
        log.info("free-text screen: model trained on corpus %s (start-up waited %.1f s for it)",
                 model.digest[:12], time.perf_counter() - waiting)  # fmt: skip
    except startup.Stopped:
        return
    assert app.post_init is not None  # build_application sets it
    await app.post_init(app)
    await app.start()
    lock = poller_lock(settings.database_url)
    intake = Intake(app, services, lock, polling=not settings.webhook_url)
    servers: list[Server] = []
    try:
        servers = await start_servers(app, services)
        if settings.webhook_url:
            # Settings refuse WEBHOOK_URL without WEBHOOK_SECRET, so forged calls get 403.
            assert settings.webhook_secret is not None
            servers.append(await webhook.open_webhook(
                app, url=settings.webhook_url, secret=settings.webhook_secret.get_secret_value(),
                listen=settings.webhook_listen, port=settings.webhook_port,
            ))  # fmt: skip
        log.info("aftercare %s started: %s mode, database %s, bot @%s", version(),
                 "webhook" if settings.webhook_url else "polling",
                 safe_url(settings.database_url), app.bot.username)  # fmt: skip
        taking = asyncio.create_task(intake.run(), name="intake")
        stopping = asyncio.create_task(stop.wait(), name="stop")
        await asyncio.wait({taking, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (taking, stopping):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await taking  # a rejected token raises here
    except InvalidToken:
        raise startup.Fatal(
            "TELEGRAM_BOT_TOKEN was rejected by the Bot API: it may have been revoked; "
            "set the new token and start again"
        ) from None
    finally:
        await lock.release()
        metrics.IS_POLLER.set(0)
        for server in reversed(servers):
            await server.cleanup()
        await stop_application(app)


def version() -> str:
    try:
        return package_version("aftercare-bot")
    except PackageNotFoundError:
        return "unknown"
