"""Updates from different chats are handled side by side; one chat's updates stay in order.

PTB handles one update at a time by default, so a reply paced by Telegram's per-chat limit (a
crisis reply is several messages, a second apart) would hold up every other person's update,
a crisis answer included. Handling chats concurrently removes that wait; keeping each chat
in order keeps a conversation's answers in the order they were given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import metrics


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[Any, asyncio.Lock] = {}
        self._waiting: dict[Any, int] = {}
        # Update ids taken and not yet finished here, waiting for a turn included: the poller
        # replays a stale stored update only when this process is not already on it.
        self.in_flight: set[int] = set()

    # PTB marks process_update final and offers no hook before its semaphore; we wrap it (super
    # still takes the semaphore) so that an update waiting for a slot already counts as in
    # flight: otherwise the poller would replay a burst that queued there for REPLAY_AFTER.
    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:  # type: ignore[misc]
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is not None:
            self.in_flight.add(update_id)
        started = time.monotonic()
        try:
            await super().process_update(update, coroutine)
        finally:
            if update_id is not None:
                self.in_flight.discard(update_id)
                metrics.UPDATES_HANDLED.inc()
                metrics.UPDATE_HANDLING.observe(time.monotonic() - started)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock wakes waiters first come, first served
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else queued for this chat: forget it
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _chat_key(update: object) -> Any:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None
