"""The dashboard's routes. Each handler parses, authorizes against the signed-in counselor,
calls named queries or one action, and renders a template (autoescaped)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.dashboard import actions
from bot.dashboard.server import (
    BOT,
    ME,
    SERVICES,
    cookie_name,
    message_page,
    not_found,
    page,
)
from care import safety
from care.links import local_stamp
from care.services import Services
from db import alerts as alert_db
from db import audit, people, plans, records
from db import dashboard as dashboard_db
from db import dashboard_reads as reads
from db.dashboard import SignedIn
from messages import caseload as caseload_rows
from messages import figures, render
from messages.html import strip_html
from messages.svg_chart import trend_svg
from messages.trend_points import points_from

CHART_DAYS = 30
LINK_STATES = {
    "used": ("This link was already used",
             "Each sign-in link works once. Send /dashboard to the bot in Telegram for a new one."),
    "expired": ("This link has expired",
                "Sign-in links work for a few minutes. Send /dashboard to the bot in Telegram "
                "for a new one."),
    "unknown": ("This link doesn't work",
                "It may have been copied incompletely. Send /dashboard to the bot in Telegram "
                "for a new one."),
}  # fmt: skip


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


def _me(request: web.Request) -> SignedIn:
    return request[ME]


def _actor(request: web.Request) -> str:
    return f"counselor:{_me(request).counselor.id}"


def _id(request: web.Request) -> int | None:
    raw = request.match_info.get("id", "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _zone(services: Services, participant) -> ZoneInfo:
    return ZoneInfo(participant.timezone or services.settings.default_timezone)


def _stamp(services: Services, instant, zone: ZoneInfo | None = None) -> str:
    if instant is None:
        return ""
    return local_stamp(instant, (zone or ZoneInfo(services.settings.default_timezone)).key)


# --- signing in and out -----------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    """The link from /dashboard: a page with a Continue button. Opening it changes nothing, so
    a link preview or a prefetch can't use it up."""
    services = _services(request)
    token = request.match_info["token"]
    async with services.sessionmaker() as session:
        state = await dashboard_db.login_token_state(session, token, services.now())
    if state != "usable":
        title, text = LINK_STATES[state]
        return message_page(request, 410 if state != "unknown" else 404, title, text)
    return page(request, "login.html", token=token)


async def login(request: web.Request) -> web.Response:
    """Continue: spends the link and starts a fresh session (a new id, whatever came before)."""
    services = _services(request)
    now = services.now()
    form = await request.post()
    token = form.get("token")
    name = cookie_name(services)
    async with services.sessionmaker.begin() as session:
        state = await dashboard_db.login_token_state(session, str(token or ""), now)
        counselor = await dashboard_db.use_login_token(session, str(token or ""), now)
        if counselor is not None:
            old = await dashboard_db.signed_in(session, request.cookies.get(name), now,
                                               timedelta(days=1))  # fmt: skip
            if old is not None:
                await dashboard_db.end_session(session, old.session_id, now)
            lifetime = timedelta(hours=services.settings.dashboard_session_hours)
            raw = await dashboard_db.start_session(session, counselor, now, lifetime)
            audit.record(session, now, f"counselor:{counselor.id}", "dashboard_signed_in")
    if counselor is None:
        title, text = LINK_STATES["unknown" if state == "usable" else state]
        return message_page(request, 410 if state in ("used", "expired") else 403, title, text)
    response = web.HTTPSeeOther("/")
    response.set_cookie(name, raw, path="/", httponly=True, samesite="Strict",
                        secure=services.settings.dashboard_cookie_secure)  # fmt: skip
    raise response


async def logout(request: web.Request) -> web.Response:
    services = _services(request)
    now = services.now()
    async with services.sessionmaker.begin() as session:
        await dashboard_db.end_session(session, _me(request).session_id, now)
        audit.record(session, now, _actor(request), "dashboard_signed_out")
    response = web.HTTPSeeOther("/signed-out")
    response.del_cookie(cookie_name(services), path="/")
    raise response


async def signed_out(request: web.Request) -> web.Response:
    return page(request, "signed_out.html", me=None, done=True)


# --- caseload ---------------------------------------------------------------------------------


