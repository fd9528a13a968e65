"""The first handlers every update meets: ignore group chats, then store the update durably."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import incoming
from bot.services import services_of
from db import awaiting, inbound, invites, people
from delivery.dispatcher import mark_unreachable
from scheduler import alerting


def is_ours(update: Update) -> bool:
    """Silence in groups and channels: nothing there is ours to read, store or answer. That
    holds for the counselor team group too: the bot posts alert notices there and reads
    nothing, so no command can show a participant's data in front of the whole group."""
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE and update.effective_user is not None


async def private_chats_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not is_ours(update):
        raise ApplicationHandlerStop


async def store_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep the update before handling it; a duplicate delivery is handled once."""
    services = services_of(context)
    now = services.now()
    async with services.sessionmaker.begin() as session:
        fresh = await inbound.store(session, update.update_id, update.to_dict(), now)
        if fresh and update.my_chat_member is None:
            # Writing to us means they can be reached again (they had blocked the bot).
            participant = await people.participant_by_telegram(session, incoming.sender_id(update))
            if participant is not None and participant.status == "unreachable":
                await alerting.reachable_again(session, services.catalog, participant, now)
    if not fresh:
        raise ApplicationHandlerStop


async def set_aside_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command: whatever was asked before it no longer takes their next typed message."""
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        await awaiting.clear(session, incoming.sender_id(update))


async def mark_processed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handled. An invite token in the stored copy is replaced by its hash now: it was kept
    as sent only so that a restart mid-update could handle it again."""
    services = services_of(context)
    scrubbed = invites.without_token(update.to_dict())
    async with services.sessionmaker.begin() as session:
        await inbound.mark_processed(session, update.update_id, services.now(), scrubbed)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram tells us when someone blocks or unblocks the bot: act on it at once."""
    services = services_of(context)
    change = incoming.chat_member_change(update)
    blocked = change.new_chat_member.status == ChatMemberStatus.BANNED
    unblocked = (
        change.old_chat_member.status == ChatMemberStatus.BANNED
        and change.new_chat_member.status == ChatMemberStatus.MEMBER
    )
    now = services.now()
    async with services.sessionmaker.begin() as session:
        participant = await people.participant_by_telegram(session, change.from_user.id)
        if participant is None:
            return
        if blocked and participant.status == "active":
            team = services.settings.counselor_team_chat_id
            await mark_unreachable(session, services.catalog, participant, now, team)
        elif unblocked and participant.status == "unreachable":
            await alerting.reachable_again(session, services.catalog, participant, now)
