"""Stored reply markup (the Bot API JSON an outbox row keeps) as python-telegram-bot objects,
for the sends that go through PTB's methods rather than as stored parameters."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup


def reply_markup_from(
    data: dict | None, bot: Bot | None
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if not data:
        return None
    if "keyboard" in data:
        return ReplyKeyboardMarkup.de_json(data, bot)
    return InlineKeyboardMarkup.de_json(data, bot)
