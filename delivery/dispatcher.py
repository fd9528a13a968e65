"""The dispatcher: claims outbox rows, most urgent first, and sends them through the bot.

Every outcome is written back to the row: sent, retried later (network trouble, 5xx, 429),
failed for good (400; 403 blocked, which also marks the participant unreachable), or skipped
(a check-in that closed before its message went out is never sent late).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import ExtBot

from db import audit, awaiting, outbox
from db import checkins as checkin_db
from db import paid as paid_db
from db.models import CheckIn, OutboxMessage, Participant
from delivery.metrics import PAID_MESSAGES, STARS_TODAY
from delivery.paid_policy import (
    PaidPolicy,
    paid_allowance,
    payable,
    stars,
)
from delivery.priority import FIRST_PAYABLE, URGENT_UP_TO
from delivery.retry import backoff, retry_seconds
from messages import render
from messages.catalog import Catalog
from messages.render import NO_PREVIEW
from scheduler import alerting

log = logging.getLogger(__name__)
# do_api_request is PTB's way to send raw parameters; it warns that send_message exists, but
# send_message is the object round trip the dispatcher skips on purpose.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.sendMessage' instead of 'Bot\.do_api_request"
)

LEASE = timedelta(seconds=60)
BATCH = 50
PAID_OFF = PaidPolicy()
PAID_IDLE_SECONDS = 1.0  # how often an idle paid lane looks at the backlog again


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        # An ExtBot: each request takes the rate limiter's priority (rate_limit_args), an int.
        bot: ExtBot[Any],
        clock: Callable[[], datetime],
        catalog: Catalog,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        team_chat_id: int | None = None,
        dashboard_url: str | None = None,
        paid: PaidPolicy = PAID_OFF,
        free_per_second: float = 30.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._dashboard_url = dashboard_url
        self._bot = bot
        self._clock = clock
        self._catalog = catalog
        self._batch = batch
        self._lease = lease
        self._urgent = asyncio.Event()
        self._team_chat_id = team_chat_id
        self._closed = False
        self._stopping = asyncio.Event()
        # Paid broadcasts (delivery/paid_policy.py); off unless configured.
        self._paid = paid
        self._free_per_second = free_per_second
        # Half a second of the paid rate per batch; two lanes overlap one's database work
        # with the other's sends.
        self._paid_batch = max(BATCH, int(paid.per_second / 2))
        self._reported_day: date | None = None

    @property
    def paid_policy(self) -> PaidPolicy:
        return self._paid

    def close(self) -> None:
        """The bot is stopping: claim nothing more (a batch already out still records its
        outcomes), and let serve_urgent and serve_paid end."""
        self._closed = True
        self._urgent.set()
        self._stopping.set()

    def wake(self) -> None:
        """An urgent row was committed: serve_urgent claims it now (same event loop only)."""
        self._urgent.set()

    async def serve_urgent(self) -> None:
        """Runs beside the interval dispatch for the life of the bot: whenever woken, claims
        and sends the crisis and reply rows at once. A broadcast batch already claimed keeps
        going; the rate limiter lets these ahead of it."""
        while not self._closed:
            await self._urgent.wait()
            self._urgent.clear()
            if self._closed:
                return
            try:
                while await self.run_once(max_priority=URGENT_UP_TO):
                    pass
            except Exception:  # the interval dispatch still covers these rows; keep serving
                log.exception("urgent dispatch failed; the next interval will retry")

    async def run_once(self, max_priority: int | None = None) -> int:
        """Claim one batch, send it concurrently (the rate limiter paces it), then record every
        outcome in one transaction; returns how many rows were claimed."""
        if self._closed:
            return 0
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            rows = await outbox.claim(session, now, self._lease, self._batch, max_priority)
            work = await self._prepare(session, rows, now)
        await self._send(work)
        return len(rows)

    async def serve_paid(self) -> None:
        """Runs beside the others while paid broadcasts are on: sends the surplus of a large
        backlog as paid broadcasts (delivery/paid_policy.py decides how many)."""
        while not self._closed:
            try:
                claimed = await self.run_paid_once()
            except Exception:  # the free lanes still send these rows; try again shortly
                log.exception("paid dispatch failed; retrying")
                claimed = 0
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PAID_IDLE_SECONDS):
                        await self._stopping.wait()

    async def run_paid_once(self) -> int:
        """One paid batch: as many check-ins and reminders as the policy allows now, reserved
        against the day's cap before they are claimed; returns how many rows were claimed."""
        if self._closed or not self._paid.enabled:
            return 0
        now = self._clock()
        day = now.astimezone(UTC).date()
        # How many to pay for, read apart from the writes below: on SQLite a transaction that
        # reads first cannot write once another has committed meanwhile. The reservation is
        # conditional, so a stale count never passes the cap.
        async with self._sessionmaker() as session:
            waiting = await outbox.backlog(session, now, FIRST_PAYABLE)
            spent = await paid_db.spent(session, day)
        allowed = paid_allowance(self._paid, waiting, self._free_per_second, spent)
        wanted = min(allowed, self._paid_batch)
        if wanted <= 0:
            return 0
        async with self._sessionmaker.begin() as session:
            granted = await paid_db.reserve(session, day, wanted, self._paid.daily_messages)
            if not granted:
                return 0
            rows = await outbox.claim(session, now, self._lease, granted,
                                      min_priority=FIRST_PAYABLE)  # fmt: skip
            work = await self._prepare(session, rows, now)
            await paid_db.give_back(session, day, granted - len(work))
        await self._send(work, paid_day=day)
        return len(rows)

    async def daily_report(self) -> None:
        """Once a UTC day (the sweep calls this): yesterday's paid broadcasts in the log."""
        today = self._clock().astimezone(UTC).date()
        if self._reported_day == today:
            return
        first, previous, self._reported_day = self._reported_day is None, self._reported_day, today
        async with self._sessionmaker() as session:
            spent_today = await paid_db.spent(session, today)
            spent_before = 0 if previous is None else await paid_db.spent(session, previous)
        STARS_TODAY.set(stars(spent_today))
        if first:
            if self._paid.enabled or spent_today:
                log.info("paid broadcasts today (UTC) so far: %s messages, %s Stars of %s",
                         spent_today, stars(spent_today), self._paid.daily_stars)  # fmt: skip
            return
        log.info("paid broadcasts on %s (UTC): %s messages, %s Stars (cap %s Stars a day)",
                 previous, spent_before, stars(spent_before), self._paid.daily_stars)  # fmt: skip

    async def _prepare(
        self, session: AsyncSession, rows: list[outbox.Claimed], now: datetime
    ) -> list[_Work]:
        """Claimed rows as work to send; a check-in that closed meanwhile is skipped."""
        stale = await self._closed_checkins(session, rows, now)
        await outbox.skip(session, sorted(stale), "check-in closed before it was sent")
        return [_Work(r.id, r.chat_id, r.method, dict(r.payload), r.priority, r.attempts)
                for r in rows if r.id not in stale]  # fmt: skip

    async def _send(self, work: list[_Work], paid_day: date | None = None) -> None:
        # While the batch is out, its claims are renewed: a slow batch (a long 429 wait, a
        # loaded machine) must not let another worker claim and send its rows a second time.
        renewing = asyncio.create_task(self._renew_leases([item.row_id for item in work]))
        paid = paid_day is not None
        try:
            # payable() again at the send: a crisis message or a reply never carries the flag.
            outcomes = await asyncio.gather(
                *(self._attempt(item, paid and payable(item.priority)) for item in work)
            )
        finally:
            renewing.cancel()
        if outcomes:
            await self._record(outcomes, paid_day)

    async def _renew_leases(self, row_ids: list[int]) -> None:
        if not row_ids:
            return
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                async with self._sessionmaker.begin() as session:
                    await outbox.renew_leases(session, row_ids, self._clock() + self._lease)
            except Exception:  # the sends go on; at worst a row is claimed twice, as before
                log.exception("could not renew outbox leases")

    async def drain(self, max_rounds: int = 1000) -> int:
        """Send until nothing is due (tests and the demo use this)."""
        total = 0
        for _ in range(max_rounds):
            claimed = await self.run_once()
            total += claimed
            if claimed == 0:
                return total
        return total

    async def _closed_checkins(
        self, session: AsyncSession, rows: list[outbox.Claimed], now: datetime
    ) -> set[int]:
        ids = {r.checkin_id for r in rows if r.checkin_id is not None}
        if not ids:
            return set()
        checkins = await session.execute(
            select(CheckIn.id, CheckIn.status, CheckIn.expires_at).where(CheckIn.id.in_(ids))
        )
        closed = {c.id for c in checkins if not checkin_db.is_open(c, now)}
        return {r.id for r in rows if r.checkin_id in closed}

    async def _attempt(self, work: _Work, paid: bool = False) -> _Outcome:
        """Send one row; never raises: every failure becomes an outcome to record."""
        try:
            message_id = await self._call(work.chat_id, work.method, work.payload, work.priority,
                                          paid)  # fmt: skip
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            return _Outcome(work.row_id, "retry", delay=timedelta(seconds=seconds),
                            error=f"429 retry after {seconds}s")  # fmt: skip
        except Forbidden as exc:
            log.warning("outbox %s: chat blocked the bot; marking unreachable", work.row_id)
            return _Outcome(work.row_id, "blocked", error=f"403: {exc}")
        except (BadRequest, InvalidToken) as exc:
            log.error("outbox %s: %s refused by Telegram: %s", work.row_id, work.method, exc)
            return _Outcome(work.row_id, "failed", error=f"{work.method}: {exc}")
        except (TelegramError, OSError) as exc:
            log.warning("outbox %s: %s failed, will retry: %s", work.row_id, work.method, exc)
            return _Outcome(work.row_id, "retry", delay=backoff(work.attempts),
                            error=f"{type(exc).__name__}: {exc}")  # fmt: skip
        return _Outcome(work.row_id, "sent", message_id=message_id)

    async def _call(
        self, chat_id: int, method: str, payload: dict, priority: int, paid: bool = False
    ) -> int | None:
        """Send the stored Bot API parameters as they are, through the bot's request layer and
        its rate limiter: no PTB objects built on the way in or out (the reply markup goes as
        the JSON it was stored as; the answer comes back as a dict)."""
        if method != "sendMessage":
            raise BadRequest(f"outbox method {method} is not supported")
        parameters = {"chat_id": chat_id, **payload}
        # An alert carries its place in the dashboard; the link is made here, when it is sent,
        # so it follows DASHBOARD_URL (and is left out while the dashboard is off).
        path = parameters.pop("dashboard_path", None)
        if self._dashboard_url and path:
            url = self._dashboard_url + path
            parameters["text"] = render.with_dashboard_link(self._catalog, parameters["text"], url)
            parameters["link_preview_options"] = NO_PREVIEW
        for field in ("reply_markup", "link_preview_options"):  # JSON objects, as Telegram reads
            if field in parameters:
                parameters[field] = json.dumps(parameters[field])
        if paid:
            parameters["allow_paid_broadcast"] = True
        message = await self._bot.do_api_request(
            method, api_kwargs=parameters, rate_limit_args=priority
        )
        return message["message_id"]

    async def _record(self, outcomes: list[_Outcome], paid_day: date | None = None) -> None:
        """Every outcome of a batch in one transaction, in a few statements. A paid batch gives
        back the reservations of what it did not send."""
        now = self._clock()
        changes, blocked = [], []
        for outcome in outcomes:
            change: dict[str, Any] = {"id": outcome.row_id, "lease_until": None,
                      "last_error": outcome.error[:2000] if outcome.error else None}  # fmt: skip
            if outcome.kind == "sent":
                change |= {"status": "sent", "sent_at": now,
                           "telegram_message_id": outcome.message_id}  # fmt: skip
            elif outcome.kind == "retry":
                change |= {"status": "pending", "due_at": now + outcome.delay}
            else:
                change["status"] = "failed"
                if outcome.kind == "blocked":
                    blocked.append(outcome.row_id)
            changes.append(change)
        async with self._sessionmaker.begin() as session:
            await outbox.record(session, changes)
            sent = {o.row_id: o.message_id for o in outcomes if o.kind == "sent"}
            if paid_day is not None:
                await paid_db.give_back(session, paid_day, len(outcomes) - len(sent))
                PAID_MESSAGES.inc(len(sent))
                STARS_TODAY.set(stars(await paid_db.spent(session, paid_day)))
            if sent:
                await self._asked(session, sent, now)
            for row_id in blocked:
                row = await session.get(OutboxMessage, row_id)
                participant = (
                    await session.get(Participant, row.participant_id)
                    if row.participant_id is not None
                    else None
                )
                if participant is not None and participant.status == "active":
                    await mark_unreachable(session, self._catalog, participant, now,
                                           self._team_chat_id)  # fmt: skip


    @staticmethod
    async def _asked(session, sent: dict[int, int | None], now: datetime) -> None:
        """Questions that have just arrived: a check-in's first question remembers its message,
        and each one is now what its person's next typed message answers."""
        rows = await session.execute(
            select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.checkin_id,
                   OutboxMessage.asks, OutboxMessage.asks_ref)
            .where(OutboxMessage.id.in_(list(sent)))
            .where(or_(OutboxMessage.checkin_id.is_not(None), OutboxMessage.asks.is_not(None)))
        )  # fmt: skip
        first_questions: list[tuple[int, int]] = []
        asked = {}
        for row_id, chat_id, checkin_id, asks, asks_ref in rows:
            if checkin_id is not None:
                if (message_id := sent[row_id]) is not None:  # a sent message always has one
                    first_questions.append((checkin_id, message_id))
                asks, asks_ref = awaiting.CHECKIN, checkin_id
            # Private chats: the chat is the person. One row per person (the last one sent).
            asked[chat_id] = dict(telegram_user_id=chat_id, kind=asks, ref_id=asks_ref,
                                  step=None, asked_at=now)  # fmt: skip
        await checkin_db.note_first_questions(session, first_questions, now)
        await awaiting.ask_many(session, list(asked.values()))


@dataclass(frozen=True)
class _Work:
    row_id: int
    chat_id: int
    method: str
    payload: dict
    priority: int
    attempts: int


@dataclass(frozen=True)
class _Outcome:
    row_id: int
    kind: str  # sent | retry | failed | blocked
    message_id: int | None = None
    delay: timedelta = timedelta(0)
    error: str | None = None


async def mark_unreachable(
    session, catalog: Catalog, participant: Participant, now, team_chat_id: int | None = None
) -> None:
    """They blocked the bot: nothing more can reach them, so a person must know."""
    participant.status = "unreachable"
    subject = f"participant:{participant.id}"
    audit.record(session, now, "bot", "participant_unreachable", subject)
    reasons = [catalog.text("alerts", "unreachable")]
    await alerting.raise_alert(session, catalog, participant, "high", "unreachable", reasons, now,
                               team_chat_id=team_chat_id)  # fmt: skip
