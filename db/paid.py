"""The daily ledger of paid broadcast messages (PAID_BROADCAST_DAILY_STARS is a hard cap)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import PaidBroadcastDay
from db.sql import changed, upsert_insert


async def spent(session: AsyncSession, day: date) -> int:
    """Paid messages of `day` so far (sent, or reserved by a batch still out)."""
    return await session.scalar(
        select(PaidBroadcastDay.messages).where(PaidBroadcastDay.day == day)
    ) or 0


async def reserve(session: AsyncSession, day: date, wanted: int, cap: int) -> int:
    """Reserve up to `wanted` of the day's `cap` messages; returns how many it got. The update
    is conditional, so two workers reserving at once can never pass the cap between them."""
    if wanted <= 0:
        return 0
    await _ensure(session, day)
    for _ in range(5):
        granted = min(wanted, cap - await spent(session, day))
        if granted <= 0:
            return 0
        done = await changed(
            session,
            update(PaidBroadcastDay)
            .where(PaidBroadcastDay.day == day,
                   PaidBroadcastDay.messages + granted <= cap)  # fmt: skip
            .values(messages=PaidBroadcastDay.messages + granted)
            .execution_options(synchronize_session=False),
        )
        if done == 1:
            return granted
    return 0  # another worker keeps taking what is left; nothing paid this round


async def give_back(session: AsyncSession, day: date, unused: int) -> None:
    """Reserved messages that were not sent paid (failed, retried later, skipped)."""
    if unused > 0:
        await session.execute(
            update(PaidBroadcastDay)
            .where(PaidBroadcastDay.day == day)
            .values(messages=PaidBroadcastDay.messages - unused)
            .execution_options(synchronize_session=False)
        )


async def _ensure(session: AsyncSession, day: date) -> None:
    insert = upsert_insert(session)
    await session.execute(
        insert(PaidBroadcastDay)
        .values(day=day, messages=0)
        .on_conflict_do_nothing(index_elements=["day"])
    )
