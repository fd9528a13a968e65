"""The long-lived things services and handlers share (the edge keeps them in the
Application's bot_data: bot/services.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from config.settings import Settings
from messages.catalog import Catalog, Catalogs


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker
    # The content handlers read: the program's language, or (in the copy `speaking` returns)
    # the language of the participant being served.
    catalog: Catalog
    clock: Callable[[], datetime] = field(default=utcnow)
    # Tests drive the jobs by hand with a controlled clock; `aftercare run` starts them.
    run_jobs: bool = True
    # Every language's content (messages.catalog.load_catalogs).
    catalogs: Catalogs = field(kw_only=True)

    def now(self) -> datetime:
        return self.clock()

    @property
    def program_catalog(self) -> Catalog:
        """What counselors, contacts and the team group read, whoever is being served."""
        return self.catalogs.default

    def speaking(self, language: str | None) -> Services:
        """These services with the catalog of `language` (the default when it has none)."""
        catalog = self.catalogs.get(language)
        return self if catalog is self.catalog else replace(self, catalog=catalog)

