"""Prometheus metrics of delivery: every Bot API request by method and outcome, when the Bot API
was last reached (for /readyz), and paid broadcasts (served on /metrics from the default
registry)."""

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
TELEGRAM_REQUESTS = Counter(
    "aftercare_telegram_requests",
    "Bot API requests by method and outcome (ok, or the error's kind)",
    ["method", "outcome"],
)
TELEGRAM_LAST_REACHED = Gauge(
    "aftercare_telegram_last_reached_timestamp_seconds",
    "When the Bot API last answered this process (Unix time)",
)


def outcome_of(error: BaseException | None) -> str:
    """A request's outcome label: 'ok', or the kind of error (a handful of values)."""
    if error is None:
        return "ok"
    from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter, TimedOut

    for kind, label in ((RetryAfter, "rate_limited"), (Forbidden, "forbidden"),
                        (BadRequest, "bad_request"), (Conflict, "conflict"),
                        (InvalidToken, "invalid_token"), (TimedOut, "timeout")):  # fmt: skip
        if isinstance(error, kind):
            return label
    return "error"


def count_request(method: str, error: BaseException | None) -> None:
    """One Bot API request done; an answer from the server, even a refusal, means the Bot API
    was reached (for /readyz)."""
    outcome = outcome_of(error)
    TELEGRAM_REQUESTS.labels(method, outcome).inc()
    if outcome not in ("error", "timeout"):
        TELEGRAM_LAST_REACHED.set_to_current_time()
