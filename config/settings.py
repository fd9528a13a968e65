"""Settings from the environment (or a .env file): the one place configuration is read."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from functools import cached_property
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.url import DEFAULT_DATABASE_URL
from delivery.paid_policy import PaidPolicy

TELEGRAM_DEFAULT_BASE_URL = "https://api.telegram.org/bot"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def host_and_port(value: str) -> tuple[str, int]:
    """'127.0.0.1:9464' (or ':9464', '[::1]:9464') as a host and a port."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must be HOST:PORT, such as 127.0.0.1:9464, not {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - ':port' means every address


def check_database_url(value: str) -> None:
    """Refuse a URL SQLAlchemy can't parse or a driver we don't run, printing no password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from config.redact import safe_url

    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise ValueError(
            "can't be parsed; it looks like postgresql+asyncpg://USER:PASSWORD@HOST:5432/NAME "
            "or sqlite+aiosqlite:///./aftercare.db"
        ) from exc
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        raise ValueError(
            f"needs the asyncpg driver: write postgresql+asyncpg://..., not {url.drivername}://"
        )
    if url.drivername == "sqlite":
        raise ValueError("needs the aiosqlite driver: write sqlite+aiosqlite:///..., not sqlite://")
    if url.drivername not in DRIVERS:
        raise ValueError(
            f"uses {url.drivername!r}; aftercare runs on sqlite+aiosqlite or postgresql+asyncpg "
            f"({safe_url(value)})"
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base_url: str = TELEGRAM_DEFAULT_BASE_URL
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"  # noqa: S104 - a webhook must be reachable from outside
    webhook_port: int = 8443
    default_timezone: str = "America/New_York"
    log_level: str = "INFO"
    log_format: str = "text"
    # /healthz, /readyz and /metrics (bot/status.py), in polling and webhook mode alike.
    status_listen: str = "127.0.0.1:9464"
    # How long `aftercare run` keeps retrying a database or Bot API it can't reach at start-up.
    startup_retry_seconds: float = Field(default=300.0, ge=0)

    # Clinical and operational timing; defaults follow the issues.
    checkin_response_window_hours: float = Field(default=6.0, gt=0)
    participant_invite_ttl_days: float = Field(default=7.0, gt=0)
    counselor_invite_ttl_days: float = Field(default=7.0, gt=0)
    # Alerts: how long each level waits for an acknowledgement before it escalates.
    escalate_crisis_minutes: float = Field(default=15.0, gt=0)
    escalate_high_minutes: float = Field(default=240.0, gt=0)
    escalate_watch_minutes: float = Field(default=1440.0, gt=0)
    # "Are you safe right now?" unanswered this long: a watch alert quoting the message.
    safety_ask_timeout_minutes: float = Field(default=30.0, gt=0)
    # When a person reads alerts (in DEFAULT_TIMEZONE); outside these, participants are told.
    monitored_hours: str = "08:00-20:00"
    monitored_days: str = "mon-fri"
    # Telegram's limits, kept by the one rate limiter under every call (delivery/rate_limit.py).
    rate_global_per_second: float = Field(default=30.0, gt=0)
    rate_chat_interval_seconds: float = Field(default=1.0, ge=0)
    rate_group_per_minute: float = Field(default=20.0, gt=0)
    send_max_retries: int = Field(default=5, ge=0)
    # Paid broadcasts (allow_paid_broadcast, 0.1 Stars a message; docs/performance.md): off at 0.
    paid_broadcast_per_second: float = Field(default=0.0, ge=0, le=1000)
    paid_broadcast_daily_stars: float = Field(default=0.0, ge=0)
    paid_broadcast_after_seconds: float = Field(default=120.0, gt=0)
    # Updates handled at once, each chat's in order (bot/update_order.py). Kept near the database
    # connection pool's size (5 + 10 overflow), so a burst queues here, not for a connection.
    max_concurrent_updates: int = Field(default=16, ge=1)
    # How long a worker's claim on an outbox row lasts; a dead worker's rows return after it.
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    tick_interval_seconds: float = Field(default=30.0, gt=0)
    dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    sweep_interval_seconds: float = Field(default=60.0, gt=0)
    # /pause with no number pauses this long; no pause may be longer than the maximum.
    pause_default_days: int = Field(default=7, ge=1)
    pause_max_days: int = Field(default=30, ge=1)
    # A group of the program's counselors that also hears of every alert (never its details).
    counselor_team_chat_id: int | None = None
    # Retention (scheduler/retention.py): a discharged participant's answers, notes and other
    # records go this many months after discharge; raw Telegram updates and the text of sent
    # messages go after this many days, whoever they are about.
    retention_months: int = Field(default=24, ge=1, le=1200)
    message_retention_days: float = Field(default=7.0, gt=0)
    # The counselor dashboard (bot/dashboard/): off unless DASHBOARD_URL (its public base) is set.
    dashboard_url: str | None = None
    dashboard_listen: str = "127.0.0.1:8080"
    dashboard_login_minutes: float = Field(default=10.0, gt=0, le=60)
    dashboard_idle_minutes: float = Field(default=30.0, gt=0)
    dashboard_session_hours: float = Field(default=12.0, gt=0)

    @field_validator("dashboard_url")
    @classmethod
    def _dashboard_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"DASHBOARD_URL must be an http:// or https:// URL, such as "
                f"https://dashboard.example.org, not {value!r}"
            )
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ValueError(
                "DASHBOARD_URL must be https:// (plain http:// only on loopback, such as "
                "http://127.0.0.1:8080): its cookies and pages carry participants' records"
            )
        return value.rstrip("/")

    @field_validator("dashboard_listen")
    @classmethod
    def _dashboard_listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"DASHBOARD_LISTEN must look like 127.0.0.1:8080, not {value!r}")
        return value

    @property
    def dashboard_address(self) -> tuple[str, int]:
        host, _, port = self.dashboard_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def dashboard_cookie_secure(self) -> bool:
        """Secure cookies, except over plain http:// on loopback (a desk's own machine)."""
        return not (self.dashboard_url or "").startswith("http://")

    @field_validator("counselor_team_chat_id")
    @classmethod
    def _group(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError(
                "COUNSELOR_TEAM_CHAT_ID must be a group's chat id, a negative number such as "
                f"-1001234567890, not {value}"
            )
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token: 1-256 characters, A-Z a-z 0-9 _ and - only.
        if value is not None and not SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError(
                "WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(Telegram's rule for a webhook secret token)"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET must be set when WEBHOOK_URL is set: Telegram sends it with "
                "every update, and the bot refuses (403) any request without it"
            )
        if self.webhook_url and not self.webhook_url.startswith("https://"):
            raise ValueError(f"WEBHOOK_URL must be an https:// URL, not {self.webhook_url!r}")
        if self.paid_broadcast_per_second > 0 and self.paid_broadcast_daily_stars < 0.1:
            raise ValueError(
                "PAID_BROADCAST_DAILY_STARS must be set (at least 0.1, the Stars a day paid "
                "broadcasts may spend) when PAID_BROADCAST_PER_SECOND is set"
            )
        if self.pause_default_days > self.pause_max_days:
            raise ValueError("PAUSE_DEFAULT_DAYS can't be more than PAUSE_MAX_DAYS")
        return self

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("monitored_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        from scheduler.schedule import parse_hours

        try:
            start, end = parse_hours(value)
        except ValueError as exc:
            raise ValueError(f"monitored hours must look like 08:00-20:00, not {value!r}") from exc
        if not start < end:
            raise ValueError("monitored hours must start before they end")
        return value

    @field_validator("monitored_days")
    @classmethod
    def _days(cls, value: str) -> str:
        from scheduler.schedule import parse_days

        try:
            parse_days(value)
        except ValueError as exc:
            raise ValueError(f"monitored days must look like mon-fri, not {value!r}") from exc
        return value

    def paid_policy(self) -> PaidPolicy:
        return PaidPolicy(
            per_second=self.paid_broadcast_per_second,
            daily_stars=self.paid_broadcast_daily_stars,
            after_seconds=self.paid_broadcast_after_seconds,
        )

    def escalation_timeouts(self) -> dict[str, timedelta]:
        return {
            "crisis": timedelta(minutes=self.escalate_crisis_minutes),
            "high": timedelta(minutes=self.escalate_high_minutes),
            "watch": timedelta(minutes=self.escalate_watch_minutes),
        }

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return value.upper()

    @field_validator("log_format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value.lower() not in ("text", "json"):
            raise ValueError(f"must be text or json, not {value!r}")
        return value.lower()

    @field_validator("status_listen")
    @classmethod
    def _status_listen(cls, value: str) -> str:
        host_and_port(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        check_database_url(value)
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(
                "must be an http(s) URL ending in /bot, such as https://api.telegram.org/bot"
            )
        return value

    @property
    def status_address(self) -> tuple[str, int]:
        return host_and_port(self.status_listen)

    @cached_property
    def base_file_url(self) -> str:
        """PTB wants the file URL too; Telegram's form is .../file/bot<token>."""
        base = self.telegram_api_base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base.rstrip("/") + "/file/bot"

    @property
    def response_window(self) -> timedelta:
        return timedelta(hours=self.checkin_response_window_hours)

    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None


def describe_error(error: ValidationError, limit: int = 2) -> str:
    """A configuration error in at most 3 lines: each names the environment variable and
    what is wrong with it; the last says how to fix it. Never the value given (it may be a
    secret): pydantic's own text echoes it as input_value."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        message = str(item.get("msg", "is not valid"))
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        field = ".".join(str(part) for part in item.get("loc", ()))
        if field and not message.startswith(field.upper()):
            message = f"{field.upper()}: {message[:1].lower()}{message[1:]}"
        lines.append(f"aftercare: configuration error: {message}")
    shown = lines[:limit]
    more = len(lines) - len(shown)
    tail = f" ({more} more error{'s' if more > 1 else ''} after that.)" if more else ""
    return "\n".join(shown) + f"\nFix it in the environment or the .env file, then run again.{tail}"
