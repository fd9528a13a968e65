"""The dashboard in tests: the real bot with its dashboard served on a free loopback port, a
counselor's sign-in through /dashboard in Telegram, and an HTTP client that keeps cookies.

async with dashboard_bot(tg, db_url, clock) as (bot, base):
    dana = await register_counselor(bot)
    client = await signed_in(bot, dana, base)   # /dashboard, open the link, Continue
    page = await client.get(base + "/")
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from bot.dashboard import server
from tests.cli import free_port
from tests.harness import BotHarness, Person

LINK = re.compile(r"https?://\S+/login/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')




@asynccontextmanager
async def dashboard_bot(tg, db_url, clock, **settings) -> AsyncIterator[tuple[BotHarness, str]]:
    """The bot with its dashboard on, and the dashboard's base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with BotHarness(tg, db_url, clock, dashboard_url=base,
                          dashboard_listen=f"127.0.0.1:{port}", **settings) as bot:  # fmt: skip
        runner = await server.start(bot.services, bot.app.bot)
        try:
            yield bot, base
        finally:
            await server.stop(runner)


async def login_link(counselor: Person) -> str:
    """/dashboard in Telegram; the one-time link it answers with."""
    await counselor.say("/dashboard")
    found = LINK.search(counselor.last_text())
    assert found, counselor.last_text()
    return found.group(0)


def client() -> aiohttp.ClientSession:
    # unsafe: keep cookies for an IP address host (127.0.0.1), as a browser does.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def continue_login(http: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    """Open the link, then press Continue (the form's POST) as a browser would."""
    async with http.get(link) as opened:
        assert opened.status == 200, await opened.text()
    token = link.rsplit("/", 1)[1]
    base = link.split("/login/")[0]
    return await http.post(base + "/login", data={"token": token}, headers={"Origin": base})


async def signed_in(bot: BotHarness, counselor: Person, base: str) -> aiohttp.ClientSession:
    http = client()
    response = await continue_login(http, await login_link(counselor))
    assert response.status == 200 and str(response.url) == base + "/", response.status
    return http


async def csrf_of(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as response:
        found = CSRF.search(await response.text())
    assert found, "no CSRF token on " + url
    return found.group(1)
