"""Which worker polls Telegram: Telegram allows one getUpdates caller per bot, so on PostgreSQL
the worker holding a session advisory lock polls and the others wait. The lock lives on one
dedicated connection; when its process dies, PostgreSQL drops the connection and the lock with
it, and another worker's next try takes it.

SQLite has one process (db/single_process.py), which always holds the lock.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# Any fixed 64-bit number; advisory locks are per database, so one bot per database.
POLLER_LOCK_KEY = 0x61667465_72636172  # "aftercar"
LOST = (SQLAlchemyError, DBAPIError, OSError, TimeoutError)


class PollerLock:
    """Always held: a single SQLite process is the poller."""

    held = True

    async def acquire(self) -> bool:
        return True

    async def alive(self) -> bool:
        return True

    async def release(self) -> None:
        pass


class AdvisoryLock(PollerLock):
    def __init__(self, database_url: str, key: int = POLLER_LOCK_KEY) -> None:
        self._engine: AsyncEngine = create_async_engine(
            database_url, poolclass=NullPool, hide_parameters=True
        )
        self._key = key
        self._connection: AsyncConnection | None = None
        self.held = False

    async def acquire(self) -> bool:
        """Try once; True when this worker now holds the lock. Raises when the database
        can't be reached."""
        if self.held:
            return True
        if self._connection is None:
            self._connection = await self._engine.connect()
        try:
            got = await self._connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
            await self._connection.commit()  # the lock is the session's: it outlives this
        except LOST:
            await self._drop()
            raise
        self.held = bool(got)
        return self.held

    async def alive(self) -> bool:
        """Still held? False once the lock's connection is gone (the database restarted, or
        dropped us): the lock went with it, and another worker may hold it now."""
        if not self.held or self._connection is None:
            return False
        try:
            await self._connection.scalar(text("SELECT 1"))
            await self._connection.commit()
        except LOST:
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._connection is not None and self.held:
            try:
                await self._connection.scalar(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
                await self._connection.commit()
            except LOST:
                pass
        await self._drop()
        await self._engine.dispose()

    async def _drop(self) -> None:
        self.held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
                await connection.close()
            except LOST:
                pass


def poller_lock(database_url: str) -> PollerLock:
    if database_url.startswith("postgresql"):
        return AdvisoryLock(database_url)
    return PollerLock()
