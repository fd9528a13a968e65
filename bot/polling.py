"""Taking updates in: our own long-polling loop, and the replay of stored updates no one
finished.

PTB's Updater confirms an offset to Telegram as soon as it has fetched the updates, before
anything is stored; if the database is down then, the update is gone. Here an update is stored
first, and only then is the next getUpdates sent with the offset that confirms it. While the
database can't be reached, nothing is confirmed: the updates wait at Telegram (for a day).

Telegram allows one getUpdates caller per bot. Every worker runs an Intake; the one holding
the poller lock (db/poller_lock.py) polls, replays, and reports aftercare_is_poller 1. The
others retry the lock every few seconds, so one takes over soon after the poller dies. In
webhook mode every worker receives updates, and the lock holder only replays stale ones.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot import metrics
from bot.gate import is_ours
from care.services import Services
from db import inbound
from db.poller_lock import LOST, PollerLock

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds a getUpdates waits at Telegram for news
LOCK_RETRY = 3.0  # how often a waiting worker tries the lock: takeover well within 15 s
REPLAY_EVERY = 5.0
REPLAY_AFTER = timedelta(seconds=30)  # a stored update unfinished this long is replayed
MAX_BACKOFF = 15.0


class Intake:
    def __init__(
        self,
        app: Application,
        services: Services,
        lock: PollerLock,
        *,
        polling: bool = True,
        poll_timeout: int = POLL_TIMEOUT,
        lock_retry: float = LOCK_RETRY,
        replay_every: float | None = REPLAY_EVERY,
    ) -> None:
        self.app = app
        self.services = services
        self.lock = lock
        self.polling = polling
        self.poll_timeout = poll_timeout
        self.lock_retry = lock_retry
        self.replay_every = replay_every
        self.offset: int | None = None
        self.is_poller = False
        self.ready = asyncio.Event()  # set once this worker has been the poller (tests wait)
        self._replayed_at = 0.0
        self._failures = 0

    # --- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                if not self.is_poller:
                    if not await self.lock.acquire():
                        await asyncio.sleep(self.lock_retry)
                        continue
                    await self._take_over()
                elif not await self.lock.alive():
                    log.warning("lost the poller lock with the database connection; "
                                "another worker may poll now")  # fmt: skip
                    self._step_down()
                    continue
                if self.polling:
                    await self._poll_once()
                else:
                    await asyncio.sleep(self.replay_every or self.lock_retry)
                if self.replay_every is not None and (
                    loop.time() - self._replayed_at >= self.replay_every
                ):
                    self._replayed_at = loop.time()
                    await self.replay(stale_only=True)
                self._failures = 0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                self._step_down()
                raise
            except Conflict:
                # Another process polls this bot (outside this database's workers, or the one
                # before us is not quite gone). One line, then try again.
                await self._back_off("Telegram answered 409 Conflict: another process is "
                                     "polling this bot")  # fmt: skip
            except (NetworkError, TelegramError) as exc:
                await self._back_off(f"the Bot API can't be reached ({exc})")
            except (*LOST, SQLAlchemyError) as exc:
                await self._back_off(f"the database can't be reached ({type(exc).__name__}); "
                                     "updates stay unconfirmed at Telegram")  # fmt: skip

    async def _back_off(self, problem: str) -> None:
        self._failures += 1
        delay = min(MAX_BACKOFF, 2.0 ** min(self._failures - 1, 5))
        log.warning("%s; retrying in %.0f s", problem, delay)
        await asyncio.sleep(delay)

    def _step_down(self) -> None:
        self.is_poller = False
        metrics.IS_POLLER.set(0)

    async def _take_over(self) -> None:
        self.is_poller = True
        metrics.IS_POLLER.set(1)
        self.offset = None  # Telegram still holds whatever the last poller did not confirm
        if self.polling:
            log.info("this worker is the poller now")
            await self._delete_stale_webhook()
            await self.replay(stale_only=False)
        else:
            await self.replay(stale_only=True)
        self.ready.set()

    async def _delete_stale_webhook(self) -> None:
        """A webhook left by a webhook-mode run makes every getUpdates fail with 409."""
        info = await self.app.bot.get_webhook_info()
        if info.url:
            await self.app.bot.delete_webhook(drop_pending_updates=False)
            log.warning("deleted the webhook left registered at %s; this worker polls "
                        "(set WEBHOOK_URL to run on the webhook instead)",
                        urlsplit(info.url).hostname)  # fmt: skip

    async def _poll_once(self) -> None:
        updates = await self.app.bot.get_updates(
            offset=self.offset, timeout=self.poll_timeout, allowed_updates=Update.ALL_TYPES,
            read_timeout=self.poll_timeout + 10,
        )  # fmt: skip
        if not updates:
            return
        fresh = await self._store(updates)
        # Only now may the next getUpdates confirm them: they are stored.
        self.offset = updates[-1].update_id + 1
        for update in fresh:
            await self.app.update_queue.put(update)

    async def _store(self, updates: list[Update]) -> list[Update]:
        """Store every update in one transaction; those stored by this call are returned."""
        now = self.services.now()
        fresh = []
        async with self.services.sessionmaker.begin() as session:
            for update in updates:
                if not is_ours(update):
                    fresh.append(update)  # a group's or a channel's: not stored; the gate drops it
                elif await inbound.store_new(session, update.update_id, update.to_dict(), now):
                    fresh.append(update)
        return fresh

    # --- replay -------------------------------------------------------------------------------

    async def replay(self, *, stale_only: bool) -> int:
        """Handle stored updates no one finished: at takeover all of them (in polling mode,
        only the poller handles updates, and the one before is gone), later those unfinished
        for REPLAY_AFTER that this process is not working on."""
        async with self.services.sessionmaker() as session:
            if stale_only:
                payloads = await inbound.stale(session, self.services.now() - REPLAY_AFTER)
            else:
                payloads = await inbound.unprocessed(session)
        busy: set[int] = getattr(self.app.update_processor, "in_flight", set())
        count = 0
        for payload in payloads:
            if payload.get("update_id") in busy:
                continue
            log.info("replaying stored update %s", payload.get("update_id"))
            update = Update.de_json(payload, self.app.bot)
            if stale_only:
                await self.app.update_queue.put(update)  # in turn with its chat's others
            else:
                await self.app.process_update(update)  # before anything new is polled
            count += 1
        return count
