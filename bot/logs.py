"""Logging set-up that can never print the bot token."""

from __future__ import annotations

import logging
import re

# Bot API URLs carry the token as /bot<token>/; catch any token-shaped string too.
_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{6,}")


class RedactingFilter(logging.Filter):
    """Rewrites each record so that the token (and anything token-shaped) is masked."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets = [s for s in (secrets or []) if s]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[REDACTED]")
        return _TOKEN_SHAPE.sub("[REDACTED]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            # Format the traceback now, redacted; the formatter reuses exc_text.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(level: str, token: str | None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter([token] if token else []))
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # These log every query or job run at DEBUG, burying ours; they keep INFO and up.
    for noisy in ("aiosqlite", "apscheduler", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
    # "Skipped: maximum number of running instances reached" is the normal sign of a long
    # broadcast (max_instances=1 on purpose), not a warning; job failures still log as errors.
    logging.getLogger("apscheduler.scheduler").setLevel(max(logging.ERROR, root.level))
