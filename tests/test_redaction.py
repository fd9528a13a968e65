"""The redaction layer and the log filters, on their own: secrets masked wherever they hide,
request bodies reduced to summaries, configuration errors that echo no value."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from pydantic import ValidationError
from telegram import Chat, Message, Update, User

from bot.logs import BodyFilter, JsonFormatter, RedactingFilter, install_excepthooks
from config.redact import MASK, Redactor, safe_url
from config.settings import Settings, describe_error

TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.mark.parametrize(
    "text",
    [
        f"The token `{TOKEN}` was rejected",
        f"POST https://api.telegram.org/bot{TOKEN}/getMe",  # no word boundary before the id
        f"GET https://api.telegram.org/file/bot{TOKEN}/photos/1.jpg",
    ],
)
def test_a_token_is_masked_even_inside_a_url(text):
    assert TOKEN not in Redactor()(text)
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in Redactor()(text)


def test_given_secrets_are_masked_raw_and_url_encoded():
    redact = Redactor(["s3cr3t/with@odd#chars", "whsec_abcdef"])
    text = "a s3cr3t/with@odd#chars b s3cr3t%2Fwith%40odd%23chars c whsec_abcdef"
    assert redact(text) == f"a {MASK} b {MASK} c {MASK}"


def test_a_url_password_is_masked_and_safe_url_keeps_the_rest():
    url = "postgresql+asyncpg://bot:pa55word@db.internal:5432/aftercare"
    assert "pa55word" not in Redactor()(f"can't connect to {url}")
    assert safe_url(url) == "postgresql+asyncpg://bot:***@db.internal:5432/aftercare"


def test_secrets_come_from_the_environment_before_settings_are_read(monkeypatch, tmp_path):
    from config import redact

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEBHOOK_SECRET", "env-secret-value")
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql+asyncpg://u:dotenv-pw@h/d\n")
    masked = redact.from_environment()("env-secret-value and dotenv-pw")
    assert masked == f"{MASK} and {MASK}"


def record(name: str, msg: str, *args, level=logging.DEBUG) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_ptb_bodies_become_summaries():
    user = User(7340012345, "Zephyrine", False)
    message = Message(1, None, Chat(7340012345, "private"), from_user=user, text="my words")
    update = Update(99, message=message)
    records = [
        record("telegram.ext.Application", "Processing update %s", update),
        record("telegram.ext.ExtBot", "Calling Bot API endpoint `%s` with parameters `%s`",
               "sendMessage", {"chat_id": 7340012345, "text": "Hi Zephyrine"}),
        record("telegram.ext.ExtBot", "Call to Bot API endpoint `%s` finished with return "
               "value `%s`", "getUpdates", [update.to_dict()]),
        record("telegram.ext.ExtBot", "Webhook received data: %s", '{"text": "my words"}'),
    ]  # fmt: skip
    for item in records:
        BodyFilter().filter(item)
    lines = [item.getMessage() for item in records]
    assert lines[0] == "Processing update <update 99>"
    assert lines[1] == "Calling Bot API endpoint `sendMessage` with parameters `<2 fields>`"
    assert lines[2].endswith("`<1 items>`")
    assert "my words" not in lines[3]
    ours = record("bot.polling", "replaying stored update %s", 42)
    BodyFilter().filter(ours)
    assert ours.getMessage() == "replaying stored update 42"


def test_a_traceback_is_masked_in_the_log_and_through_sys_excepthook(monkeypatch):
    redactor = Redactor([TOKEN])
    try:
        raise RuntimeError(f"rejected {TOKEN}")
    except RuntimeError:
        item = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
        kind, value, tb = sys.exc_info()
    RedactingFilter(redactor).filter(item)
    assert TOKEN not in logging.Formatter().format(item)
    assert TOKEN not in JsonFormatter().format(item)

    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthooks(redactor)
    sys.excepthook(kind, value, tb)
    assert "RuntimeError: rejected [REDACTED]" in err.getvalue() and TOKEN not in err.getvalue()


def test_a_configuration_error_echoes_no_value_in_at_most_three_lines():
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, webhook_secret="bad secret pw-123", log_level="LOUD",
                 webhook_port="eighty", database_url="postgresql://u:pw-123@h/d")  # fmt: skip
    text = describe_error(caught.value)
    lines = text.splitlines()
    assert len(lines) == 3 and "pw-123" not in text
    assert lines[0].startswith("aftercare: configuration error: DATABASE_URL")
    assert "more errors after that" in lines[2]
