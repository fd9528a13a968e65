"""The dashboard's caseload: one row per participant, the most urgent first. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

LEVEL_RANK = {None: 0, "watch": 1, "high": 2, "crisis": 3}


@dataclass(frozen=True)
class CaseloadRow:
    participant_id: int
    name: str
    status: str
    day: int  # day N in recovery
    open_level: str | None  # the highest level among their open or acknowledged alerts
    last_answered_at: datetime | None
    answered_7d: int
    moods: tuple[int, ...]  # the last 14 days, oldest first
    cravings: tuple[int, ...]
    next_checkin_at: datetime | None


def days_since(row: CaseloadRow, now: datetime) -> float | None:
    if row.last_answered_at is None:
        return None
    return (now - row.last_answered_at).total_seconds() / 86400


def ordered(rows: Sequence[CaseloadRow], now: datetime) -> list[CaseloadRow]:
    """By open alert level (crisis first), then longest without a check-in (never first)."""

    def key(row: CaseloadRow) -> tuple:
        since = days_since(row, now)
        return (-LEVEL_RANK[row.open_level], since is not None, -(since or 0), row.participant_id)

    return sorted(rows, key=key)


def highest(levels: Sequence[str]) -> str | None:
    return max(levels, key=LEVEL_RANK.__getitem__, default=None)
