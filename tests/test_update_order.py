"""Different chats' updates run side by side; one chat's run in the order they came."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.update_order import PerChatUpdateProcessor


def text_update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "P", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user, text="hi"))


async def test_one_chat_in_order_other_chats_alongside():
    processor = PerChatUpdateProcessor(8)
    log: list[str] = []
    release_first = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        log.append(f"{name} start")
        if wait is not None:
            await wait.wait()
        log.append(f"{name} end")

    tasks = [
        asyncio.create_task(
            processor.process_update(text_update(1, 100), handle("a1", release_first))
        ),
        asyncio.create_task(processor.process_update(text_update(2, 100), handle("a2"))),
        asyncio.create_task(processor.process_update(text_update(3, 200), handle("b1"))),
    ]
    await asyncio.sleep(0.05)
    # Chat 200 did not wait for chat 100; chat 100's second update did.
    assert log == ["a1 start", "b1 start", "b1 end"]
    release_first.set()
    await asyncio.gather(*tasks)
    assert log[3:] == ["a1 end", "a2 start", "a2 end"]
    assert processor._locks == {}  # nothing kept for chats that are done


async def test_many_updates_from_one_chat_keep_their_order():
    processor = PerChatUpdateProcessor(64)
    seen: list[int] = []

    async def handle(n: int) -> None:
        await asyncio.sleep(0.001 * (n % 3))  # uneven handling times
        seen.append(n)

    await asyncio.gather(
        *(processor.process_update(text_update(n, 7), handle(n)) for n in range(50))
    )
    assert seen == list(range(50))
