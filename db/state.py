"""Small facts the bot remembers between runs (for example its username, for deep links)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BotState


async def get(session: AsyncSession, key: str) -> str | None:
    row = await session.get(BotState, key)
    return row.value if row else None


async def put(session: AsyncSession, key: str, value: str) -> None:
    await session.merge(BotState(key=key, value=value))
