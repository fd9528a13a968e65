"""Small facts the bot remembers between runs (for example its username, for deep links)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BotState
from db.sql import upsert_insert


async def get(session: AsyncSession, key: str) -> str | None:
    row = await session.get(BotState, key, populate_existing=True)  # put() writes past the ORM
    return row.value if row else None


async def put(session: AsyncSession, key: str, value: str) -> None:
    """One upsert, not a read then a write: two workers starting at once both write the bot's
    username, and a merge (SELECT, then INSERT) let both find nothing and the second INSERT
    fail on the key (seen on PostgreSQL in the two-worker takeover test)."""
    insert = upsert_insert(session)(BotState).values(key=key, value=value)
    await session.execute(
        insert.on_conflict_do_update(index_elements=["key"], set_={"value": insert.excluded.value})
    )
