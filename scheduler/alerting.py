"""Raising alerts with the counselor's message, and escalating the ones nobody acknowledged.

Used by the handlers (risk answers, free text, /sos), the missed-check-in sweep and the
dispatcher (a participant who blocked the bot), so every alert reads and escalates the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import alerts as alert_db
from db import audit, outbox
from db import checkins as checkin_db
from db import contacts as contact_db
from db.models import Alert, Counselor, Participant
from delivery.priority import Priority
from messages import render
from messages.catalog import Catalog

log = logging.getLogger(__name__)
TREND_DAYS = 7


async def trend_line(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    now: datetime,
    current: dict[str, str] | None = None,
) -> str:
    rows = await checkin_db.history(session, participant.id, now, limit=TREND_DAYS)
    since = now - timedelta(days=TREND_DAYS)
    points = [answers for checkin, answers in reversed(rows) if checkin.slot_at >= since]
    if current:
        points.append(current)
    return render.trend(catalog, points)


def alert_message(
    catalog: Catalog,
    alert: Alert,
    participant: Participant,
    trend: str,
    escalated_minutes: int | None = None,
) -> dict:
    """The counselor's message as a sendMessage payload (for the outbox). The dispatcher adds
    the dashboard link, when the dashboard is on, from the path it carries."""
    payload = alert_rendered(catalog, alert, participant, trend, escalated_minutes).payload()
    return payload | {"dashboard_path": dashboard_path(alert)}


def dashboard_path(alert: Alert) -> str:
    """Where an alert opens in the dashboard, under DASHBOARD_URL."""
    return f"/alerts/{alert.id}"


def alert_rendered(
    catalog: Catalog,
    alert: Alert,
    participant: Participant,
    trend: str,
    escalated_minutes: int | None = None,
    dashboard_url: str | None = None,
) -> render.Rendered:
    theirs = catalog.in_language(participant.language)
    return render.counselor_alert(
        catalog,
        alert.id,
        alert.level,
        participant.first_name or "",
        alert.reasons,
        trend,
        escalated_minutes=escalated_minutes,
        acknowledged=alert.status != "open",
        language=theirs.language_name if theirs.locale != catalog.locale else None,
        dashboard_link=dashboard_url + dashboard_path(alert) if dashboard_url else None,
    )


async def acknowledged_rendered(
    session: AsyncSession,
    catalog: Catalog,
    alert: Alert,
    counselor: Counselor,
    now: datetime,
    dashboard_url: str | None = None,
) -> render.Rendered:
    """An acknowledged alert's message as it then reads in Telegram: no Acknowledge button,
    and who acknowledged it (and who resolved it, once resolved). The Acknowledge button and
    the dashboard both edit the messages to this."""
    participant = await session.get_one(Participant, alert.participant_id)
    trend = await trend_line(session, catalog, participant, now)
    shown = alert_rendered(catalog, alert, participant, trend, dashboard_url=dashboard_url)
    texts = catalog.texts["alerts"]
    acknowledger = (
        await session.get_one(Counselor, alert.acknowledged_by)
        if alert.acknowledged_by not in (None, counselor.id)
        else counselor
    )
    lines = [render.fill(texts["acknowledged"], name=acknowledger.name)]
    if alert.status == "resolved":
        lines.append(render.fill(texts["resolved_by"], name=counselor.name))
    text = render.Markup(shown.text + "\n\n" + "\n".join(lines))
    return render.Rendered(text, shown.buttons, no_preview=shown.no_preview)


async def raise_alert(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    level: str,
    cause: str,
    reasons: Sequence[str],
    now: datetime,
    checkin_id: int | None = None,
    current: dict[str, str] | None = None,
    *,
    team_chat_id: int | None = None,
) -> alert_db.Raised:
    """Raise or update the alert; when people are told, the counselor team group (if one is
    configured) and consenting support contacts hear too, each only what they may."""
    trend = await trend_line(session, catalog, participant, now, current)
    raised = await alert_db.raise_alert(
        session,
        participant,
        level,
        cause,
        reasons,
        now,
        lambda alert, who: alert_message(catalog, alert, who, trend),
        checkin_id,
    )
    if raised.notified:
        if team_chat_id is not None:
            first = raised.alert.signals == 1
            reason = "new" if first else "crisis" if level == "crisis" else "update"
            await tell_team(session, catalog, team_chat_id, raised.alert, participant, reason, now)
        await tell_contacts(session, catalog, participant, raised.alert, level, now)
    return raised


async def tell_team(
    session: AsyncSession,
    catalog: Catalog,
    chat_id: int,
    alert: Alert,
    participant: Participant,
    reason: str,
    now: datetime,
    escalated_minutes: int | None = None,
) -> None:
    """The team group's notice: the level, the participant's number and whose caseload it is.
    Never the name, the reasons or the answers: not everyone in the group may see those."""
    counselor = (
        await session.get(Counselor, participant.counselor_id)
        if participant.counselor_id is not None
        else None
    )
    texts = catalog.texts["alerts"]
    caseload = (
        render.fill(texts["team_caseload"], counselor=counselor.name)
        if counselor is not None
        else render.Markup(texts["team_unassigned"])
    )
    level = render.Markup(texts[f"level_{alert.level}"])
    if escalated_minutes is None:
        text = render.fill(texts["team_alert"], level=level, number=participant.id,
                           caseload=caseload)  # fmt: skip
    else:
        text = render.fill(texts["team_escalated"], level=level, number=participant.id,
                           caseload=caseload, minutes=escalated_minutes)  # fmt: skip
    await alert_db.notify_team(session, alert, chat_id, render.Rendered(text).payload(), reason,
                               now)  # fmt: skip


async def tell_contacts(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    alert: Alert,
    level: str,
    now: datetime,
) -> None:
    """The minimal message to each support contact who consented to this level, logged."""
    for consent in await contact_db.disclosable(session, participant.id, level, now):
        contact = consent.recipient_telegram_id
        if contact is None:  # an accepted consent always names its contact (erasure revokes)
            continue
        language = await contact_db.language_of(session, contact, participant.language)
        theirs = catalog.in_language(language)
        text = render.fill(theirs.text("contact", "message"), name=participant.first_name or "")
        outbox_id = await outbox.enqueue(
            session,
            f"alert:{alert.id}:{alert.signals}:contact:{consent.id}",
            contact,
            render.Rendered(text).payload(),
            alert_db.PRIORITY.get(level, Priority.CHECKIN),
            now,
            about_participant_id=participant.id,
        )
        if outbox_id is not None:
            contact_db.log_disclosure(session, consent, alert.id, outbox_id, now)


async def escalate_due(
    session: AsyncSession,
    catalog: Catalog,
    now: datetime,
    timeouts: dict[str, timedelta],
    team_chat_id: int | None = None,
) -> int:
    """Re-send every unacknowledged alert past its level's timeout to its counselor, and send
    it to the admins too. Repeats each timeout until someone acknowledges."""
    due = await alert_db.due_for_escalation(session, now, timeouts)
    for alert in due:
        participant = await session.get(Participant, alert.participant_id)
        if participant is None:
            continue
        alert.escalations += 1
        waited = int((now - alert.created_at).total_seconds() // 60)
        trend = await trend_line(session, catalog, participant, now)
        payload = alert_message(catalog, alert, participant, trend, escalated_minutes=waited)
        recipients: dict[int, Counselor] = {
            c.id: c for c in await alert_db.responsible(session, participant)
        }
        for admin in await alert_db.admins(session):
            recipients.setdefault(admin.id, admin)
        for counselor in recipients.values():
            await alert_db.notify(session, alert, counselor, payload, "escalation", now)
        if team_chat_id is not None:
            await tell_team(session, catalog, team_chat_id, alert, participant, "escalation", now,
                            escalated_minutes=waited)  # fmt: skip
        log.warning("alert %s (%s) escalated, round %s", alert.id, alert.level, alert.escalations)
    return len(due)


async def run_escalation(
    sessionmaker: async_sessionmaker,
    catalog: Catalog,
    now: datetime,
    timeouts: dict[str, timedelta],
    team_chat_id: int | None = None,
) -> int:
    async with sessionmaker.begin() as session:
        return await escalate_due(session, catalog, now, timeouts, team_chat_id)


async def reachable_again(
    session: AsyncSession, catalog: Catalog, participant: Participant, now: datetime
) -> None:
    """They unblocked the bot (or wrote again): active again, and their counselor is told."""
    participant.status = "active"
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, "participant_reachable_again", subject)
    text = render.fill(catalog.text("alerts", "reachable_again"), name=participant.first_name or "")
    for counselor in await alert_db.responsible(session, participant):
        await outbox.enqueue(
            session,
            f"reachable:{participant.id}:{now.isoformat()}:counselor:{counselor.id}",
            counselor.telegram_user_id,
            render.Rendered(text).payload(),
            Priority.REPLY,
            now,
            about_participant_id=participant.id,
        )
