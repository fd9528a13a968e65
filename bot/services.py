"""The long-lived things handlers and jobs share, reached through application.bot_data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from telegram.ext import ContextTypes

from bot.config import Settings
from messages.catalog import Catalog


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker
    catalog: Catalog
    clock: Callable[[], datetime] = field(default=utcnow)
    # Tests drive the jobs by hand with a controlled clock; `aftercare run` starts them.
    run_jobs: bool = True

    def now(self) -> datetime:
        return self.clock()


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]
