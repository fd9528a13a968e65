"""Which check-ins and reminders go out as paid broadcasts: a pure decision, tested as a table."""

from __future__ import annotations

import pytest

from config.settings import Settings
from delivery.paid_policy import PaidPolicy, paid_allowance, payable, stars
from delivery.priority import Priority

ON = PaidPolicy(per_second=1000, daily_stars=500, after_seconds=120)  # cap: 5,000 messages


@pytest.mark.parametrize(
    ("policy", "backlog", "paid_today", "allowed", "why"),
    [
        (PaidPolicy(), 50_000, 0, 0, "off by default"),
        (PaidPolicy(per_second=1000), 50_000, 0, 0, "no Stars to spend is off too"),
        (PaidPolicy(daily_stars=500), 50_000, 0, 0, "no paid rate is off"),
        (ON, 3_600, 0, 0, "exactly what 120 s at 30/s sends: nothing paid"),
        (ON, 3_000, 0, 0, "less than the free rate clears in time"),
        (ON, 3_601, 0, 1, "one past the threshold: one paid"),
        (ON, 5_000, 0, 1_400, "the surplus beyond 120 s of free sending"),
        (ON, 50_000, 0, 5_000, "a big morning stops at the day's cap"),
        (ON, 50_000, 4_990, 10, "what is left of the cap"),
        (ON, 50_000, 5_000, 0, "the cap is spent: nothing more today"),
        (ON, 50_000, 6_000, 0, "never negative, even past the cap"),
        (PaidPolicy(1000, 500, after_seconds=10), 1_000, 0, 700, "a shorter wait pays sooner"),
        (PaidPolicy(1000, 0.25, 120), 50_000, 0, 2, "0.25 Stars buys two messages"),
    ],
)
def test_paid_allowance(policy, backlog, paid_today, allowed, why):
    assert paid_allowance(policy, backlog, 30.0, paid_today) == allowed, why


@pytest.mark.parametrize(
    ("priority", "paid"),
    [
        (Priority.CRISIS, False),
        (Priority.REPLY, False),
        (Priority.CHECKIN, True),
        (Priority.REMINDER, True),
    ],
)
def test_crisis_and_replies_are_never_paid_for(priority, paid):
    assert payable(priority) is paid


def test_settings_leave_paid_broadcasts_off():
    settings = Settings(_env_file=None)
    assert settings.paid_broadcast_per_second == 0
    assert settings.paid_broadcast_after_seconds == 120
    assert not settings.paid_policy().enabled


def test_a_paid_rate_needs_a_daily_cap():
    with pytest.raises(ValueError, match="PAID_BROADCAST_DAILY_STARS"):
        Settings(_env_file=None, paid_broadcast_per_second=1000)
    with pytest.raises(ValueError, match="1000"):
        Settings(_env_file=None, paid_broadcast_per_second=1001, paid_broadcast_daily_stars=5)


def test_stars():
    assert stars(1234) == 123.4
