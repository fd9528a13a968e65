"""When check-ins and reminders go out as paid broadcasts. Pure: no I/O, no clock.

Telegram's free limit is about 30 messages a second; with allow_paid_broadcast a bot may send
up to 1,000 a second for 0.1 Stars a message. A program pays only for the surplus: when the
backlog of check-ins and reminders would take longer than `after_seconds` at the free rate,
what lies beyond that goes paid, within the day's Stars. Crisis messages, alerts and replies
are never paid for, and never wait for this decision: they go at once on the free budget,
ahead of any broadcast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from delivery.priority import FIRST_PAYABLE

STARS_PER_MESSAGE = 0.1
MAX_PER_SECOND = 1000


@dataclass(frozen=True)
class PaidPolicy:
    per_second: float = 0.0  # 0: off (the default)
    daily_stars: float = 0.0  # a hard cap for each UTC day
    after_seconds: float = 120.0

    @property
    def enabled(self) -> bool:
        return self.per_second > 0 and self.daily_messages > 0

    @property
    def daily_messages(self) -> int:
        return math.floor(self.daily_stars / STARS_PER_MESSAGE + 1e-9)


def payable(priority: int) -> bool:
    """Only broadcasts (check-ins, reminders) are ever paid for."""
    return priority >= FIRST_PAYABLE


def paid_allowance(
    policy: PaidPolicy, backlog: int, free_per_second: float, paid_today: int
) -> int:
    """How many of the waiting check-ins and reminders (`backlog`, payable rows only) may go
    paid now: those the free rate would not reach within `after_seconds`, within what is left
    of today's cap (`paid_today` messages already paid or reserved)."""
    if not policy.enabled:
        return 0
    free_share = math.floor(free_per_second * policy.after_seconds)
    surplus = backlog - free_share
    left_today = policy.daily_messages - paid_today
    return max(0, min(surplus, left_today))


def stars(messages: int) -> float:
    return round(messages * STARS_PER_MESSAGE, 1)
