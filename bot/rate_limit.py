"""One rate limiter under every Bot API call (PTB's BaseRateLimiter), keeping to Telegram's
limits and serving the most urgent requests first.

- A global budget (default 30 sends a second), paced evenly and checked against a sliding
  window a little over a second long.
- Per-chat spacing for new messages (default 1 s; 3 s for groups, i.e. 20 a minute). Edits and
  callback answers only count against the global budget: they are not new messages.
- Priority classes (rate_limit_args, lower is more urgent): 0 crisis replies and alerts,
  1 interactive replies (the default), 2 check-ins, 3 reminders. When the budget is contended
  the most urgent waiting request goes next; within a class, first come first served.
- A 429 (RetryAfter) re-queues that request and holds its chat for retry_after. Network errors
  and 5xx are retried with exponential backoff and jitter; a 400 or 403 is never retried.

aiolimiter (behind PTB's AIORateLimiter) has no priorities, hence this small scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import BaseRateLimiter

from bot import metrics
from scheduler.dispatcher import retry_seconds

log = logging.getLogger(__name__)

PRIORITY_CRISIS, PRIORITY_REPLY, PRIORITY_CHECKIN, PRIORITY_REMINDER = 0, 1, 2, 3
# Methods that put a new message in a chat; the per-chat spacing applies to these only.
NEW_MESSAGE_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "sendvideo", "sendaudio", "sendvoice",
     "sendanimation", "sendsticker", "sendlocation", "sendcontact", "sendpoll",
     "sendmediagroup", "forwardmessage", "copymessage"}
)  # fmt: skip
STOPPING = "the bot is stopping; not sent"
SCAN = 200  # how deep to look past requests whose chat must still wait


async def _counted(endpoint: str, callback, args: Any, kwargs: dict[str, Any]) -> Any:
    """Every attempt at a Bot API call, counted by method and outcome."""
    try:
        result = await callback(*args, **kwargs)
    except TelegramError as exc:
        metrics.count_request(endpoint, exc)
        raise
    metrics.count_request(endpoint, None)
    return result


@dataclass(order=True)
class _Waiter:
    priority: int
    sequence: int
    chat: Any = field(compare=False)
    spaced: bool = field(compare=False)
    future: asyncio.Future = field(compare=False)


class PriorityRateLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        per_second: float = 30.0,
        chat_interval: float = 1.0,
        group_interval: float = 3.0,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
        window: float = 1.05,
        max_in_flight: int = 32,
    ) -> None:
        self.per_second = per_second
        # Requests on the wire at once. Telegram's ~30 a second at a few hundred ms each needs
        # about ten; far more only makes the HTTP connection pool scan long queues (its cost
        # grows with the square of waiting requests), and the most urgent waits its turn here,
        # where priority decides, instead of there.
        self.max_in_flight = max_in_flight
        self._in_flight = 0
        # A little over a second: requests reach Telegram a moment after we release them, and
        # a window exactly one second long would let a few land inside the server's.
        self.window = window
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        self.max_retries = max_retries
        self._clock = clock
        self._queues: dict[int, deque[_Waiter]] = {}
        self._sent: deque[float] = deque()  # release times within the last second
        self._chat_ready: dict[Any, float] = {}
        self._sequence = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closed = False
        self.stats = {"released": 0, "retry_after": 0, "retried": 0}

    async def initialize(self) -> None:
        self._closed = False
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._release_loop(), name="rate-limiter")

    async def shutdown(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # Requests still waiting fail as a network error would: the outbox sends them again
        # after a restart, and a handler's error report says so, instead of a bare cancel.
        for queue in self._queues.values():
            for waiter in queue:
                if not waiter.future.done():
                    waiter.future.set_exception(NetworkError(STOPPING))
            queue.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat = data.get("chat_id")
        if chat is None:  # getUpdates, getMe, answerCallbackQuery...: no chat, no spacing
            return await _counted(endpoint, callback, args, kwargs)
        priority = PRIORITY_REPLY if rate_limit_args is None else int(rate_limit_args)
        spaced = endpoint.lower() in NEW_MESSAGE_METHODS
        for attempt in range(self.max_retries + 1):
            await self._acquire(priority, chat, spaced)
            try:
                try:
                    return await _counted(endpoint, callback, args, kwargs)
                finally:
                    self._in_flight -= 1
                    self._wake.set()
            except RetryAfter as exc:
                self.stats["retry_after"] += 1
                wait = retry_seconds(exc)
                self._hold(chat, wait)
                if attempt == self.max_retries:
                    raise
                log.info("429 for %s: waiting %.1fs before retrying", endpoint, wait)
            except (BadRequest, Forbidden, InvalidToken):
                raise  # the request itself is wrong or unwelcome: retrying changes nothing
            except NetworkError:  # includes TimedOut and 5xx
                if attempt == self.max_retries:
                    raise
                self.stats["retried"] += 1
                delay = random.uniform(0, min(30.0, 0.5 * 2**attempt))
                log.info("%s failed (attempt %s); retrying in %.2fs", endpoint, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    # --- the scheduler ------------------------------------------------------------------------

    def _hold(self, chat: Any, seconds: float) -> None:
        self._chat_ready[chat] = max(self._chat_ready.get(chat, 0.0), self._clock() + seconds)
        self._wake.set()

    async def _acquire(self, priority: int, chat: Any, spaced: bool) -> None:
        if self._closed:
            raise NetworkError(STOPPING)
        if self._task is None or self._task.done():
            await self.initialize()
        self._sequence += 1
        future = asyncio.get_running_loop().create_future()
        waiter = _Waiter(priority, self._sequence, chat, spaced, future)
        self._queues.setdefault(priority, deque()).append(waiter)
        self._wake.set()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted, then its caller gave up
                self._in_flight -= 1
                self._wake.set()
            raise

    def _interval(self, chat: Any) -> float:
        is_group = isinstance(chat, str) or (isinstance(chat, int) and chat < 0)
        return self.group_interval if is_group else self.chat_interval

    def _pick(self, now: float) -> tuple[_Waiter | None, float | None]:
        """The most urgent waiter allowed to go now, or the earliest moment one will be."""
        soonest: float | None = None
        for priority in sorted(self._queues):
            queue = self._queues[priority]
            for index, waiter in enumerate(queue):
                if index >= SCAN:
                    break
                if waiter.future.done():  # cancelled by its caller
                    del queue[index]
                    return None, now
                ready = self._chat_ready.get(waiter.chat, 0.0) if waiter.spaced else 0.0
                if ready <= now:
                    del queue[index]
                    return waiter, None
                soonest = ready if soonest is None else min(soonest, ready)
        return None, soonest

    async def _release_loop(self) -> None:
        while not self._closed:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) >= self.per_second:
                await self._sleep(self._sent[0] + self.window - now)
                continue
            # Even pacing, not bursts of a whole second's budget: bursts arrive bunched and
            # overlap the server's window.
            if self._sent and now < self._sent[-1] + 1.0 / self.per_second:
                await self._sleep(self._sent[-1] + 1.0 / self.per_second - now)
                continue
            if self._in_flight >= self.max_in_flight:
                self._wake.clear()
                await self._sleep(None)  # until a request on the wire finishes
                continue
            waiter, soonest = self._pick(now)
            if waiter is None:
                self._wake.clear()
                await self._sleep(None if soonest is None else max(0.0, soonest - now))
                continue
            self._sent.append(now)
            if waiter.spaced:
                self._chat_ready[waiter.chat] = now + self._interval(waiter.chat)
            self.stats["released"] += 1
            self._in_flight += 1
            waiter.future.set_result(None)
            if len(self._chat_ready) > 50_000:  # forget chats that are long since free
                self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}

    async def _sleep(self, seconds: float | None) -> None:
        """Sleep until `seconds` pass or a new request (or a hold) arrives."""
        if seconds is not None and seconds <= 0:
            return
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # lands as the wait ends, and shutdown would then wait for this loop forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        self._wake.clear()
