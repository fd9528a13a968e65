"""db/state.py: the small facts kept between runs. Several workers start at once and each
writes the bot's username: the write must be one upsert, never a read then an insert."""

from __future__ import annotations

import asyncio

from db import state
from db.engine import create_engine, create_sessionmaker


async def test_workers_starting_at_once_write_the_same_new_key(db_url):
    engine = create_engine(db_url)
    sessionmaker = create_sessionmaker(engine)
    both_read = asyncio.Barrier(2)

    async def start(value: str) -> None:
        async with sessionmaker.begin() as session:
            assert await state.get(session, "bot_username") is None
            await both_read.wait()  # neither has written yet
            await state.put(session, "bot_username", value)

    try:
        await asyncio.gather(start("aftercare_bot"), start("aftercare_bot"))
        async with sessionmaker.begin() as session:
            assert await state.get(session, "bot_username") == "aftercare_bot"
            await state.put(session, "bot_username", "renamed_bot")
            assert await state.get(session, "bot_username") == "renamed_bot"  # read back
    finally:
        await engine.dispose()
