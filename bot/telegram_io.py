"""Sending to Telegram from handlers: always HTML, always with our rendered keyboards."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MaybeInaccessibleMessage,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ExtBot

from delivery.markup import reply_markup_from
from messages.render import Rendered

log = logging.getLogger(__name__)


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def preview_of(rendered: Rendered) -> LinkPreviewOptions | None:
    return NO_PREVIEW if rendered.no_preview else None


def markup_of(rendered: Rendered, bot: Bot) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    return reply_markup_from(rendered.reply_markup(), bot)


async def send(
    bot: ExtBot[Any], chat_id: int, message: Rendered | str, priority: int | None = None
) -> Message:
    """Send HTML; `priority` is the rate limiter's class (None: an interactive reply). The
    Application's ExtBot takes it as rate_limit_args (handlers' context types it ExtBot[None],
    though delivery/rate_limit.py's limiter reads an int: hence Any)."""
    rendered = message if isinstance(message, Rendered) else Rendered(message)
    return await bot.send_message(
        chat_id=chat_id,
        text=rendered.text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup_of(rendered, bot),
        link_preview_options=preview_of(rendered),
        rate_limit_args=priority,
    )


async def replace_keyboard_message(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    """Turn an answered question into a plain line, buttons removed. Best effort: the
    message may be too old to edit, and the answer is already saved either way."""
    try:
        await bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=text, parse_mode=ParseMode.HTML
        )
    except BadRequest as exc:
        log.info("could not edit answered question %s: %s", message_id, exc)


async def edit(bot: Bot, message: MaybeInaccessibleMessage | None, rendered: Rendered) -> None:
    """Replace a message's text and buttons. Best effort, like replace_keyboard_message."""
    if message is not None:
        await edit_by_id(bot, message.chat.id, message.message_id, rendered)


async def edit_by_id(bot: Bot, chat_id: int, message_id: int, rendered: Rendered) -> bool:
    """Replace a sent message's text and buttons; False when Telegram refused (best effort)."""
    markup = markup_of(rendered, bot)
    if isinstance(markup, ReplyKeyboardMarkup):
        raise ValueError("Telegram edits inline buttons only; a reply keyboard must be sent")
    try:
        await bot.edit_message_text(
            chat_id=chat_id,
            message_id=message_id,
            text=rendered.text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=preview_of(rendered),
        )
    except BadRequest as exc:
        log.info("could not edit message %s: %s", message_id, exc)
        return False
    return True


async def clear_buttons(bot: Bot, message: MaybeInaccessibleMessage) -> None:
    """Take a message's inline buttons away (a one-shot choice was made). Best effort."""
    try:
        await bot.edit_message_reply_markup(
            chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
        )
    except BadRequest as exc:
        log.info("could not clear buttons of message %s: %s", message.message_id, exc)