async def caseload(request: web.Request) -> web.Response:
    """Home: one row per participant, the most urgent first."""
    services = _services(request)
    now = services.now()
    counselor = _me(request).counselor
    async with services.sessionmaker.begin() as session:
        participants = await people.caseload(session, counselor)
        ids = [p.id for p in participants]
        series = await reads.checkins_between(session, ids, now - timedelta(days=14),
                                              now + timedelta(seconds=1))  # fmt: skip
        last = await reads.last_answered(session, ids)
        levels = await reads.open_levels(session, ids)
        audit.record(session, now, _actor(request), "caseload_viewed", None,
                     {"participants": ids, "via": "dashboard"})  # fmt: skip
    week = now - timedelta(days=7)
    rows = caseload_rows.ordered(
        [
            caseload_rows.CaseloadRow(
                participant_id=p.id,
                name=p.first_name or "",
                status=p.status,
                day=safety.days_in_recovery(services, p, now),
                open_level=caseload_rows.highest(levels.get(p.id, [])),
                last_answered_at=last.get(p.id),
                answered_7d=sum(1 for c, _ in series[p.id]
                                if c.status == "completed" and c.slot_at >= week),
                moods=tuple(int(a["mood"]) for _, a in series[p.id] if "mood" in a),
                cravings=tuple(int(a["craving"]) for _, a in series[p.id] if "craving" in a),
                next_checkin_at=p.next_checkin_at,
            )  # fmt: skip
            for p in participants
        ],
        now,
    )
    zones = {p.id: _zone(services, p) for p in participants}
    shown = [
        {
            "row": row,
            "since": caseload_rows.days_since(row, now),
            "last": _stamp(services, row.last_answered_at, zones[row.participant_id]),
            "next": _stamp(services, row.next_checkin_at, zones[row.participant_id]),
            "mood": render.arrow(row.moods),
            "craving": render.arrow(row.cravings),
        }
        for row in rows
    ]
    return page(request, "caseload.html", rows=shown)


# --- alerts -----------------------------------------------------------------------------------


async def inbox(request: web.Request) -> web.Response:
    services = _services(request)
    now = services.now()
    async with services.sessionmaker.begin() as session:
        items = await reads.inbox(session, _me(request).counselor)
        audit.record(session, now, _actor(request), "flags_viewed", None,
                     {"alerts": [i.alert.id for i in items],
                      "participants": sorted({i.alert.participant_id for i in items}),
                      "via": "dashboard"})  # fmt: skip
    return page(request, "alerts.html", items=[_alert_view(services, i) for i in items])


def _alert_view(services: Services, item: reads.InboxItem, notice: str = "") -> dict:
    alert = item.alert
    return {
        "item": item,
        "opened": _stamp(services, alert.created_at),
        "told": [(t, _stamp(services, t.at)) for t in item.told],
        "escalated": alert.escalations,
        "notice": notice,
    }


async def alert_link(request: web.Request) -> web.Response:
    """The "Open in dashboard" link of an alert message: its card in the inbox."""
    services = _services(request)
    alert_id = _id(request)
    async with services.sessionmaker() as session:
        alert = await session.get(alert_db.Alert, alert_id) if alert_id else None
        visible = alert is not None and alert_db.can_act(_me(request).counselor, alert)
    if alert is None or not visible:
        return not_found(request)
    if alert.status not in alert_db.ACTIVE:
        raise web.HTTPSeeOther(f"/participants/{alert.participant_id}#alert-{alert.id}")
    raise web.HTTPSeeOther(f"/alerts#alert-{alert.id}")


async def acknowledge(request: web.Request) -> web.Response:
    return await _act(request, "acknowledge")


async def resolve(request: web.Request) -> web.Response:
    return await _act(request, "resolve")


async def _act(request: web.Request, action: str) -> web.Response:
    services = _services(request)
    alert_id = _id(request)
    if alert_id is None:
        return not_found(request)
    form = await request.post()
    counselor = _me(request).counselor
    if action == "acknowledge":
        outcome = await actions.acknowledge(services, request.app[BOT], counselor, alert_id)
    else:
        note = str(form.get("note") or "")
        outcome = await actions.resolve(services, request.app[BOT], counselor, alert_id, note)
    if outcome.kind == "not_found" or outcome.item is None:  # an item with every other kind
        return not_found(request)
    notice = actions.NOTICES[outcome.kind]
    if request.headers.get("HX-Request") == "true":
        # htmx swaps the alert's card in place with what it now says (a note still needed
        # included: htmx swaps only 2xx answers).
        return page(request, "_alert.html", view=_alert_view(services, outcome.item, notice))
    if outcome.kind == "needs_note":
        return message_page(request, 400, "A note is needed", notice)
    raise web.HTTPSeeOther(f"/alerts#alert-{alert_id}")


# --- a participant ----------------------------------------------------------------------------


