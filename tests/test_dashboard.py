"""The dashboard over real HTTP: signing in through /dashboard in Telegram, sessions and their
ends, the security headers, CSRF, who may see what, and the alert actions reaching the
counselor's Telegram chat. The browser tests (test_dashboard_browser.py) walk the same paths
in chromium."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from yarl import URL

from db.models import Alert, AuditEvent, Counselor, DashboardLoginToken, DashboardSession
from messages.html import strip_html
from tests.dashboard import (
    client,
    continue_login,
    csrf_of,
    dashboard_bot,
    login_link,
    signed_in,
)
from tests.harness import check_in, enroll_participant, register_counselor


@pytest.fixture
async def dash(tg, db_url, clock):
    async with dashboard_bot(tg, db_url, clock) as running:
        yield running


async def world(bot):
    """Dana with Sam (who pressed /sos), Omar with Lee; the alerts delivered."""
    dana = await register_counselor(bot, 1001, "Dana")
    omar = await register_counselor(bot, 1002, "Omar")
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    lee = await enroll_participant(bot, omar, 2002, "Lee")
    await sam.say("/sos")
    await lee.say("/sos")
    await bot.dispatch()
    return dana, omar, sam, lee


async def alerts_of(bot) -> dict[int, Alert]:
    async with bot.sessionmaker() as session:
        return {a.participant_id: a for a in await session.scalars(select(Alert))}


async def audit_actions(bot) -> list[tuple[str, str | None]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.subject).order_by(AuditEvent.id)
        )
        return [tuple(r) for r in rows]


async def test_dashboard_link_then_continue_signs_in_to_the_caseload(dash, tg):
    bot, base = dash
    dana, omar, sam, lee = await world(bot)
    link = await login_link(dana)
    [call] = [c for c in tg.calls("sendMessage") if "/login/" in c.get("text", "")]
    assert call["link_preview_options"] == {"is_disabled": True}
    assert call["parse_mode"] == "HTML"
    assert len(link.rsplit("/", 1)[1]) >= 32  # 192 random bits, url-safe base64

    async with client() as http:
        async with http.get(link) as opened:  # opening (a preview, a prefetch) signs nobody in
            assert opened.status == 200 and "Continue" in await opened.text()
            assert not http.cookie_jar.filter_cookies(base)
            assert opened.headers["Cache-Control"] == "no-store"
            assert opened.headers["Referrer-Policy"] == "no-referrer"
            assert "default-src 'none'" in opened.headers["Content-Security-Policy"]
        async with bot.sessionmaker() as session:
            [token] = (await session.scalars(select(DashboardLoginToken))).all()
            assert token.used_at is None and link.rsplit("/", 1)[1] not in token.token_hash
        response = await continue_login(http, link)
        page = await response.text()
        assert response.status == 200 and str(response.url) == base + "/"
        assert "Sam" in page and "Lee" not in page
        cookie = response.history[0].headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Secure" not in cookie  # plain http:// only because it is loopback
    assert ("dashboard_signed_in", None) in await audit_actions(bot)


async def test_a_used_or_expired_link_gives_a_clear_page(dash, clock):
    bot, base = dash
    dana = await register_counselor(bot, 1001, "Dana")
    link = await login_link(dana)
    async with client() as http:
        await continue_login(http, link)
    async with client() as http:
        async with http.get(link) as again:
            assert again.status == 410 and "already used" in await again.text()
        token = link.rsplit("/", 1)[1]
        async with http.post(base + "/login", data={"token": token}) as replayed:
            assert replayed.status == 410 and not http.cookie_jar.filter_cookies(base)
    late = await login_link(dana)
    clock.advance(minutes=10, seconds=1)
    async with client() as http, http.get(late) as expired:
        assert expired.status == 410 and "expired" in await expired.text()
    async with client() as http, http.get(base + "/login/not-a-real-token") as unknown:
        assert unknown.status == 404 and "/dashboard" in await unknown.text()


async def test_post_without_csrf_is_403_and_changes_nothing(dash):
    bot, base = dash
    dana, omar, sam, lee = await world(bot)
    http = await signed_in(bot, dana, base)
    async with http:
        sam_alert = (await alerts_of(bot))[(await _participant_ids(bot))["Sam"]]
        url = f"{base}/alerts/{sam_alert.id}/acknowledge"
        async with http.post(url, data={}, headers={"Origin": base}) as refused:
            assert refused.status == 403 and "nothing was changed" in await refused.text()
        async with http.post(url, data={"csrf": "0" * 64}, headers={"Origin": base}) as forged:
            assert forged.status == 403
        csrf = await csrf_of(http, base + "/alerts")
        async with http.post(url, data={"csrf": csrf},
                             headers={"Origin": "https://evil.example"}) as cross:  # fmt: skip
            assert cross.status == 403
        assert (await alerts_of(bot))[sam_alert.participant_id].status == "open"


async def _participant_ids(bot) -> dict[str, int]:
    from db.models import Participant

    async with bot.sessionmaker() as session:
        return {p.first_name: p.id for p in await session.scalars(select(Participant))}


async def test_acknowledging_in_the_dashboard_updates_the_telegram_alert(dash, tg):
    bot, base = dash
    dana, omar, sam, lee = await world(bot)
    [alert_message] = [m for m in dana.messages() if "Crisis alert" in (m.get("text") or "")]
    assert "Open in dashboard" in alert_message["text"]
    [sent] = [c for c in tg.calls("sendMessage") if "Crisis alert: Sam" in c.get("text", "")]
    assert sent["link_preview_options"] == {"is_disabled": True}
    assert f'href="{base}/alerts/' in sent["text"]
    http = await signed_in(bot, dana, base)
    async with http:
        ids = await _participant_ids(bot)
        alert = (await alerts_of(bot))[ids["Sam"]]
        csrf = await csrf_of(http, base + "/alerts")
        async with http.post(f"{base}/alerts/{alert.id}/acknowledge", data={"csrf": csrf},
                             headers={"Origin": base, "HX-Request": "true"}) as done:  # fmt: skip
            card = await done.text()
            assert done.status == 200 and "Acknowledged by Dana" in card
        edited = next(m for m in dana.messages() if m["message_id"] == alert_message["message_id"])
        assert "Acknowledged by Dana" in strip_html(edited["text"])
        labels = [b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["Resolve", "History"]
        # Lee's alert is Omar's: 404, and unchanged.
        lee_alert = (await alerts_of(bot))[ids["Lee"]]
        async with http.post(f"{base}/alerts/{lee_alert.id}/resolve",
                             data={"csrf": csrf, "note": "x"}, headers={"Origin": base}) as other:
            assert other.status == 404
        async with http.post(f"{base}/alerts/{alert.id}/resolve", data={"csrf": csrf, "note": " "},
                             headers={"Origin": base}) as empty:  # fmt: skip
            assert empty.status == 400
        async with http.post(f"{base}/alerts/{alert.id}/resolve", data={"csrf": csrf, "note": " "},
                             headers={"Origin": base, "HX-Request": "true"}) as blank:  # fmt: skip
            assert blank.status == 200 and "Please write a short note" in await blank.text()
        assert (await alerts_of(bot))[ids["Sam"]].status == "acknowledged"
        async with http.post(f"{base}/alerts/{alert.id}/resolve",
                             data={"csrf": csrf, "note": "Called Sam; safe at home."},
                             headers={"Origin": base}) as resolved:  # fmt: skip
            assert resolved.status == 200
    alerts = await alerts_of(bot)
    assert alerts[ids["Sam"]].status == "resolved"
    assert alerts[ids["Sam"]].resolution_note == "Called Sam; safe at home."
    assert alerts[ids["Lee"]].status == "open"
    edited = next(m for m in dana.messages() if m["message_id"] == alert_message["message_id"])
    assert "Resolved by Dana" in strip_html(edited["text"])


async def test_another_counselors_participant_is_404_and_views_are_audited(dash):
    bot, base = dash
    dana, omar, sam, lee = await world(bot)
    await check_in(sam, mood="4", craving="3")
    await sam.say("Went for a long walk & felt <better>")
    ids = await _participant_ids(bot)
    http = await signed_in(bot, dana, base)
    async with http:
        async with http.get(f"{base}/participants/{ids['Sam']}") as mine:
            page = await mine.text()
            assert mine.status == 200 and "Sam" in page
            # The timeline: each question and answer; what they wrote, escaped.
            assert "How is your mood today?" in page and "Cravings: 3/10" in page
            assert "Went for a long walk &amp; felt &lt;better&gt;" in page
            assert 'role="img"' in page and 'id="chart-summary"' in page
        for path in (f"/participants/{ids['Lee']}", "/participants/99999", "/participants/x"):
            async with http.get(base + path) as other:
                assert other.status == 404 and "Lee" not in await other.text()
        lee_alert = (await alerts_of(bot))[ids["Lee"]]
        async with http.get(f"{base}/alerts/{lee_alert.id}") as link:
            assert link.status == 404
        async with http.get(base + "/program") as program:
            assert program.status == 403
        async with http.get(base + "/program/caseload.csv") as export:
            assert export.status == 403
    viewed = [a for a in await audit_actions(bot) if a[0] == "participant_viewed"]
    assert viewed == [("participant_viewed", f"participant:{ids['Sam']}")]


async def test_admins_see_program_figures_and_every_export_is_audited(dash):
    bot, base = dash
    await world(bot)
    ada = await register_counselor(bot, 1003, "Ada", admin=True)
    http = await signed_in(bot, ada, base)
    async with http:
        async with http.get(base + "/") as everyone:
            page = await everyone.text()
            assert "Sam" in page and "Lee" in page
        async with http.get(base + "/program") as program:
            assert program.status == 200 and "Time to acknowledge" in await program.text()
        async with http.get(base + "/program/caseload.csv") as export:
            assert export.headers["Content-Type"].startswith("text/csv")
            lines = (await export.text()).splitlines()
        assert lines == ["counselor,active,paused,other,total", "Dana,1,0,0,1", "Omar,1,0,0,1"]
        async with http.get(base + "/program/nothing.csv") as missing:
            assert missing.status == 404
    assert ("figures_exported", None) in await audit_actions(bot)


async def test_logout_ends_the_session(dash):
    bot, base = dash
    dana = await register_counselor(bot, 1001, "Dana")
    http = await signed_in(bot, dana, base)
    async with http:
        cookie = {c.key: c.value for c in http.cookie_jar}
        csrf = await csrf_of(http, base + "/")
        async with http.post(base + "/logout", data={"csrf": csrf},
                             headers={"Origin": base}) as out:  # fmt: skip
            assert out.status == 200 and "signed out" in await out.text()
        async with http.get(base + "/") as after:
            assert after.status == 401
    async with client() as replay:  # the old cookie, kept by someone, is dead too
        replay.cookie_jar.update_cookies(cookie, response_url=URL(base))
        assert replay.cookie_jar.filter_cookies(URL(base))
        async with replay.get(base + "/") as dead:
            assert dead.status == 401


async def test_sessions_end_when_idle_at_their_limit_on_logout_everywhere_and_removal(dash, clock):
    bot, base = dash
    dana = await register_counselor(bot, 1001, "Dana")
    http = await signed_in(bot, dana, base)
    async with http:
        clock.advance(minutes=29)
        async with http.get(base + "/") as alive:
            assert alive.status == 200
        clock.advance(minutes=30)
        async with http.get(base + "/") as idle:
            assert idle.status == 401
    http = await signed_in(bot, dana, base)
    async with http:
        for _ in range(12 * 3):  # busy all day: every 20 minutes for 12 hours
            clock.advance(minutes=20)
            async with http.get(base + "/") as page:
                status = page.status
        assert status == 401
    first, second = await signed_in(bot, dana, base), await signed_in(bot, dana, base)
    async with first, second:
        await dana.say("/dashboard logout")
        assert "2 sessions ended" in dana.last_text()
        for http in (first, second):
            async with http.get(base + "/") as page:
                assert page.status == 401
    http = await signed_in(bot, dana, base)
    async with http:
        async with bot.sessionmaker.begin() as session:
            await session.execute(update(Counselor).values(active=False))
        async with http.get(base + "/") as removed:
            assert removed.status == 401
    async with bot.sessionmaker() as session:
        sessions = (await session.scalars(select(DashboardSession))).all()
        assert all(s.ended_at is not None for s in sessions)


async def test_dashboard_command_when_off_and_for_non_counselors(bot):
    dana = await register_counselor(bot, 1001, "Dana")
    await dana.say("/dashboard")
    assert "isn't set up" in dana.last_text()
    stranger = bot.person(3001, "Robin")
    await stranger.say("/dashboard")
    assert "/login/" not in stranger.last_text() and "988" in stranger.last_text()
    async with bot.sessionmaker() as session:
        assert not (await session.scalars(select(DashboardLoginToken))).all()
    await dana.say("/help")
    assert "/dashboard" in dana.last_text()


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        (None, None),
        ("https://care.example.org/dashboard/", "https://care.example.org/dashboard"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://care.example.org", False),  # cookies and records over plain http: refused
        ("ftp://care.example.org", False),
        ("care.example.org", False),
    ],
)
def test_dashboard_url_must_be_https_except_on_loopback(url, accepted):
    from pydantic import ValidationError

    from config.settings import Settings

    if accepted is False:
        with pytest.raises(ValidationError, match="DASHBOARD_URL"):
            Settings(_env_file=None, dashboard_url=url)
        return
    settings = Settings(_env_file=None, dashboard_url=url)
    assert settings.dashboard_url == accepted
    assert settings.dashboard_cookie_secure == (accepted is None or accepted.startswith("https"))


async def test_the_bot_starts_and_stops_the_dashboard_in_its_own_loop(tg, db_url, clock):
    import aiohttp

    from bot.runner import start_servers
    from tests.dashboard import free_port
    from tests.harness import BotHarness

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    harness = BotHarness(tg, db_url, clock, dashboard_url=base,
                         dashboard_listen=f"127.0.0.1:{port}",
                         status_listen=f"127.0.0.1:{free_port()}")  # fmt: skip
    app = harness.build()
    servers = await start_servers(app, app.bot_data["services"])  # what `aftercare run` does
    try:
        async with client() as http, http.get(base + "/signed-out") as page:
            assert page.status == 200 and "signed out" in await page.text()
    finally:
        for started in servers:
            await started.cleanup()
        await app.bot_data["services"].engine.dispose()
    async with client() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(base + "/signed-out")


async def test_with_no_dashboard_url_nothing_is_served(tg, db_url, clock):
    from bot.runner import start_servers
    from tests.dashboard import free_port
    from tests.harness import BotHarness

    app = BotHarness(tg, db_url, clock, status_listen=f"127.0.0.1:{free_port()}").build()
    servers = await start_servers(app, app.bot_data["services"])
    try:
        assert len(servers) == 1  # the status server alone
    finally:
        for started in servers:
            await started.cleanup()
        await app.bot_data["services"].engine.dispose()
