"""Logging set-up: no secret and no health data reaches the log, at any level.

Every handler gets two filters. The first keeps what third-party libraries log about requests
from carrying their bodies: python-telegram-bot logs whole updates and every call's parameters
at DEBUG (a participant's words, their name and Telegram id), so the arguments of its records
are reduced to summaries ("<update 123>", "<7 fields>"). The second masks secrets in what is
left, tracebacks included. sys.excepthook and threading.excepthook go through the same masks.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from datetime import UTC, datetime
from typing import Any

from config.redact import Redactor

# The libraries whose records may carry Telegram payloads or request URLs.
BODY_LOGGERS = ("telegram", "httpx", "httpcore")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}")  # an endpoint or class name, not text


def summary(value: Any) -> Any:
    """A stand-in for a log argument that may hold health data; numbers and names pass."""
    from telegram import TelegramObject, Update

    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if _NAME.fullmatch(value) else f"<{len(value)} characters>"
    if isinstance(value, Update):
        return f"<update {value.update_id}>"
    if isinstance(value, TelegramObject):
        return f"<{type(value).__name__}>"
    if isinstance(value, BaseException):
        return value  # the secrets filter still masks it; messages name no participant
    if isinstance(value, dict):
        return f"<{len(value)} fields>"
    if isinstance(value, list | tuple) and all(isinstance(v, int) for v in value):
        return value  # e.g. PTB's "Getting updates: [update ids]"
    if isinstance(value, list | tuple):
        return f"<{len(value)} items>"
    return f"<{type(value).__name__}>"


class BodyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(BODY_LOGGERS) and record.args:
            if isinstance(record.args, dict):
                record.args = {k: summary(v) for k, v in record.args.items()}
            else:
                record.args = tuple(summary(arg) for arg in record.args)
        return True


class RedactingFilter(logging.Filter):
    """Formats each record's message and traceback now, with every secret masked."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call; keep the template, drop the args
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info:
            # The formatter reuses exc_text, so the traceback is printed masked.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one JSON object a line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _OurHandler(logging.StreamHandler):
    aftercare = True  # a second configure_logging replaces it


def configure_logging(level: str, redactor: Redactor, fmt: str = "text") -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        # Ours from a first call go; pytest's capture handlers stay (tests call cli.main).
        if getattr(handler, "aftercare", False) or not handler.__module__.startswith("_pytest"):
            root.removeHandler(handler)
    handler = _OurHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(BodyFilter())
    handler.addFilter(RedactingFilter(redactor))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for chatty in ("httpx", "httpcore", "aiosqlite", "sqlalchemy", "asyncio", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    # APScheduler logs two lines per job run at INFO ("Running job", "executed successfully"):
    # about 35 MB a day. Job failures are still logged, as errors.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # "Skipped: maximum number of running instances reached" is the normal sign of a long
    # broadcast (max_instances=1 on purpose), not a warning.
    logging.getLogger("apscheduler.scheduler").setLevel(max(logging.ERROR, root.level))
    install_excepthooks(redactor)


def install_excepthooks(redactor: Redactor) -> None:
    """Uncaught exceptions print their traceback masked, in every thread."""

    def hook(kind, value, tb) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(redactor(text))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
