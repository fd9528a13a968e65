"""Helpers for driving the real bot by script (the demo and the tests): a clock set by hand,
and an Application that reports when it has finished an update."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import Application

SETTLE_TIMEOUT = 10.0


class SettableClock:
    """A clock moved by hand, so scheduled work can be shown or tested without waiting."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


class TrackingApplication(Application):
    """Notes which updates it has finished handling, so a script can wait for exactly that."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handled: set[int] = set()
        self._handled_event = asyncio.Event()

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            update_id = getattr(update, "update_id", None)
            if update_id is not None:
                self.handled.add(update_id)
                self._handled_event.set()

    async def settle(self, update_id: int) -> None:
        """Wait until the update with this id has been handled."""

        async def handled() -> None:
            while update_id not in self.handled:
                self._handled_event.clear()
                await self._handled_event.wait()

        await asyncio.wait_for(handled(), SETTLE_TIMEOUT)
