"""The first handlers every update meets: ignore group chats, then store the update durably
and resolve who is writing (once per update: handlers read it through bot/resolved.py)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import incoming, resolved
from bot.services import services_of
from db import awaiting, inbound, invites, people, senders
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
    """Keep the update before handling it (the poller and the webhook have stored it
    already; a replay too); a duplicate delivery is handled once. Who is writing, and what
    they were asked last, is read in the same query and kept for the handlers (bot/resolved.py)."""
    services = services_of(context)
    user_id = incoming.sender_id(update)
    async with services.sessionmaker() as session:
        sender = await senders.resolve(session, user_id, update.update_id)
    if sender.processed:
        raise ApplicationHandlerStop
    participant = sender.participant
    # Writing to us means they can be reached again (they had blocked the bot).
    welcome_back = (participant is not None and participant.status == "unreachable"
                    and update.my_chat_member is None)  # fmt: skip
    if not sender.stored or welcome_back:
        now = services.now()
        async with services.sessionmaker.begin() as session:
            if not sender.stored and not await inbound.store(
                session, update.update_id, update.to_dict(), now
            ):
                raise ApplicationHandlerStop  # handled meanwhile, elsewhere
            if welcome_back:
                participant = await people.participant_by_telegram(session, user_id)
                if participant is not None and participant.status == "unreachable":
                    await alerting.reachable_again(session, services.catalog, participant, now)
        if welcome_back:  # read again: the participant's status changed
            async with services.sessionmaker() as session:
                sender = await senders.resolve(session, user_id, update.update_id)
    resolved.keep(context, sender)


_FINISHED = "aftercare_finished"


async def finish(session, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Mark the update handled within a handler's last unit of work (after its replies were
    sent), so the closing handler (`mark_processed`) need not open another. Only once that
    unit of work has committed (`finished`) does the closing handler skip its own."""
    await inbound.mark_processed(session, update.update_id, services_of(context).now(),
                                 _scrubbed(update))  # fmt: skip


def finished(context: ContextTypes.DEFAULT_TYPE) -> None:
    setattr(context, _FINISHED, True)


def _scrubbed(update: Update):
    """The stored copy without its invite token, or None when it has none to remove: only a
    /start can carry one (checked first, as turning the update into a dict costs more)."""
    message = update.message or update.edited_message
    if message is None or not message.text or "start" not in message.text.lower():
        return None
    return invites.without_token(update.to_dict())


async def set_aside_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command: whatever was asked before it no longer takes their next typed message."""
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        await awaiting.clear(session, incoming.sender_id(update))


async def mark_processed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handled. An invite token in the stored copy is replaced by its hash now: it was kept
    as sent only so that a restart mid-update could handle it again."""
    if getattr(context, _FINISHED, False):
        return
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        await inbound.mark_processed(session, update.update_id, services.now(),
                                     _scrubbed(update))  # fmt: skip


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
        # The gate's reading: it does not read again for a change of membership (no welcome
        # back), so nothing has changed them since.
        participant = await resolved.participant(session, update, context)
        if participant is None:
            return
        if blocked and participant.status == "active":
            team = services.settings.counselor_team_chat_id
            await mark_unreachable(session, services.catalog, participant, now, team)
        elif unblocked and participant.status == "unreachable":
            await alerting.reachable_again(session, services.catalog, participant, now)
