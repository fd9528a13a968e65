"""What the CLI runs: migrations, the bot itself, and the counselor invite."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Bot, Update
from telegram.error import TelegramError

from bot import audit_export, webhook
from bot.app import build_application
from bot.config import Settings
from bot.links import deep_link
from bot.logs import configure_logging
from bot.services import Services, utcnow
from db import audit, invites, state
from db import meetings as meeting_db
from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade
from db.single_process import AlreadyRunning, hold_lock
from messages.catalog import load_catalogs
from messages.meeting_guide import FeedError, ParsedFeed, SkippedRow, parse_feed
from scheduler.meetings import follow_program_changes

log = logging.getLogger(__name__)


async def migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def make_services(settings: Settings, run_jobs: bool = True) -> Services:
    """Services for one event loop; the engine connects lazily, on first use."""
    engine = create_engine(settings.database_url)
    catalogs = load_catalogs()
    return Services(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        catalog=catalogs.default,
        run_jobs=run_jobs,
        catalogs=catalogs,
    )


def run(settings: Settings) -> int:
    configure_logging(settings.log_level, settings.token())
    if not settings.token():
        log.error("TELEGRAM_BOT_TOKEN is not set. Set it (or try `aftercare demo`).")
        return 2
    catalogs = load_catalogs()  # a broken content file (in any language) stops us here
    try:
        hold_lock(settings.database_url)
    except AlreadyRunning as exc:
        log.error("%s", exc)
        return 2
    asyncio.run(migrate(settings.database_url))
    model = catalogs.default.screen.model()  # trained now: the first message waits for nothing
    log.info("free-text screen: model trained on corpus %s", model.digest[:12])
    app = build_application(make_services(settings))
    if settings.webhook_url:
        # Settings refuse WEBHOOK_URL without WEBHOOK_SECRET, so forged calls get 403.
        assert settings.webhook_secret is not None
        webhook.run(
            app,
            url=settings.webhook_url,
            secret=settings.webhook_secret.get_secret_value(),
            listen=settings.webhook_listen,
            port=settings.webhook_port,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


async def bot_username(settings: Settings) -> str | None:
    """Ask Telegram who we are; fall back to what the running bot last saw."""
    token = settings.token()
    if token:
        try:
            async with Bot(
                token, base_url=settings.telegram_api_base_url, base_file_url=settings.base_file_url
            ) as bot:
                return bot.username
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
        async with sessionmaker() as session:
            writer = audit_export.start(out)
            count = 0
            async for event in audit.between(session, since, until):
                writer.writerow(audit_export.fields(event))
                count += 1
        out.flush()
        async with sessionmaker.begin() as session:
            details = {"since": since.isoformat(), "until": until.isoformat() if until else None,
                       "rows": count}  # fmt: skip
            audit.record(session, utcnow(), "cli", "audit_exported", None, details)
    finally:
        await engine.dispose()
    return count
