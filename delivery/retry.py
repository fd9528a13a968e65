"""When a failed send is tried again: Telegram's own retry_after for a 429, else exponential
backoff with full jitter. Pure but for the random draw."""

from __future__ import annotations

import random
from datetime import timedelta

from telegram.error import RetryAfter

MAX_BACKOFF_SECONDS = 300


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter, capped; never zero so a failing chat can't spin."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 10))
    return timedelta(seconds=max(1.0, random.uniform(0, ceiling)))


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait. Reads the timedelta PTB keeps, without tripping its
    deprecation warning about the attribute's future type."""
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
