"""Settings from the environment (or a .env file): the one place configuration is read."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scheduler.paid_policy import PaidPolicy

TELEGRAM_DEFAULT_BASE_URL = "https://api.telegram.org/bot"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./aftercare.db"
    telegram_api_base_url: str = TELEGRAM_DEFAULT_BASE_URL
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"  # noqa: S104 - a webhook must be reachable from outside
    webhook_port: int = 8443
    default_timezone: str = "America/New_York"
    log_level: str = "INFO"

    # Clinical and operational timing; defaults follow the issues.
    checkin_response_window_hours: float = Field(default=6.0, gt=0)
    participant_invite_ttl_days: float = Field(default=7.0, gt=0)
    counselor_invite_ttl_days: float = Field(default=7.0, gt=0)
    # Alerts: how long each level waits for an acknowledgement before it escalates.
    escalate_crisis_minutes: float = Field(default=15.0, gt=0)
    escalate_high_minutes: float = Field(default=240.0, gt=0)
    escalate_watch_minutes: float = Field(default=1440.0, gt=0)
    # When a person reads alerts (in DEFAULT_TIMEZONE); outside these, participants are told.
    monitored_hours: str = "08:00-20:00"
    monitored_days: str = "mon-fri"
    # Telegram's limits, kept by the one rate limiter under every call (bot/rate_limit.py).
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
    def _upper(cls, value: str) -> str:
        return value.upper()

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
