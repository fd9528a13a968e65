"""The Prometheus metrics, all in prometheus-client's default REGISTRY, which /metrics serves
(bot/status.py): a metric defined anywhere with prometheus_client appears there too.

Counters and the histogram count what this process did. The outbox and alert gauges describe
the whole database, shared by every worker; they are read from it at each scrape.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from sqlalchemy.ext.asyncio import async_sessionmaker

from db import health
from delivery import metrics as delivery_metrics  # noqa: F401  (one registry: /metrics shows both)
from delivery.priority import Priority

PRIORITIES = {int(p): p.label for p in Priority}
LEVELS = ("crisis", "high", "watch")

OUTBOX_PENDING = Gauge(
    "aftercare_outbox_pending", "Outbox messages waiting to be sent, by priority", ["priority"]
)
OLDEST_PENDING_CRISIS = Gauge(
    "aftercare_oldest_pending_crisis_seconds",
    "Age of the oldest crisis reply or alert still waiting to be sent (0: none waits)",
)
ALERTS_UNACKNOWLEDGED = Gauge(
    "aftercare_alerts_unacknowledged", "Alerts no one has acknowledged yet, by level", ["level"]
)
OLDEST_UNACKNOWLEDGED = Gauge(
    "aftercare_oldest_unacknowledged_alert_seconds",
    "Age of the oldest unacknowledged alert, by level (0: none)",
    ["level"],
)
UPDATES_HANDLED = Counter("aftercare_updates_handled", "Telegram updates handled by this process")
UPDATE_HANDLING = Histogram(
    "aftercare_update_handling_seconds",
    "Time from taking an update to having handled it",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
IS_POLLER = Gauge("aftercare_is_poller", "1 while this worker is the one polling Telegram")

for _name in PRIORITIES.values():
    OUTBOX_PENDING.labels(_name)
for _level in LEVELS:
    ALERTS_UNACKNOWLEDGED.labels(_level)
    OLDEST_UNACKNOWLEDGED.labels(_level)


class CheckinsCollector:
    """aftercare_checkins_total{outcome}: check-ins as the database holds them (started, and
    each outcome: completed, missed, skipped, or still open), read at each scrape. Counted
    from the database, not per process, so every worker reports the same figures."""

    OUTCOMES = ("started", "completed", "missed", "skipped", "open")

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(self.OUTCOMES, 0)

    def collect(self):
        family = CounterMetricFamily(
            "aftercare_checkins", "Check-ins by outcome (from the database)", labels=["outcome"]
        )
        for outcome in self.OUTCOMES:
            family.add_metric([outcome], self.counts[outcome])
        yield family

    def update(self, by_status: dict[str, int]) -> None:
        self.counts = {
            "started": sum(by_status.values()),
            "completed": by_status.get("completed", 0),
            "missed": by_status.get("missed", 0),
            "skipped": by_status.get("skipped", 0),
            "open": by_status.get("pending", 0) + by_status.get("sent", 0),
        }


CHECKINS = CheckinsCollector()
REGISTRY.register(CHECKINS)


async def refresh(sessionmaker: async_sessionmaker, now: datetime) -> None:
    """Read the shared figures from the database (at each scrape)."""
    async with sessionmaker() as session:
        waiting = await health.outbox_waiting(session)
        oldest_crisis = await health.oldest_waiting_crisis(session)
        alerts = await health.unacknowledged_alerts(session)
        oldest = {level: await health.oldest_unacknowledged(session, level) for level in LEVELS}
        checkins = await health.checkins_by_status(session)
    CHECKINS.update(checkins)
    for priority, name in PRIORITIES.items():
        OUTBOX_PENDING.labels(name).set(waiting.get(priority, 0))
    OLDEST_PENDING_CRISIS.set(_age(now, oldest_crisis))
    for level in LEVELS:
        ALERTS_UNACKNOWLEDGED.labels(level).set(alerts.get(level, 0))
        OLDEST_UNACKNOWLEDGED.labels(level).set(_age(now, oldest[level]))


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
