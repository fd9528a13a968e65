"""The commands that maintain the database and never run the bot: migrations, the counselor
invite, the meeting feed import and the audit export. Kept apart from bot/runner.py so that
`aftercare db upgrade`, `invite-counselor`, `meetings import` and `audit export` start without
importing python-telegram-bot, the handlers, the dashboard or the status server (about half a
second of CPU for every such command); invite-counselor imports PTB's Bot only to ask Telegram
for the bot's username."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import audit_export
from care.links import deep_link
from config.settings import Settings
from db import audit, invites, state
from db import meetings as meeting_db
from db.engine import create_engine, create_sessionmaker
from db.migrate import current_revision, upgrade
from messages.meeting_guide import FeedError, ParsedFeed, SkippedRow, parse_feed
from scheduler.meetings import follow_program_changes

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """bot.services.utcnow, which this module can't import without PTB's ContextTypes."""
    return datetime.now(UTC)


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


async def bot_username(settings: Settings) -> str | None:
    """Ask Telegram who we are; fall back to what the running bot last saw."""
    token = settings.token()
    if token:
        from telegram import Bot
        from telegram.error import InvalidToken, TelegramError

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
