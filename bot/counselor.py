"""Counselor handlers."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import help_text
from bot.services import services_of
from care import safety
from care.caseload import choose, look_up
from care.links import deep_link, local_stamp
from db import alerts as alert_db
from db import audit, awaiting, invites, people, plans
from db import checkins as checkin_db
from db.awaiting import Asked
from db.models import Alert, Participant
from messages import plan as plan_text
from messages import render
from messages.callback_data import PickButton
from messages.render import Markup, Rendered, fill
from messages.trend_points import points_from
from scheduler import alerting

MAX_LABEL = 60
FLAGS_SHOWN = 10  # one message each; the header gives the full count


async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite [name]: a single-use enrollment link for a new participant."""
    services = services_of(context)
    catalog, settings, now = services.catalog, services.settings, services.now()
    label = " ".join(context.args or [])[:MAX_LABEL] or None
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
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
        text = await help_text(update, context)
        await telegram_io.send(context.bot, incoming.chat_id(update), text)
        return
    texts = catalog.texts["invites"]
    for_label = fill(texts["for_label"], label=label) if label else Markup("")
    message = fill(
        texts["created"],
        for_label=for_label,
        expires=local_stamp(invite.expires_at, settings.default_timezone),
        link=deep_link(context.bot.username, token),
    )
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


# --- alerts -----------------------------------------------------------------------------------


async def _alert_view(session, services, alert: Alert) -> tuple[Participant, str]:
    participant = await session.get(Participant, alert.participant_id)
    trend = await alerting.trend_line(session, services.catalog, participant, services.now())
    return participant, trend


async def on_alert_button(update: Update, context: ContextTypes.DEFAULT_TYPE, data) -> None:
    """Acknowledge, Resolve or History, pressed by the alert's own counselor or an admin."""
    services = services_of(context)
    catalog, now = services.catalog, services.now()
    query = incoming.button(update)
    texts = catalog.texts["alerts"]
    toast: str | None = None
    send: Rendered | str | None = None
    updated: Rendered | None = None  # the pressed message, acknowledged
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        alert = await session.get(Alert, data.alert_id)
        if counselor is None or alert is None or not alert_db.can_act(counselor, alert):
            toast = texts["not_yours"]
        elif alert.status == "closed":  # the participant deleted their data
            toast = catalog.text("privacy", "gone")
        elif data.action == "a":
            if await alert_db.acknowledge(session, alert, counselor, now):
                toast = fill(texts["acknowledged"], name=counselor.name)
                # The pressed message loses its Acknowledge button and says who acknowledged.
                updated = await alerting.acknowledged_rendered(
                    session, catalog, alert, counselor, now, services.settings.dashboard_url
                )
            else:
                toast = texts["already_acknowledged"]
        elif data.action == "r":
            if alert.status == "resolved":
                toast = texts["already_resolved"]
            else:
                awaiting.asking(session, awaiting.RESOLUTION, now, alert.id)
                participant = await session.get_one(Participant, alert.participant_id)
                send = fill(texts["resolve_prompt"], name=participant.first_name or "")
        else:  # history
            participant, trend = await _alert_view(session, services, alert)
            send = render.alert_history(catalog, participant.first_name or "", trend, alert.reasons)
            audit.record(session, now, f"counselor:{counselor.id}", "history_viewed",
                         f"participant:{participant.id}", {"alert_id": alert.id})  # fmt: skip
    await query.answer(toast)
    if updated is not None:
        await telegram_io.edit(context.bot, query.message, updated)
    if send is not None:
        await telegram_io.send(context.bot, incoming.chat_id(update), send)


async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE, asked: Asked | None) -> bool:
    """A counselor's text after pressing Resolve is the note; True if it was one."""
    if not awaiting.is_(asked, awaiting.RESOLUTION):
        return False
    services = services_of(context)
    texts = services.catalog.texts["alerts"]
    note = (incoming.message(update).text or "").strip()
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        if counselor is None or not note:
            return False
        alert = await session.get(Alert, asked.ref_id)
        if alert is None or not alert_db.can_act(counselor, alert):
            awaiting.answered(session, awaiting.RESOLUTION)
            return False
        done = await alert_db.resolve(session, alert, counselor, note[:2000], services.now())
    reply = texts["resolved"] if done else texts["already_resolved"]
    await telegram_io.send(context.bot, incoming.chat_id(update), reply)
    return True


