"""Run Alembic migrations from code (the CLI and `aftercare run` call this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    cfg = alembic_config()

    def _run(connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    cfg = alembic_config()

    def _run(connection) -> None:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)
