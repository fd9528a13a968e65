"""Counselor handlers."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import telegram_io
from bot.common import help_text
from bot.links import deep_link, local_stamp
from bot.services import services_of
from db import alerts as alert_db
from db import audit, invites, people
from db.models import Alert, Participant
from messages import render
from messages.render import Markup, fill
from scheduler import alerting

MAX_LABEL = 60
FLAGS_SHOWN = 10  # one message each; the header gives the full count


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


# --- alerts -----------------------------------------------------------------------------------


async def _alert_view(session, services, alert: Alert) -> tuple[Participant, str]:
    participant = await session.get(Participant, alert.participant_id)
    trend = await alerting.trend_line(session, services.catalog, participant, services.now())
    return participant, trend


async def on_alert_button(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    """Acknowledge, Resolve or History, pressed by the alert's own counselor or an admin."""
    services = services_of(context)
    catalog, now = services.catalog, services.now()
    query = update.callback_query
    texts = catalog.texts["alerts"]
    toast, send, new_markup = None, None, False
    async with services.sessionmaker.begin() as session:
        counselor = await people.counselor_by_telegram(session, query.from_user.id)
        alert = await session.get(Alert, data.alert_id)
        if counselor is None or alert is None or not alert_db.can_act(counselor, alert):
            toast = texts["not_yours"]
        elif data.action == "a":
            if await alert_db.acknowledge(session, alert, counselor, now):
                toast = fill(texts["acknowledged"], name=counselor.name)
                new_markup = True
            else:
                toast = texts["already_acknowledged"]
        elif data.action == "r":
            if alert.status == "resolved":
                toast = texts["already_resolved"]
            else:
                counselor.resolving_alert_id = alert.id
                participant = await session.get(Participant, alert.participant_id)
                send = fill(texts["resolve_prompt"], name=participant.first_name or "")
        else:  # history
            participant, trend = await _alert_view(session, services, alert)
            send = render.alert_history(catalog, participant.first_name or "", trend, alert.reasons)
            audit.record(session, now, f"counselor:{counselor.id}", "history_viewed",
                         f"participant:{participant.id}", {"alert_id": alert.id})  # fmt: skip
        if new_markup:
            participant, trend = await _alert_view(session, services, alert)
            updated = alerting.alert_rendered(catalog, alert, participant, trend)
            # The pressed message loses its Acknowledge button and says who acknowledged.
            who = fill(texts["acknowledged"], name=counselor.name)
            updated = render.Rendered(updated.text + "\n\n" + who, updated.buttons)
    await query.answer(toast)
    if new_markup:
        await telegram_io.edit(context.bot, query.message, updated)
    if send is not None:
        await telegram_io.send(context.bot, update.effective_chat.id, send)


async def resolution_note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A counselor's text after pressing Resolve is the note; True if it was one."""
    services = services_of(context)
    texts = services.catalog.texts["alerts"]
    note = (update.effective_message.text or "").strip()
    async with services.sessionmaker.begin() as session:
        counselor = await people.counselor_by_telegram(session, update.effective_user.id)
        if counselor is None or counselor.resolving_alert_id is None or not note:
            return False
        alert = await session.get(Alert, counselor.resolving_alert_id)
        if alert is None or not alert_db.can_act(counselor, alert):
            counselor.resolving_alert_id = None
            return False
        done = await alert_db.resolve(session, alert, counselor, note[:2000], services.now())
    reply = texts["resolved"] if done else texts["already_resolved"]
    await telegram_io.send(context.bot, update.effective_chat.id, reply)
    return True


async def on_flags(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/flags: open alerts, most urgent first, each with its buttons."""
    services = services_of(context)
    catalog = services.catalog
    chat_id = update.effective_chat.id
    messages: list[render.Rendered | str] = []
    async with services.sessionmaker() as session:
        counselor = await people.counselor_by_telegram(session, update.effective_user.id)
        if counselor is not None:
            visible = await alert_db.visible_to(session, counselor)
            shown = visible[:FLAGS_SHOWN]
            if not visible:
                messages.append(catalog.text("alerts", "flags_none"))
            else:
                messages.append(fill(catalog.text("alerts", "flags_header"), count=len(visible)))
            for alert in shown:
                participant, trend = await _alert_view(session, services, alert)
                messages.append(alerting.alert_rendered(catalog, alert, participant, trend))
    if counselor is None:
        await telegram_io.send(context.bot, chat_id, await help_text(update, context))
        return
    for message in messages:
        await telegram_io.send(context.bot, chat_id, message)
