"""The parts of an update a handler relies on, typed as present.

PTB types every part of an `Update` as optional, because an update carries only one kind of
thing. Ours are narrower: the gate (bot/gate.py) lets through only private chats with a sender,
and the routing table (bot/app.py) gives each handler the kind of update it reads (a message,
a button press). These functions say which part a handler needs. Should the routing ever hand
a handler something else, they raise at once, naming the part, instead of an AttributeError
on None somewhere further on. Imports only `telegram`.
"""

from __future__ import annotations

from telegram import CallbackQuery, ChatMemberUpdated, Message, Update, User


class NotRouted(RuntimeError):
    """A handler got an update without the part its route promises (a routing-table bug)."""


def _missing(update: Update, part: str) -> NotRouted:
    # The update's id only: its contents may be health information.
    return NotRouted(f"update {update.update_id} has no {part}")


def chat_id(update: Update) -> int:
    """The private chat the update came from (the gate drops every other kind)."""
    if update.effective_chat is None:
        raise _missing(update, "chat")
    return update.effective_chat.id


def sender(update: Update) -> User:
    """Who wrote or pressed (the gate drops updates without a sender)."""
    if update.effective_user is None:
        raise _missing(update, "sender")
    return update.effective_user


def sender_id(update: Update) -> int:
    return sender(update).id


def message(update: Update) -> Message:
    """The message of a message handler's update (new or edited)."""
    if update.effective_message is None:
        raise _missing(update, "message")
    return update.effective_message


def text(update: Update) -> str:
    """What was typed, for handlers routed on text (filters.TEXT)."""
    typed = message(update).text
    if typed is None:
        raise _missing(update, "text")
    return typed


def button(update: Update) -> CallbackQuery:
    """The button press of a CallbackQueryHandler's update."""
    if update.callback_query is None:
        raise _missing(update, "button press")
    return update.callback_query


def chat_member_change(update: Update) -> ChatMemberUpdated:
    """Someone blocked or unblocked the bot (the ChatMemberHandler's update)."""
    if update.my_chat_member is None:
        raise _missing(update, "chat member change")
    return update.my_chat_member
