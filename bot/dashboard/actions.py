"""Acknowledging and resolving an alert from the dashboard. The same service code as the
Telegram buttons (db.alerts, scheduler.alerting), and afterwards the alert's messages in the
counselors' Telegram chats are edited to what the Acknowledge button makes them say."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot
from telegram.error import TelegramError

from bot import telegram_io
from care.services import Services
from db import alerts as alert_db
from db import dashboard_reads as reads
from db.models import Alert, Counselor
from messages.render import Rendered
from scheduler import alerting

log = logging.getLogger(__name__)

MAX_NOTE = 2000  # as a note typed in Telegram
NOTICES = {
    "acknowledged": "Acknowledged. Escalation has stopped.",
    "resolved": "Resolved, and your note is saved. The participant can read it in /mydata.",
    "already": "This alert was already acknowledged.",
    "already_resolved": "This alert is already resolved.",
    "closed": "This participant has deleted their data; the alert is closed.",
    "needs_note": "Please write a short note on what was done before resolving.",
    "not_found": "",
}


@dataclass(frozen=True)
class Outcome:
    kind: str  # a key of NOTICES
    item: reads.InboxItem | None = None


async def acknowledge(services: Services, bot: Bot, acting: Counselor, alert_id: int) -> Outcome:
    return await _change(services, bot, acting, alert_id, None)


async def resolve(
    services: Services, bot: Bot, acting: Counselor, alert_id: int, note: str
) -> Outcome:
    """Resolve with the note (trimmed, at most MAX_NOTE); a blank note changes nothing."""
    return await _change(services, bot, acting, alert_id, note.strip()[:MAX_NOTE])


async def _change(
    services: Services, bot: Bot, acting: Counselor, alert_id: int, note: str | None
) -> Outcome:
    """Acknowledge (note None) or resolve with the note, in one unit of work; then edit the
    alert's Telegram messages. Another counselor's alert is "not_found"."""
    now = services.now()
    edit: tuple[Rendered, list[tuple[int, int]]] | None = None
    async with services.sessionmaker.begin() as session:
        counselor = await session.get(Counselor, acting.id)
        alert = await session.get(Alert, alert_id)
        if counselor is None or alert is None or not alert_db.can_act(counselor, alert):
            return Outcome("not_found")
        if alert.status == "closed":
            kind = "closed"
        elif note == "":
            kind = "needs_note"
        elif note is None:
            done = await alert_db.acknowledge(session, alert, counselor, now)
            kind = "acknowledged" if done else "already"
        else:
            done = await alert_db.resolve(session, alert, counselor, note, now)
            kind = "resolved" if done else "already_resolved"
        if kind in ("acknowledged", "resolved"):
            rendered = await alerting.acknowledged_rendered(
                session, services.program_catalog, alert, counselor, now,
                services.settings.dashboard_url,
            )  # fmt: skip
            edit = rendered, await reads.counselor_messages(session, alert.id)
        item = await reads.inbox_item(session, alert)
    if edit is not None:
        rendered, messages = edit
        for chat_id, message_id in messages:
            try:
                await telegram_io.edit_by_id(bot, chat_id, message_id, rendered)
            except TelegramError as exc:  # the change is saved; a stale message is the cost
                log.warning("could not update alert %s's message %s: %s", alert_id,
                            message_id, exc)  # fmt: skip
    return Outcome(kind, item)
