"""One redaction layer for everything the process prints: log records at every level, the
tracebacks of uncaught exceptions, CLI warnings and errors.

It masks the secrets it was given (the bot token, WEBHOOK_SECRET, the database password, in
their raw and URL-encoded forms), anything shaped like a bot token (also inside /bot<token>/
URLs, where no word boundary sets it apart), and the password of any URL with credentials.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MASK = "[REDACTED]"
# A bot token is <bot id>:<secret>. No \b before it: in ".../bot123456:AA..." the "t1" joint
# is not a word boundary, so the token inside a Bot API URL would slip through.
TOKEN_SHAPE = re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{6,}")
URL_PASSWORD = re.compile(r"(?i)(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*):(?P<password>[^@/\s]+)@")
# The environment variables whose values are secrets, read before settings are validated so
# that even a configuration error can't echo one.
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET")
URL_VARIABLES = ("DATABASE_URL",)


def url_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError, TypeError):
        match = URL_PASSWORD.search(url)
        return unquote(match["password"]) if match else None


def safe_url(url: str) -> str:
    """A URL fit to print: its password masked (a database URL in a start-up line)."""
    return URL_PASSWORD.sub(r"\g<head>:***@", url)


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            # Too short a "secret" would mask ordinary words; real ones are long.
            if not secret or len(secret) < 4:
                continue
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                if form not in self._secrets:
                    self._secrets.append(form)
        self._secrets.sort(key=len, reverse=True)  # mask the longest form first

    def add_from(self, values: Mapping[str, str | None]) -> None:
        """The secrets among environment-style values (os.environ, a .env file's)."""
        self.add(*(values.get(name) for name in SECRET_VARIABLES))
        for name in URL_VARIABLES:
            if value := values.get(name):
                self.add(url_password(value))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = URL_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
        return TOKEN_SHAPE.sub(MASK, text)


def from_environment(env_file: str = ".env") -> Redactor:
    """A redactor for this process's secrets, from the environment and the .env file."""
    redactor = Redactor()
    redactor.add_from(os.environ)
    try:
        from dotenv import dotenv_values  # pydantic-settings' own .env reader

        redactor.add_from(dotenv_values(env_file))
    except (ImportError, OSError, UnicodeDecodeError):
        pass
    return redactor
