"""Every message's priority, from the outbox row to the rate limiter's queues: lower is more
urgent. The standard library alone, so db and the pure policy may use it."""

from __future__ import annotations

from enum import IntEnum


class Priority(IntEnum):
    CRISIS = 0  # crisis replies and crisis alerts
    REPLY = 1  # interactive replies and high alerts
    CHECKIN = 2
    REMINDER = 3

    @property
    def label(self) -> str:
        """The metrics' label: crisis, reply, checkin, reminder."""
        return self.name.lower()


# Sent at once by the urgent lane, the moment their row commits.
URGENT_UP_TO = Priority.REPLY
# Only broadcasts are ever paid for (allow_paid_broadcast).
FIRST_PAYABLE = Priority.CHECKIN
