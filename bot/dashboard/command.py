"""/dashboard in Telegram: a counselor's one-time sign-in link, or signing out everywhere."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import help_text
from bot.services import services_of
from db import audit
from db import dashboard as dashboard_db
from messages.render import Rendered, fill


def login_url(base: str, token: str) -> str:
    return f"{base}/login/{token}"


async def on_dashboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    settings, catalog, now = services.settings, services.program_catalog, services.now()
    texts = catalog.texts["dashboard"]
    args = [a.casefold() for a in context.args or []]
    message: Rendered | str
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        if counselor is None:
            message = ""
        elif args == ["logout"]:
            count = await dashboard_db.end_all_sessions(session, counselor.id, now)
            audit.record(session, now, f"counselor:{counselor.id}", "dashboard_logged_out_all",
                         None, {"sessions": count})  # fmt: skip
            message = fill(texts["logged_out"], count=count)
        elif args:
            message = texts["usage"]
        elif not settings.dashboard_url:
            message = texts["off"]
        else:
            ttl = timedelta(minutes=settings.dashboard_login_minutes)
            token = await dashboard_db.create_login_token(session, counselor, now, ttl)
            audit.record(session, now, f"counselor:{counselor.id}", "dashboard_link_created")
            url = login_url(settings.dashboard_url, token)
            minutes = round(settings.dashboard_login_minutes)
            # No preview: Telegram's preview robot must never open the link.
            message = Rendered(fill(texts["link"], minutes=minutes, url=url), no_preview=True)
    if counselor is None:
        # Participants, contacts and strangers get the help that fits them; nothing leaks.
        message = await help_text(update, context)
    await telegram_io.send(context.bot, incoming.chat_id(update), message)
