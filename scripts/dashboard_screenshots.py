"""Screenshots of the dashboard for docs/dashboard.md (run by hand, not by the test suite):

    .venv/bin/python scripts/dashboard_screenshots.py

Builds a month of made-up check-ins with the real bot against the local Bot API server, on a
throwaway SQLite database, then signs in through /dashboard in headless chromium and saves
docs/images/dashboard-{caseload,alerts,participant,program}.png."""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.runner import migrate  # noqa: E402
from messages.html import strip_html  # noqa: E402
from tests.dashboard import dashboard_bot, login_link  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.harness import Clock, enroll_participant, register_counselor  # noqa: E402
from tests.test_dashboard_browser import ARGS, CHROMIUM  # noqa: E402

OUT = ROOT / "docs" / "images"
START = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)  # 09:00 in New York
DAYS = 30
# name -> (answers most days, mood range, craving range, lapse on these days)
PEOPLE = {
    "Sam": (0.9, (2, 4), (3, 9), {22}),
    "Maya": (0.95, (3, 5), (0, 4), set()),
    "Jordan": (0.5, (2, 4), (2, 6), set()),
    "Alex": (0.85, (3, 5), (1, 5), set()),
    "Priya": (0.8, (2, 5), (2, 7), set()),
}


async def answer(person, mood: int, craving: int, use: str) -> None:
    """Answer the check-in now asked: mood, craving and use as given, the rest the first way."""
    chosen = {"How is your mood": str(mood), "How strong are your cravings": str(craving),
              "Have you used": use}  # fmt: skip
    for _ in range(10):
        last = person.last()
        keyboard = (last.get("reply_markup") or {}).get("inline_keyboard")
        if not keyboard:
            return
        text = strip_html(last["text"])
        labels = [b["text"] for row in keyboard for b in row]
        # Anything else: "No" where it is offered (the safety questions), else the first.
        value = next((v for k, v in chosen.items() if k in text),
                     "No" if "No" in labels else labels[0])  # fmt: skip
        await person.press(value, last)


async def build(bot, clock, rng: random.Random):
    ada = await register_counselor(bot, 1000, "Ada", admin=True)
    dana = await register_counselor(bot, 1001, "Dana")
    omar = await register_counselor(bot, 1002, "Omar")
    people = {}
    for number, name in enumerate(PEOPLE):
        counselor = omar if name == "Priya" else dana
        people[name] = await enroll_participant(bot, counselor, 2001 + number, name)
    for day in range(1, DAYS + 1):
        clock.set(START + timedelta(days=day, minutes=1))  # just after 09:00 in New York
        await bot.tick()
        for name, person in people.items():
            answers, moods, cravings, lapses = PEOPLE[name]
            if rng.random() > answers:
                continue
            trend = day / DAYS if name == "Sam" else 0.5
            mood = round(moods[1] - trend * (moods[1] - moods[0]) + rng.uniform(-0.5, 0.5))
            craving = round(cravings[0] + trend * (cravings[1] - cravings[0]) + rng.uniform(-1, 1))
            mood = min(5, max(1, mood))
            craving = min(10, max(0, craving))
            await answer(person, mood, craving, "Yes" if day in lapses else "No")
        await bot.dispatch()
        # Most alerts are acknowledged within a few hours; the last days' are left open.
        if day < DAYS - 2:
            for counselor in (dana, omar):
                for message in counselor.messages():
                    markup = (message.get("reply_markup") or {}).get("inline_keyboard") or []
                    if any(b["text"] == "Acknowledge" for row in markup for b in row):
                        clock.advance(minutes=rng.choice((4, 9, 12, 25, 40, 75, 130, 300)))
                        await counselor.press("Acknowledge", message)
        clock.set(START + timedelta(days=day, hours=7))
        await bot.sweep()
        await bot.dispatch()
    await people["Maya"].say("I feel like I can't keep going")
    await bot.dispatch()
    return ada, dana


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/screenshots.db"
        await migrate(url)
        token = "123456:SHOTS-local"  # noqa: S105 - the local server only
        async with FakeTelegram(token=token, bot_username="aftercare_bot") as tg:
            clock = Clock(START)
            async with dashboard_bot(tg, url, clock) as (bot, base):
                ada, dana = await build(bot, clock, rng)
                from playwright.async_api import async_playwright

                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(
                        executable_path=CHROMIUM, headless=True, args=ARGS
                    )
                    for who, shots in ((dana, ("caseload", "alerts", "participant")),
                                       (ada, ("program",))):  # fmt: skip
                        context = await browser.new_context(viewport={"width": 1200,
                                                                      "height": 800})
                        page = await context.new_page()
                        await page.goto(await login_link(who))
                        await page.get_by_role("button", name="Continue").click()
                        await page.wait_for_url(base + "/")
                        for shot in shots:
                            if shot == "alerts":
                                await page.goto(base + "/alerts")
                            elif shot == "participant":
                                await page.goto(base + "/")
                                await page.get_by_role("link", name="Sam").click()
                            elif shot == "program":
                                await page.goto(base + "/program")
                            path = OUT / f"dashboard-{shot}.png"
                            await page.screenshot(path=str(path), full_page=True)
                            print(path.relative_to(ROOT))
                        await context.close()
                    await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
