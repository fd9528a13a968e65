"""A strict local Telegram Bot API server (a fake Telegram) that the real python-telegram-bot
talks to with only its `base_url` changed: the integration tests, `aftercare demo`, `make bench`
and an operator trying the bot offline (`aftercare fake-telegram --port 8081`) all use it.
server.py is the server (validated against spec/bot-api.json, with fault injection and rate
limits); console.py runs it on its own, with a console to write as a user. It may import the
standard library and aiohttp only: nothing of ours and not python-telegram-bot, so that it
stays an independent stand-in for Telegram rather than a mirror of the code it tests."""

from fake_telegram.server import (
    DEFAULT_SPEC_PATH,
    DEFAULT_TOKEN,
    ApiError,
    BotApiSpec,
    EntityParseError,
    FakeTelegram,
    FakeUser,
    UploadedFile,
    WaitTimeout,
    parse_html,
)

__all__ = [
    "DEFAULT_SPEC_PATH",
    "DEFAULT_TOKEN",
    "ApiError",
    "BotApiSpec",
    "EntityParseError",
    "FakeTelegram",
    "FakeUser",
    "UploadedFile",
    "WaitTimeout",
    "parse_html",
]