async def on_flags(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/flags: open alerts, most urgent first, each with its buttons."""
    services = services_of(context)
    catalog = services.catalog
    chat_id = incoming.chat_id(update)
    messages: list[render.Rendered | str] = []
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        if counselor is not None:
            visible = await alert_db.visible_to(session, counselor)
            shown = visible[:FLAGS_SHOWN]
            if not visible:
                messages.append(catalog.text("alerts", "flags_none"))
            else:
                messages.append(fill(catalog.text("alerts", "flags_header"), count=len(visible)))
            for alert in shown:
                participant, trend = await _alert_view(session, services, alert)
                messages.append(alerting.alert_rendered(
                    catalog, alert, participant, trend,
                    dashboard_url=services.settings.dashboard_url,
                ))  # fmt: skip
            # Each alert shows a name, reasons and a trend: a view of those participants.
            seen = {"alerts": [a.id for a in shown],
                    "participants": sorted({a.participant_id for a in shown})}  # fmt: skip
            audit.record(session, services.now(), f"counselor:{counselor.id}", "flags_viewed",
                         None, seen)  # fmt: skip
    if counselor is None:
        text = await help_text(update, context)
        await telegram_io.send(context.bot, chat_id, text)
        return
    for message in messages:
        await telegram_io.send(context.bot, chat_id, message)


# --- caseload and history ---------------------------------------------------------------------

HISTORY_DAYS = 30


async def _series(session, participant: Participant, now, days: int):
    """(check-in, answers) over the last `days`, oldest first."""
    # Up to and including a check-in that started this very instant.
    rows = await checkin_db.history(session, participant.id, now + timedelta(seconds=1), days * 2)
    since = now - timedelta(days=days)
    return [(c, a) for c, a in reversed(rows) if c.slot_at >= since]


def _values(series, key: str) -> list[int]:
    return [int(a[key]) for _, a in series if key in a]


async def on_caseload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/caseload: each participant's status, last check-in, day count and trend arrows."""
    services = services_of(context)
    catalog, now = services.catalog, services.now()
    texts = catalog.texts["caseload"]
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        if counselor is None:
            message = await help_text(update, context)
        else:
            participants = await people.caseload(session, counselor)
            lines = []
            for participant in participants:
                series = await _series(session, participant, now, 14)
                answered = [c.completed_at for c, _ in series if c.completed_at is not None]
                zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
                last = local_stamp(answered[-1], zone.key) if answered else texts["never"]
                status = texts.get(f"status_{participant.status}", participant.status)
                lines.append(
                    fill(
                        texts["line"],
                        id=participant.id,
                        name=participant.first_name or "",
                        status=status,
                        last=last,
                        days=safety.days_in_recovery(services, participant, now),
                        mood=render.arrow(_values(series, "mood")),
                        craving=render.arrow(_values(series, "craving")),
                    )
                )
            header = texts["header_admin" if counselor.is_admin else "header"]
            message = (
                Markup(fill(header, count=len(participants)) + "\n" + "\n".join(lines))
                if participants
                else texts["none"]
            )
            audit.record(session, now, f"counselor:{counselor.id}", "caseload_viewed", None,
                         {"participants": [p.id for p in participants]})  # fmt: skip
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


async def on_pick(update: Update, context: ContextTypes.DEFAULT_TYPE, data: PickButton) -> None:
    """A participant tapped in a /history, /discharge or /medication list: the same as typing
    their number (so the same caseload rule decides whether this counselor may see them)."""
    from bot.discharge import ask_discharge
    from bot.medication import counselor_set

    await incoming.button(update).answer()
    if data.command == "h":
        await history(update, context, str(data.participant_id))
    elif data.command == "m":
        if not await counselor_set(update, context, [str(data.participant_id)]):
            text = await help_text(update, context)
            await telegram_io.send(context.bot, incoming.chat_id(update), text)
    else:
        await ask_discharge(update, context, str(data.participant_id))


async def on_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/history <participant>: a 30-day chart with a short summary. Every view is audited.
    With no participant, or words that fit several, a button for each."""
    await history(update, context, " ".join(context.args or []))


async def history(update: Update, context: ContextTypes.DEFAULT_TYPE, wanted: str) -> None:
    # Imported here: matplotlib takes a moment to load, and only this command draws.
    from messages.chart import trend_chart

    services = services_of(context)
    catalog, now = services.catalog, services.now()
    texts = catalog.texts["history"]
    chat_id = incoming.chat_id(update)
    photo = shared_plan = None
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        if counselor is None:
            message = await help_text(update, context)
        else:
            found = await look_up(session, counselor, wanted)
            participant = found.participant
            if participant is None:
                message = choose(catalog, "h", found, wanted)
            else:
                zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
                series = await _series(session, participant, now, HISTORY_DAYS)
                points = points_from(series, zone)
                today = now.astimezone(zone).date()
                name = participant.first_name or ""
                photo = trend_chart(points, name, today - timedelta(days=HISTORY_DAYS), today)
                open_alerts = [
                    a for a in await alert_db.visible_to(session, counselor)
                    if a.participant_id == participant.id
                ]  # fmt: skip
                message = fill(
                    texts["caption"],
                    name=name,
                    checked=sum(1 for c, _ in series if c.status == "completed"),
                    missed=sum(1 for p in points if p.missed),
                    lapses=sum(1 for p in points if p.lapse),
                    mood=render.arrow(_values(series, "mood")),
                    craving=render.arrow(_values(series, "craving")),
                    alerts=len(open_alerts),
                )
                # The plan only if they chose to share it with their counselor.
                plan = await plans.of(session, participant.id)
                if plans.has_content(plan) and plan.share_with_counselor:
                    content = plan_text.PlanContent.of(plan.people, plan.first_steps, plan.reasons)
                    shared_plan = plan_text.for_counselor(catalog, name, content)
                audit.record(session, now, f"counselor:{counselor.id}", "history_viewed",
                             f"participant:{participant.id}",
                             {"plan": True} if shared_plan else None)  # fmt: skip
    if photo is None:
        await telegram_io.send(context.bot, chat_id, message)
        return
    await context.bot.send_photo(
        chat_id, photo=photo, caption=message, parse_mode=ParseMode.HTML,
        filename="history.png",
    )  # fmt: skip
    if shared_plan is not None:
        await telegram_io.send(context.bot, chat_id, shared_plan)
