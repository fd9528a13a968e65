"""Prometheus metrics of paid broadcasts (served on /metrics from the default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

PAID_MESSAGES = Counter(
    "aftercare_paid_messages",  # exposed as aftercare_paid_messages_total
    "Messages sent as paid broadcasts (allow_paid_broadcast, 0.1 Stars each)",
)
STARS_TODAY = Gauge(
    "aftercare_paid_stars_today",
    "Telegram Stars spent on paid broadcasts so far this UTC day (sent or reserved)",
)
