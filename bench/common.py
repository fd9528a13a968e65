"""What every bench scenario shares: the local server's token, fresh databases, enrolment."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from bot.runner import migrate

TOKEN = "123456:BENCH-local-only"  # noqa: S105 - the local server's, never Telegram's
POSTGRES = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
KINDS = ("sqlite", "postgres")


async def fresh_database(
    kind: str, folder: Path
) -> tuple[str, Callable[[], Awaitable[None]] | None]:
    """A migrated, empty database; returns its URL and how to drop it (PostgreSQL)."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / f'bench-{time.time_ns()}.db'}"
        await migrate(url)
        return url, None
    from tests import databases

    url = await databases.create_postgres_database(POSTGRES, prefix="aftercare_bench")
    await migrate(url)
    return url, lambda: databases.drop_postgres_database(POSTGRES, url)


async def enroll(url: str, count: int, first_chat: int, due: datetime, not_due: int = 0) -> None:
    from tests.databases import add_due_participants

    await add_due_participants(url, count, first_chat, due, not_due=not_due)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; enough for a few dozen or thousand samples."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]
