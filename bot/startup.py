"""Start-up against services that may not be there yet: after a reboot PostgreSQL may come up
after the bot, and a network may be late. What can't be reached is retried with backoff, one
log line per attempt, for STARTUP_RETRY_SECONDS; what retrying can't fix (a rejected token, a
database that does not exist, a wrong password) stops at once, in one line."""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_DELAY = 30.0


class Fatal(Exception):
    """Retrying won't help; the message (one line) says what to fix. Exit status 2."""


class GaveUp(Exception):
    """Still unreachable when STARTUP_RETRY_SECONDS ran out. Exit status 1."""


class Stopped(Exception):
    """SIGTERM or SIGINT while waiting to retry."""


async def until_ready(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    budget: float,
    problem_of: Callable[[BaseException], str],
    stop: asyncio.Event | None = None,
) -> T:
    """`attempt()` until it succeeds, `problem_of` raises Fatal, or `budget` seconds pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    delay, tries = 1.0, 0
    while True:
        tries += 1
        try:
            return await attempt()
        except (Fatal, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - problem_of sorts them
            problem = problem_of(exc)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise GaveUp(
                f"gave up after {budget:g} s (STARTUP_RETRY_SECONDS): {what} can't be reached: "
                f"{problem}"
            )
        wait = min(delay, remaining)
        log.warning("%s can't be reached (%s); attempt %s, retrying in %.0f s",
                    what, problem, tries, wait)  # fmt: skip
        if stop is not None:
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except TimeoutError:
                pass
            else:
                raise Stopped
        else:
            await asyncio.sleep(wait)
        delay = min(delay * 2, MAX_DELAY)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = getattr(cause, "orig", None) or cause.__cause__ or cause.__context__


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def database_problem(database_url: str) -> Callable[[BaseException], str]:
    """What went wrong reaching the database, in a few words; raises Fatal when retrying
    can't fix it."""
    import asyncpg
    from alembic.util import CommandError

    url = make_url(database_url)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"

    def problem(exc: BaseException) -> str:
        for cause in _causes(exc):
            if isinstance(cause, asyncpg.InvalidCatalogNameError):
                raise Fatal(
                    f"DATABASE_URL: database {url.database!r} does not exist on {where}: create "
                    f"it (createdb {url.database}) or fix DATABASE_URL"
                ) from None
            if isinstance(cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):  # noqa: E501
                raise Fatal(
                    f"DATABASE_URL: {where} refused user {url.username!r} (wrong password, or "
                    "no such role): fix DATABASE_URL or the role in PostgreSQL"
                ) from None
            if isinstance(cause, sqlite3.OperationalError):
                raise Fatal(
                    f"DATABASE_URL: can't open the SQLite file {url.database!r} "
                    f"({_one_line(cause)}): check that its folder exists and is writable"
                ) from None
            if isinstance(cause, CommandError):
                raise Fatal(
                    f"the database's schema is not one this version knows ({_one_line(cause)}): "
                    "run the aftercare version that migrated it, or restore its backup"
                ) from None
            if isinstance(cause, ConnectionRefusedError):
                return f"connection refused at {where}"
            if isinstance(cause, socket.gaierror):
                return f"host {url.host!r} not found"
            if isinstance(cause, TimeoutError):
                return f"no answer from {where}"
            if isinstance(cause, asyncpg.CannotConnectNowError | asyncpg.TooManyConnectionsError):
                return f"{where}: {_one_line(cause)}"
            if isinstance(cause, OSError):
                return f"{where}: {_one_line(cause)}"
        raise Fatal(f"the database at {where} failed: {type(exc).__name__}: {_one_line(exc)}")

    return problem


def bot_api_problem(base_url: str) -> Callable[[BaseException], str]:
    from urllib.parse import urlsplit

    from telegram.error import InvalidToken, TelegramError

    host = urlsplit(base_url).netloc

    def problem(exc: BaseException) -> str:
        if isinstance(exc, InvalidToken):
            # PTB's own message quotes the token; ours never does.
            raise Fatal(
                f"TELEGRAM_BOT_TOKEN was rejected by the Bot API at {host}: copy it again from "
                "@BotFather (it may have been revoked), or check TELEGRAM_API_BASE_URL"
            ) from None
        if isinstance(exc, TelegramError | OSError | TimeoutError):
            return f"{host}: {_one_line(exc)}"
        raise exc

    return problem
