"""Deep links and human-readable times for counselors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def local_stamp(instant: datetime, zone: str) -> str:
    """'Sat 5 Dec 2026, 14:30 EST'."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b %Y, %H:%M %Z')}"
