"""Webhook mode (WEBHOOK_URL): Telegram POSTs each update to us instead of being polled.

Telegram does not sign updates; it sends the secret we gave setWebhook in the
X-Telegram-Bot-Api-Secret-Token header. A request without that exact secret gets 403 before
anything is read, stored or handled. Accepted updates go onto the Application's update queue,
the same way polled ones do, so the gate and the durable store treat them alike.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application

from bot.app import stop_application
from bot.gate import is_ours
from db import inbound
from db.poller_lock import LOST

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
DEFAULT_PATH = "/telegram"
MAX_BODY = 1024 * 1024  # Telegram's updates are far smaller; anything bigger is not from it


def path_of(webhook_url: str) -> str:
    """Where the server listens: the public URL's path (behind a proxy it is the same)."""
    return urlsplit(webhook_url).path or DEFAULT_PATH


def webhook_app(application: Application, secret: str, path: str = DEFAULT_PATH) -> web.Application:
    """An aiohttp app with one route: POST `path`, checked against `secret`."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            # Logged without the header's value: a near miss may be the real secret mistyped.
            log.warning("webhook: refused a request from %s without the secret", request.remote)
            return web.Response(status=403, text="Forbidden")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            return web.Response(status=400, text="Bad Request")
        if not is_ours(update):  # a group's or a channel's: not stored; the gate drops it
            await application.update_queue.put(update)
            return web.Response(text="OK")
        # Stored before Telegram hears OK: if the database is down, a 503 makes Telegram
        # deliver the update again later, instead of it being lost here.
        services = application.bot_data["services"]
        try:
            async with services.sessionmaker.begin() as session:
                fresh = await inbound.store_new(session, update.update_id, data, services.now())
        except (*LOST, SQLAlchemyError) as exc:
            log.warning("webhook: can't store update %s (%s); Telegram will send it again",
                        update.update_id, type(exc).__name__)  # fmt: skip
            return web.Response(status=503, text="Service Unavailable")
        if fresh:
            await application.update_queue.put(update)
        return web.Response(text="OK")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    return app


async def start_server(
    application: Application, secret: str, listen: str, port: int, path: str = DEFAULT_PATH
) -> web.AppRunner:
    """Serve the webhook; the caller cleans the returned runner up (port 0: any free port)."""
    runner = web.AppRunner(webhook_app(application, secret, path), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, listen, port).start()
    return runner


async def serve(
    application: Application,
    *,
    url: str,
    secret: str,
    listen: str,
    port: int,
    stop: asyncio.Event,
) -> None:
    """Run the bot on the webhook until `stop` is set: start the Application (post_init
    included), listen, tell Telegram where we are and the secret, then shut down in order."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    runner = await open_webhook(application, url=url, secret=secret, listen=listen, port=port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await stop_application(application)


async def open_webhook(
    application: Application, *, url: str, secret: str, listen: str, port: int
) -> web.AppRunner:
    """Listen, then tell Telegram where we are and the secret. Every worker behind the proxy
    does this; setting the same webhook again changes nothing."""
    runner = await start_server(application, secret, listen, port, path_of(url))
    await application.bot.set_webhook(
        url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES
    )
    log.info("webhook set; listening on %s:%s%s", listen, port, path_of(url))
    return runner
