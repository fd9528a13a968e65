"""One rate limiter under every Bot API call (PTB's BaseRateLimiter), keeping to Telegram's
limits and serving the most urgent requests first.

- A global budget (default 30 sends a second), paced evenly. A send counts against the
  budget from its release until a second after its response: the server counts it when it
  arrives, which is somewhere in between, so no 31st send can land within a second of the first
  however late a loaded machine or network delivers it (counting from the release alone let
  one through now and then: the stray 429).
- A second budget for paid broadcasts (requests with allow_paid_broadcast, at most 1,000 a
  second, off when 0): Telegram lets those past the free limit for 0.1 Stars each.
- Per-chat spacing for new messages (default 1 s; 3 s for groups, i.e. 20 a minute), counted
  from the response as well, for the same reason. Edits and callback answers only count
  against the global budget: they are not new messages.
- Priority classes (rate_limit_args, lower is more urgent): 0 crisis replies and alerts,
  1 interactive replies (the default), 2 check-ins, 3 reminders. When the budget is contended
  the most urgent waiting request goes next; within a class, first come first served.
- A 429 (RetryAfter) re-queues that request and holds its chat for retry_after. Network errors
  and 5xx are retried with exponential backoff and jitter; a 400 or 403 is never retried.
- When nothing waits and the budget allows, a request goes at once, in its own task: the
  release loop only handles requests that must wait.

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

from delivery import metrics
from delivery.priority import Priority
from delivery.retry import retry_seconds

log = logging.getLogger(__name__)

# Methods that put a new message in a chat; the per-chat spacing applies to these only.
NEW_MESSAGE_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "sendvideo", "sendaudio", "sendvoice",
     "sendanimation", "sendsticker", "sendlocation", "sendcontact", "sendpoll",
     "sendmediagroup", "forwardmessage", "copymessage"}
)  # fmt: skip
STOPPING = "the bot is stopping; not sent"
SCAN = 200  # how deep to look past requests whose chat must still wait
PAID_MAX_PER_SECOND = 1000  # Telegram's ceiling for allow_paid_broadcast
FREE_IN_FLIGHT = 32
CATCH_UP_SECONDS = 0.02
PAID_IN_FLIGHT_SECONDS = 0.1


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
    paid: bool = field(compare=False)
    future: asyncio.Future = field(compare=False)


class _Send:
    """One release: it may be inside the server's window until a second after `done`."""

    __slots__ = ("chat", "done")

    def __init__(self, chat: Any = None) -> None:
        self.chat = chat  # a spaced send's chat: its next message waits from `done`, too
        self.done: float | None = None


class _Budget:
    """Sends a second, paced evenly, counted from release until `window` after the response."""

    def __init__(self, per_second: float, window: float) -> None:
        self.per_second = per_second
        self.window = window
        self.gap = 1.0 / per_second if per_second > 0 else 0.0
        self.sends: deque[_Send] = deque()
        self.last = float("-inf")

    def wait(self, now: float) -> float | None:
        """0 when a send may go now; else seconds until one may, or None: after a response."""
        sends = self.sends
        while sends and sends[0].done is not None and sends[0].done <= now - self.window:
            sends.popleft()
        if len(sends) >= self.per_second:
            if not sends:  # a budget of 0: nothing goes this way
                return None
            first = sends[0].done
            return None if first is None else first + self.window - now
        return max(0.0, self.last + self.gap - now)

    def take(self, now: float, chat: Any = None) -> _Send:
        send = _Send(chat)
        self.sends.append(send)
        # The next slot follows this one's slot, not the moment it went: a release loop that
        # wakes a millisecond late (at 1,000 a second, every time) catches up instead of losing
        # the slot, which held paid broadcasts near 700 a second. At most CATCH_UP behind; the
        # window above still caps any second at per_second.
        self.last = max(self.last + self.gap, now - CATCH_UP_SECONDS)
        return send


class PriorityRateLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        per_second: float = 30.0,
        chat_interval: float = 1.0,
        group_interval: float = 3.0,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
        window: float = 1.0,
        max_in_flight: int | None = None,
        paid_per_second: float = 0.0,
    ) -> None:
        if not 0 <= paid_per_second <= PAID_MAX_PER_SECOND:
            raise ValueError(f"paid_per_second must be 0-{PAID_MAX_PER_SECOND}")
        self.per_second = per_second
        self.paid_per_second = paid_per_second
        # Requests on the wire at once. Telegram's ~30 a second at a few hundred ms each needs
        # about ten; far more only makes the HTTP connection pool scan long queues (its cost
        # grows with the square of waiting requests), and the most urgent waits its turn here,
        # where priority decides, instead of there. Paid broadcasts add a tenth of a second of
        # their rate: at 1,000 a second and tens of ms a round trip, 32 capped them near 600.
        if max_in_flight is None:
            max_in_flight = FREE_IN_FLIGHT + int(paid_per_second * PAID_IN_FLIGHT_SECONDS)
        self.max_in_flight = max_in_flight
        self._in_flight = 0
        self.window = window
        self._budgets = {False: _Budget(per_second, window),
                         True: _Budget(paid_per_second, window)}  # fmt: skip
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        self.max_retries = max_retries
        self._clock = clock
        # Keyed (priority, paid): a paid queue waiting for its budget never blocks a free one.
        self._queues: dict[tuple[int, bool], deque[_Waiter]] = {}
        self._waiting = 0
        self._chat_ready: dict[Any, float] = {}
        self._sequence = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closed = False
        self.stats = {"released": 0, "paid": 0, "retry_after": 0, "retried": 0}

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
        self._waiting = 0

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
        priority = Priority.REPLY if rate_limit_args is None else int(rate_limit_args)
        spaced = endpoint.lower() in NEW_MESSAGE_METHODS
        paid = self.paid_per_second > 0 and bool(data.get("allow_paid_broadcast"))
        for attempt in range(self.max_retries + 1):
            send = await self._acquire(priority, chat, spaced, paid)
            try:
                try:
                    return await _counted(endpoint, callback, args, kwargs)
                finally:
                    self._finished(send)
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

    def _finished(self, send: _Send) -> None:
        """A released request is off the wire: its slot frees, and the next waiter may go."""
        send.done = self._clock()
        if send.chat is not None:  # the chat's spacing, like the budget, counts from here too
            interval = self._interval(send.chat)
            self._chat_ready[send.chat] = max(self._chat_ready.get(send.chat, 0.0),
                                              send.done + interval)  # fmt: skip
        self._in_flight -= 1
        if self._waiting:
            self._release_ready()
            self._wake.set()  # the loop recomputes how long the rest must wait

    async def _acquire(self, priority: int, chat: Any, spaced: bool, paid: bool) -> _Send:
        if self._closed:
            raise NetworkError(STOPPING)
        if self._task is None or self._task.done():
            await self.initialize()
        self._sequence += 1
        future = asyncio.get_running_loop().create_future()
        waiter = _Waiter(priority, self._sequence, chat, spaced, paid, future)
        self._queues.setdefault((priority, paid), deque()).append(waiter)
        self._waiting += 1
        self._release_ready()  # the fast path: nothing ahead of it and the budget allows
        if not future.done():
            self._wake.set()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted, then its caller gave up
                self._finished(future.result())
            raise

    def _interval(self, chat: Any) -> float:
        is_group = isinstance(chat, str) or (isinstance(chat, int) and chat < 0)
        return self.group_interval if is_group else self.chat_interval

    def _pick(self, now: float) -> tuple[_Waiter | None, float | None]:
        """The most urgent waiter allowed to go now, or how long until one may (None: until a
        response or a new request)."""
        soonest: float | None = None
        for key in sorted(self._queues):
            queue = self._queues[key]
            if not queue:
                continue
            budget_wait = self._budgets[key[1]].wait(now)
            if budget_wait != 0.0:
                if budget_wait is not None:
                    soonest = budget_wait if soonest is None else min(soonest, budget_wait)
                continue
            for index, waiter in enumerate(queue):
                if index >= SCAN:
                    break
                if waiter.future.done():  # cancelled by its caller
                    del queue[index]
                    self._waiting -= 1
                    return None, 0.0
                ready = self._chat_ready.get(waiter.chat, 0.0) if waiter.spaced else 0.0
                if ready <= now:
                    del queue[index]
                    self._waiting -= 1
                    return waiter, None
                soonest = ready - now if soonest is None else min(soonest, ready - now)
        return None, soonest

    def _release_ready(self) -> float | None:
        """Release every waiter that may go now; returns seconds until the next one may (None:
        until a response or a new request)."""
        while self._waiting and self._in_flight < self.max_in_flight:
            now = self._clock()
            waiter, wait = self._pick(now)
            if waiter is None:
                if wait == 0.0:
                    continue  # dropped a cancelled waiter; look again
                return wait
            send = self._budgets[waiter.paid].take(now, waiter.chat if waiter.spaced else None)
            if waiter.spaced:
                self._chat_ready[waiter.chat] = now + self._interval(waiter.chat)
            self.stats["released"] += 1
            if waiter.paid:
                self.stats["paid"] += 1
            self._in_flight += 1
            waiter.future.set_result(send)
            if len(self._chat_ready) > 50_000:  # forget chats that are long since free
                self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}
        return None

    async def _release_loop(self) -> None:
        """Releases what had to wait: a budget's pacing, a chat's spacing, a 429's hold."""
        while not self._closed:
            await self._sleep(self._release_ready())

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