async def participant(request: web.Request) -> web.Response:
    """One participant's last 30 days and their record; every view is in the audit log."""
    services = _services(request)
    catalog = services.program_catalog
    now = services.now()
    counselor = _me(request).counselor
    participant_id = _id(request)
    async with services.sessionmaker.begin() as session:
        found = (
            await reads.visible_participant(session, counselor, participant_id)
            if participant_id is not None
            else None
        )
        if found is None:
            return not_found(request)
        record = await records.load(session, found)
        shared = record.plan if plans.has_content(record.plan) else None
        if shared is not None and not shared.share_with_counselor:
            shared = None
        audit.record(session, now, _actor(request), "participant_viewed",
                     f"participant:{found.id}", {"via": "dashboard", "plan": shared is not None})
    zone = _zone(services, found)
    since = now - timedelta(days=CHART_DAYS)
    answers: dict[int, dict[str, str]] = {}
    for answer in record.answers:
        answers.setdefault(answer.checkin_id, {})[answer.question_key] = answer.value
    recent = [(c, answers.get(c.id, {})) for c in record.checkins
              if since <= c.slot_at <= now and c.status in ("completed", "missed", "sent")]
    points = points_from(recent, zone)
    today = now.astimezone(zone).date()
    timeline = [
        {
            "when": _stamp(services, c.slot_at, zone),
            "status": c.status,
            "answers": [_answer(catalog, k, v) for k, v in a.items()],
            # The core answers in one line; every question and answer under it.
            "brief": "; ".join(": ".join(_answer(catalog, k, a[k], short=True))
                               for k in BRIEF if k in a),
        }
        for c, a in reversed(recent)
    ]  # fmt: skip
    summary = {
        "answered": sum(1 for c, _ in recent if c.status == "completed"),
        "missed": sum(1 for p in points if p.missed),
        "lapses": sum(1 for p in points if p.lapse),
        "mood": render.arrow([p.mood for p in points if p.mood is not None]),
        "craving": render.arrow([p.craving for p in points if p.craving is not None]),
    }
    names: dict[int | None, str] = {c.id: c.name for c in record.counselors.values()}
    return page(
        request,
        "participant.html",
        p=found,
        day=safety.days_in_recovery(services, found, now),
        chart=trend_svg(points, today - timedelta(days=CHART_DAYS), today),
        summary=summary,
        timeline=timeline,
        # Free text they wrote is kept for their counselor, under their enrollment consent.
        notes=[(_stamp(services, n.created_at, zone), n.text) for n in reversed(record.notes)]
        if found.consent_version else [],
        attendance=[(_stamp(services, a.occurrence_at, zone), a.answer or "not answered")
                    for a in reversed(record.attendance)][:30],
        meetings={m.id: m.name for m in record.meetings},
        medications=[(m, sum(1 for d in record.doses if d.medication_id == m.id
                             and d.answer == "taken" and d.due_at >= since),
                      sum(1 for d in record.doses if d.medication_id == m.id
                          and d.due_at >= since and d.due_at <= now))
                     for m in record.medications],
        plan=shared,
        alerts=[(a, _stamp(services, a.created_at), names.get(a.acknowledged_by),
                 names.get(a.resolved_by)) for a in reversed(record.alerts)],
        consents=[(c, _stamp(services, c.expires_at)) for c in reversed(record.consents)],
        consented=_stamp(services, found.consented_at, zone),
        next_checkin=_stamp(services, found.next_checkin_at, zone),
    )  # fmt: skip


BRIEF = ("mood", "craving", "use")


def _answer(catalog, key: str, value: str, short: bool = False) -> tuple[str, str]:
    """(the question, the answer) as text: the summary label when short, else the prompt."""
    question = catalog.questions.get(key)
    if question is None:
        return key, value
    label = question.summary_label if short else question.prompt
    return strip_html(label), strip_html(question.answer_label(value))


# --- program figures (admins) ---------------------------------------------------------------


async def _figures(request: web.Request) -> list[figures.Table] | None:
    services = _services(request)
    if not _me(request).counselor.is_admin:
        return None
    async with services.sessionmaker() as session:
        rows = await reads.program_rows(session, services.now())
    return figures.tables(rows, services.now(), services.settings.escalation_timeouts())


async def program(request: web.Request) -> web.Response:
    tables = await _figures(request)
    if tables is None:
        return message_page(request, 403, "For admins",
                            "Program figures are for the program's admins.")  # fmt: skip
    return page(request, "program.html", tables=tables)


async def export(request: web.Request) -> web.StreamResponse:
    """One figure as CSV; every export is in the audit log."""
    services = _services(request)
    tables = await _figures(request)
    if tables is None:
        return message_page(request, 403, "For admins",
                            "Program figures are for the program's admins.")  # fmt: skip
    chosen = next((t for t in tables if t.name == request.match_info["figure"]), None)
    if chosen is None:
        return not_found(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(chosen.header)
    writer.writerows([figures.csv_cell(v) for v in row] for row in chosen.rows)
    now = services.now()
    async with services.sessionmaker.begin() as session:
        audit.record(session, now, _actor(request), "figures_exported", None,
                     {"figure": chosen.name, "rows": len(chosen.rows)})  # fmt: skip
    filename = f"aftercare-{chosen.name}-{now.date().isoformat()}.csv"
    return web.Response(
        text=out.getvalue(), content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )  # fmt: skip


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login/{token}", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/signed-out", signed_out)
    app.router.add_get("/", caseload)
    app.router.add_get("/alerts", inbox)
    app.router.add_get("/alerts/{id}", alert_link)
    app.router.add_post("/alerts/{id}/acknowledge", acknowledge)
    app.router.add_post("/alerts/{id}/resolve", resolve)
    app.router.add_get("/participants/{id}", participant)
    app.router.add_get("/program", program)
    app.router.add_get("/program/{figure}.csv", export)
