"""Counselor handlers."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import telegram_io
from bot.common import help_text
from bot.links import deep_link, local_stamp
from bot.services import services_of
from db import audit, invites, people
from messages.render import Markup, fill

MAX_LABEL = 60


async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite [name]: a single-use enrollment link for a new participant."""
    services = services_of(context)
    catalog, settings, now = services.catalog, services.settings, services.now()
    label = " ".join(context.args or [])[:MAX_LABEL] or None
    async with services.sessionmaker.begin() as session:
        counselor = await people.counselor_by_telegram(session, update.effective_user.id)
        if counselor is not None:
            ttl = timedelta(days=settings.participant_invite_ttl_days)
            token, invite = await invites.create_invite(
                session, "participant", now, ttl, label, counselor.id
            )
            audit.record(
                session, now, f"counselor:{counselor.id}", "participant_invite_created",
                f"invite:{invite.id}",
            )  # fmt: skip
    if counselor is None:
        # Participants and strangers get what fits them; nothing about invites leaks.
        await telegram_io.send(
            context.bot, update.effective_chat.id, await help_text(update, context)
        )
        return
    texts = catalog.texts["invites"]
    for_label = fill(texts["for_label"], label=label) if label else Markup("")
    message = fill(
        texts["created"],
        for_label=for_label,
        expires=local_stamp(invite.expires_at, settings.default_timezone),
        link=deep_link(context.bot.username, token),
    )
    await telegram_io.send(context.bot, update.effective_chat.id, message)
