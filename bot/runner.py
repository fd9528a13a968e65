"""What the CLI runs: migrations, the bot itself, and the counselor invite."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Bot
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot import audit_export, metrics, startup, status, webhook
from bot.app import build_application, stop_application
from bot.config import Settings
from bot.dashboard import server as dashboard
from bot.links import deep_link
from bot.polling import Intake
from bot.redact import safe_url
from bot.services import Services, utcnow
from db import audit, invites, state
from db import meetings as meeting_db
from db.engine import create_engine, create_sessionmaker
from db.migrate import current_revision, upgrade
from db.poller_lock import poller_lock
from db.single_process import AlreadyRunning, hold_lock
from messages.catalog import Catalogs, load_catalogs
from messages.meeting_guide import FeedError, ParsedFeed, SkippedRow, parse_feed
from scheduler.meetings import follow_program_changes

log = logging.getLogger(__name__)


async def migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def migrate_and_report(database_url: str) -> tuple[str | None, str | None]:
    """Migrate; the revisions before and after (None before: an empty database)."""
    engine = create_engine(database_url)
    try:
        before = await current_revision(engine)
        await upgrade(engine)
        return before, await current_revision(engine)
    finally:
        await engine.dispose()


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


async def bot_username(settings: Settings) -> str | None:
    """Ask Telegram who we are; fall back to what the running bot last saw."""
    token = settings.token()
    if token:
        try:
            async with Bot(
                token, base_url=settings.telegram_api_base_url, base_file_url=settings.base_file_url
            ) as bot:
                return bot.username
        except InvalidToken:
            log.warning("the Bot API rejected TELEGRAM_BOT_TOKEN; using the username last seen")
        except TelegramError as exc:
            log.warning("could not reach the Bot API to learn the bot's username: %s", exc)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await state.get(session, "bot_username")
    finally:
        await engine.dispose()


async def invite_counselor(settings: Settings, name: str, admin: bool) -> str:
    """A single-use counselor deep link; raises RuntimeError when no link can be made."""
    await migrate(settings.database_url)
    username = await bot_username(settings)
    if not username:
        raise RuntimeError(
            "can't build the link: the bot's username is unknown. Set TELEGRAM_BOT_TOKEN "
            "(and TELEGRAM_API_BASE_URL if you use a local Bot API server), or start the "
            "bot once with `aftercare run`."
        )
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            now = utcnow()
            kind = "admin" if admin else "counselor"
            ttl = timedelta(days=settings.counselor_invite_ttl_days)
            token, invite = await invites.create_invite(session, kind, now, ttl, label=name)
            audit.record(session, now, "cli", "counselor_invite_created", f"invite:{invite.id}")
    finally:
        await engine.dispose()
    return deep_link(username, token)


@dataclass(frozen=True)
class ImportReport:
    imported: int
    updated: int
    skipped: tuple[SkippedRow, ...]
    not_offered: int  # temporarily closed in person and not online: kept, not offered
    followed: int  # participants' copies of changed meetings, brought up to date


def read_feed(path: Path, zone: str) -> ParsedFeed:
    """A Meeting Guide feed file, every row read on its own. Only a file that is not a feed at
    all raises (RuntimeError, with a message for the operator)."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuntimeError(f"unknown time zone {zone!r}") from exc
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuntimeError(f"can't read {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RuntimeError(f"{path} is not valid JSON: {exc}") from exc
    try:
        return parse_feed(rows, zone)
    except FeedError as exc:
        raise RuntimeError(f"{path}: {exc}") from exc


async def import_meetings(
    settings: Settings, feed: ParsedFeed, source: str, now: datetime | None = None
) -> ImportReport:
    """Upsert the feed's meetings by slug, in one transaction; skipped rows are reported.
    `now` is for tests; the command uses the real time."""
    await migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            now = now or utcnow()
            counts = await meeting_db.upsert_meetings(session, feed.meetings, now)
            followed = await follow_program_changes(session, counts.changed, now)
            audit.record(session, now, "cli", "meetings_imported", None,
                         {"file": source, "imported": counts.imported,
                          "updated": counts.updated, "skipped": len(feed.skipped)})  # fmt: skip
    finally:
        await engine.dispose()
    not_offered = sum(1 for m in feed.meetings if not m.offered)
    return ImportReport(counts.imported, counts.updated, feed.skipped, not_offered, followed)


async def export_audit(
    settings: Settings, since: datetime, until: datetime | None, out=None
) -> int:
    """The audit log between two instants as CSV on `out` (stdout), oldest first; returns the
    number of rows. The export itself is recorded: reading the log is access to it too."""
    out = out or sys.stdout
    await migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        count, closed = 0, False
        try:
            async with sessionmaker() as session:
                writer = audit_export.start(out)
                async for event in audit.between(session, since, until):
                    writer.writerow(audit_export.fields(event))
                    count += 1
            out.flush()
        except BrokenPipeError:
            closed = True  # `| head` had enough; what it read was read all the same
        async with sessionmaker.begin() as session:
            details = {"since": since.isoformat(), "until": until.isoformat() if until else None,
                       "rows": count}  # fmt: skip
            if closed:
                details["reader_closed"] = True
            audit.record(session, utcnow(), "cli", "audit_exported", None, details)
    finally:
        await engine.dispose()
    if closed:
        raise BrokenPipeError
    return count
