"""The dashboard in a real headless browser: Debian's chromium driven by Playwright, one
browser for the module, a fresh context (no cookies) per test. With CI=true these never skip;
without chromium they fail there (`.ci/run` installs it)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlalchemy import select

from db.models import Alert, Participant
from messages.html import strip_html
from tests.dashboard import dashboard_bot, login_link
from tests.databases import postgres_required
from tests.harness import Clock, enroll_participant, register_counselor

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
in_browser = pytest.mark.asyncio(loop_scope="module")
pytestmark = in_browser


def _chromium_or_skip() -> None:
    if shutil.which(CHROMIUM) is None:
        message = f"chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if postgres_required():  # CI=true: browser tests must run
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    _chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                    args=ARGS)  # fmt: skip
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser):
    context = await browser.new_context()
    opened = await context.new_page()
    opened.dialogs = []  # any alert() that ran: there must be none
    opened.on("dialog", lambda dialog: opened.dialogs.append(dialog.message))
    refused = []  # anything the Content-Security-Policy blocked: our pages need nothing of it
    opened.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    yield opened
    await context.close()
    assert refused == []


@pytest_asyncio.fixture(loop_scope="module")
async def dash(db_url):
    from tests.fake_telegram import FakeTelegram

    async with FakeTelegram(token="123456:BROWSER-secret", bot_username="aftercare_test_bot") as tg:
        clock = Clock(datetime(2026, 1, 5, 14, 0, tzinfo=UTC))
        async with dashboard_bot(tg, db_url, clock) as (bot, base):
            yield bot, base, clock


async def caseload_of(page, counselor) -> None:
    """/dashboard in Telegram, open the link, press Continue: the caseload."""
    await page.goto(await login_link(counselor))
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/")


async def test_dashboard_link_continue_caseload_and_a_script_name_is_text(dash, page):
    bot, base, _ = dash
    dana = await register_counselor(bot, 1001, "Dana")
    await enroll_participant(bot, dana, 2001, "<script>alert(1)</script>")
    await enroll_participant(bot, dana, 2002, "Sam")
    await caseload_of(page, dana)
    assert await page.get_by_role("heading", level=1).inner_text() == "Your caseload (2)"
    cell = page.get_by_role("link", name="<script>alert(1)</script>")
    assert await cell.count() == 1  # shown as the text it is
    # On a phone the page itself never scrolls sideways (the table scrolls in its box).
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.keyboard.press("Tab")  # the skip link comes first, for keyboard users
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    await cell.click()
    await page.wait_for_url("**/participants/*")
    assert "<script>alert(1)</script>" in await page.get_by_role("heading", level=1).inner_text()
    assert await page.locator("svg.chart").count() == 1
    assert page.dialogs == []


async def test_acknowledge_and_resolve_in_the_browser_show_in_telegram(dash, page):
    bot, base, _ = dash
    dana = await register_counselor(bot, 1001, "Dana")
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    await sam.say("/sos")
    await bot.dispatch()
    [alert_message] = [m for m in dana.messages() if "Crisis alert" in (m.get("text") or "")]
    await caseload_of(page, dana)
    await page.get_by_role("link", name="Alerts").click()
    card = page.locator("article.alert")
    await card.get_by_role("button", name="Acknowledge").click()
    await card.get_by_text("Acknowledged. Escalation has stopped.").wait_for()
    edited = next(m for m in dana.messages() if m["message_id"] == alert_message["message_id"])
    assert "Acknowledged by Dana" in strip_html(edited["text"])
    labels = [b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row]
    assert "Acknowledge" not in labels

    await card.get_by_label("Resolution note").fill("Called Sam; safe at home tonight.")
    await card.get_by_role("button", name="Resolve").click()
    await page.locator("article.alert").get_by_text("Resolved, and your note is saved").wait_for()
    async with bot.sessionmaker() as session:
        alert = await session.scalar(select(Alert))
    assert alert.status == "resolved" and alert.resolution_note.startswith("Called Sam")
    edited = next(m for m in dana.messages() if m["message_id"] == alert_message["message_id"])
    assert "Resolved by Dana" in strip_html(edited["text"])


async def test_another_counselors_participant_is_404(dash, page):
    bot, base, _ = dash
    dana = await register_counselor(bot, 1001, "Dana")
    omar = await register_counselor(bot, 1002, "Omar")
    await enroll_participant(bot, omar, 2002, "Lee")
    async with bot.sessionmaker() as session:
        lee = await session.scalar(select(Participant))
    await caseload_of(page, dana)
    response = await page.goto(f"{base}/participants/{lee.id}")
    assert response.status == 404
    assert "Lee" not in await page.content()
    assert await page.get_by_role("heading", level=1).inner_text() == "Not found"


async def test_a_reused_or_expired_link_gives_a_clear_page(dash, page):
    bot, base, clock = dash
    dana = await register_counselor(bot, 1001, "Dana")
    link = await login_link(dana)
    await page.goto(link)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/")
    response = await page.goto(link)
    assert response.status == 410
    assert await page.get_by_role("heading", level=1).inner_text() == "This link was already used"
    late = await login_link(dana)
    clock.advance(minutes=11)
    await page.goto(late)
    assert await page.get_by_role("heading", level=1).inner_text() == "This link has expired"
    assert "/dashboard" in await page.inner_text("main")


async def test_a_post_without_its_csrf_token_is_403_and_changes_nothing(dash, page):
    bot, base, _ = dash
    dana = await register_counselor(bot, 1001, "Dana")
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    await sam.say("/sos")
    await bot.dispatch()
    await caseload_of(page, dana)
    await page.goto(base + "/alerts")
    form = page.locator("form[action$='/acknowledge']")
    # As a forged form would be: no token, and no htmx (a plain POST).
    await form.evaluate("f => { f.querySelector('[name=csrf]').remove(); "
                        "f.removeAttribute('hx-post'); htmx.process(document.body); }")
    async with page.expect_navigation():
        await form.evaluate("f => f.submit()")
    assert await page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    assert "nothing was changed" in await page.inner_text("main")
    async with bot.sessionmaker() as session:
        assert (await session.scalar(select(Alert))).status == "open"


async def test_logout_ends_the_session(dash, page):
    bot, base, _ = dash
    dana = await register_counselor(bot, 1001, "Dana")
    await caseload_of(page, dana)
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/signed-out")
    assert await page.get_by_role("heading", level=1).inner_text() == "You're signed out"
    response = await page.goto(base + "/")
    assert response.status == 401
    assert await page.get_by_role("heading", level=1).inner_text() == "Please sign in"
