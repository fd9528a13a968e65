"""The first handlers every update meets: ignore group chats, then store the update durably."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.services import services_of
from db import inbound, people


async def private_chats_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Silence in groups and channels: nothing there is ours to read or answer."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE or update.effective_user is None:
        raise ApplicationHandlerStop


async def store_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep the update before handling it; a duplicate delivery is handled once."""
    services = services_of(context)
    now = services.now()
    async with services.sessionmaker.begin() as session:
        fresh = await inbound.store(session, update.update_id, update.to_dict(), now)
        if fresh:
            # Writing to us means they can be reached again (they had blocked the bot).
            await people.mark_reachable(session, update.effective_user.id, now)
    if not fresh:
        raise ApplicationHandlerStop


async def mark_processed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        await inbound.mark_processed(session, update.update_id, services.now())
