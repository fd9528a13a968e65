"""The dashboard's aiohttp application: security headers on every response, the session
behind the cookie, a synchronizer CSRF token on every POST, and the routes. It runs in the
bot's own event loop (start and stop; bot/runner.start_servers starts it)."""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from telegram import Bot

from care.services import Services
from db import dashboard as dashboard_db

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SERVICES = web.AppKey("services", Services)
BOT = web.AppKey("bot", Bot)
# The request's signed-in counselor (RequestKey where aiohttp has it).
ME = web.RequestKey("me", dashboard_db.SignedIn) if hasattr(web, "RequestKey") else "me"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Reachable without a session: the sign-in link, its Continue, the static files, signed out.
PUBLIC_PREFIXES = ("/login", "/static/", "/signed-out")


def cookie_name(services: Services) -> str:
    # __Host- makes the browser refuse the cookie unless Secure, path=/ and no Domain.
    return "__Host-aftercare" if services.settings.dashboard_cookie_secure else "aftercare"


def page(request: web.Request, template: str, status: int = 200, **context) -> web.Response:
    context.setdefault("me", request.get(ME))
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def message_page(request: web.Request, status: int, title: str, text: str) -> web.Response:
    return page(request, "message.html", status=status, title=title, text=text)


def not_found(request: web.Request) -> web.Response:
    return message_page(request, 404, "Not found",
                        "There is nothing here that you can see. The caseload lists your "
                        "participants.")  # fmt: skip


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


def _same_origin(request: web.Request, services: Services) -> bool:
    """A POST must come from the dashboard's own pages. Browsers send Origin with POSTs, but
    "null" under Referrer-Policy: no-referrer; then Sec-Fetch-Site tells. A request with
    neither (not a browser) still needs its CSRF token, as every POST does."""
    origin = request.headers.get("Origin")
    if origin in (None, "null"):
        return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")
    base = urlsplit(services.settings.dashboard_url or "")
    return origin == f"{base.scheme}://{base.netloc}"


@web.middleware
async def sessions(request: web.Request, handler):
    """Every page but the public ones needs a live session; every POST its CSRF token."""
    services = request.app[SERVICES]
    if request.method == "POST" and not _same_origin(request, services):
        return message_page(request, 403, "Not allowed", "That form came from another site.")
    if request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    raw = request.cookies.get(cookie_name(services))
    idle = services.settings.dashboard_idle_minutes
    async with services.sessionmaker.begin() as session:
        signed = await dashboard_db.signed_in(session, raw, services.now(), timedelta(minutes=idle))
    if signed is None:
        if request.method == "POST":
            return message_page(request, 403, "Signed out",
                                "You're not signed in, so nothing was changed. Send /dashboard "
                                "to the bot in Telegram for a sign-in link.")  # fmt: skip
        response = page(request, "signed_out.html", status=401)
        if raw:
            response.del_cookie(cookie_name(services), path="/")
        return response
    request[ME] = signed
    if request.method == "POST":
        form = await request.post()
        sent = form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
        if not isinstance(sent, str) or not hmac.compare_digest(sent, signed.csrf):
            return message_page(request, 403, "Not allowed",
                                "This form has expired, so nothing was changed. Please go back, "
                                "reload the page and try again.")  # fmt: skip
    return await handler(request)


def build_app(services: Services, bot: Bot) -> web.Application:
    from bot.dashboard import pages

    app = web.Application(middlewares=[sessions], client_max_size=64 * 1024)
    app[SERVICES] = services
    app[BOT] = bot
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    app.on_response_prepare.append(_headers)
    pages.add_routes(app)
    app.router.add_static("/static/", HERE / "static", append_version=True)
    return app


async def start(services: Services, bot: Bot) -> web.AppRunner:
    """Serve the dashboard at DASHBOARD_LISTEN in the running event loop."""
    host, port = services.settings.dashboard_address
    runner = web.AppRunner(build_app(services, bot), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("dashboard listening on %s:%s", host, port)
    return runner


async def stop(runner: web.AppRunner) -> None:
    await runner.cleanup()
