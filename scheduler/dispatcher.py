"""The dispatcher: claims outbox rows, most urgent first, and sends them through the bot.

Every outcome is written back to the row: sent, retried later (network trouble, 5xx, 429),
failed for good (400; 403 blocked, which also marks the participant unreachable), or skipped
(a check-in that closed before its message went out is never sent late).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from db import audit, outbox
from db import checkins as checkin_db
from db.models import CheckIn, OutboxMessage, Participant
from messages.catalog import Catalog
from scheduler import alerting

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 50
MAX_BACKOFF_SECONDS = 300


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter, capped; never zero so a failing chat can't spin."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 10))
    return timedelta(seconds=max(1.0, random.uniform(0, ceiling)))


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        bot: Bot,
        clock: Callable[[], datetime],
        catalog: Catalog,
        batch: int = BATCH,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bot = bot
        self._clock = clock
        self._catalog = catalog
        self._batch = batch

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many rows were claimed."""
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            rows = await outbox.claim(session, now, LEASE, self._batch)
            stale = await self._closed_checkins(session, rows, now)
            for row in rows:
                if row.id in stale:
                    row.status = "skipped"
                    row.last_error = "check-in closed before it was sent"
            work = [
                (r.id, r.chat_id, r.method, dict(r.payload), r.checkin_id, r.priority) for r in rows
            ]
            work = [w for w in work if w[0] not in stale]
        await asyncio.gather(*(self._send(*item) for item in work))
        return len(rows)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Send until nothing is due (tests and the demo use this)."""
        total = 0
        for _ in range(max_rounds):
            claimed = await self.run_once()
            total += claimed
            if claimed == 0:
                return total
        return total

    async def _closed_checkins(self, session, rows: list[OutboxMessage], now: datetime) -> set[int]:
        ids = {r.checkin_id for r in rows if r.checkin_id is not None}
        if not ids:
            return set()
        checkins = (await session.scalars(select(CheckIn).where(CheckIn.id.in_(ids)))).all()
        closed = {c.id for c in checkins if c.status not in checkin_db.OPEN or c.expires_at <= now}
        return {r.id for r in rows if r.checkin_id in closed}

    async def _send(
        self,
        row_id: int,
        chat_id: int,
        method: str,
        payload: dict,
        checkin_id: int | None,
        priority: int,
    ) -> None:
        try:
            message_id = await self._call(chat_id, method, payload, priority)
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            await self._retry(row_id, timedelta(seconds=seconds), f"429 retry after {seconds}s")
        except Forbidden as exc:
            await self._unreachable(row_id, str(exc))
        except (BadRequest, InvalidToken) as exc:
            log.error("outbox %s: %s refused by Telegram: %s", row_id, method, exc)
            await self._finish(row_id, status="failed", last_error=f"{method}: {exc}")
        except (TelegramError, OSError) as exc:
            log.warning("outbox %s: %s failed, will retry: %s", row_id, method, exc)
            await self._retry_with_backoff(row_id, f"{type(exc).__name__}: {exc}")
        else:
            await self._sent(row_id, message_id, checkin_id)

    async def _call(self, chat_id: int, method: str, payload: dict, priority: int) -> int | None:
        if method != "sendMessage":
            raise BadRequest(f"outbox method {method} is not supported")
        markup = payload.get("reply_markup")
        message = await self._bot.send_message(
            chat_id=chat_id,
            text=payload["text"],
            parse_mode=payload.get("parse_mode"),
            reply_markup=reply_markup_from(markup, self._bot),
            rate_limit_args=priority,
        )
        return message.message_id

    async def _finish(self, row_id: int, **values) -> None:
        async with self._sessionmaker.begin() as session:
            await outbox.finish(session, row_id, lease_until=None, **values)

    async def _sent(self, row_id: int, message_id: int | None, checkin_id: int | None) -> None:
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            await outbox.finish(
                session,
                row_id,
                status="sent",
                sent_at=now,
                telegram_message_id=message_id,
                lease_until=None,
                last_error=None,
            )
            if checkin_id is not None and message_id is not None:
                checkin = await session.get(CheckIn, checkin_id)
                if checkin is not None and checkin.current_index == 0:
                    checkin_db.set_question_message(checkin, message_id, now)

    async def _retry(self, row_id: int, delay: timedelta, error: str) -> None:
        await self._finish(
            row_id, status="pending", due_at=self._clock() + delay, last_error=error[:2000]
        )

    async def _retry_with_backoff(self, row_id: int, error: str) -> None:
        async with self._sessionmaker() as session:
            attempts = await session.scalar(
                select(OutboxMessage.attempts).where(OutboxMessage.id == row_id)
            )
        await self._retry(row_id, backoff(attempts or 1), error)

    async def _unreachable(self, row_id: int, error: str) -> None:
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            row = await session.get(OutboxMessage, row_id)
            assert row is not None
            row.status, row.last_error, row.lease_until = "failed", f"403: {error}", None
            if row.participant_id is not None:
                participant = await session.get(Participant, row.participant_id)
                if participant is not None and participant.status == "active":
                    await mark_unreachable(session, self._catalog, participant, now)
        log.warning("outbox %s: chat blocked the bot; marked unreachable", row_id)


async def mark_unreachable(session, catalog: Catalog, participant: Participant, now) -> None:
    """They blocked the bot: nothing more can reach them, so a person must know."""
    participant.status = "unreachable"
    subject = f"participant:{participant.id}"
    audit.record(session, now, "bot", "participant_unreachable", subject)
    reasons = [catalog.text("alerts", "unreachable")]
    await alerting.raise_alert(session, catalog, participant, "high", "unreachable", reasons, now)


def reply_markup_from(
    data: dict | None, bot: Bot
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Bot API reply-markup JSON (as stored in the outbox) as PTB objects."""
    if not data:
        return None
    if "keyboard" in data:
        return ReplyKeyboardMarkup.de_json(data, bot)
    return InlineKeyboardMarkup.de_json(data, bot)


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait. Reads the timedelta PTB keeps, without tripping its
    deprecation warning about the attribute's future type."""
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
