"""A participant's days as chart points (mood, craving, lapse, missed), for the PNG in Telegram
and the SVG in the dashboard. Pure, and light: no plotting library is imported here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Protocol


@dataclass(frozen=True)
class ChartPoint:
    day: date
    mood: int | None = None
    craving: int | None = None
    lapse: bool = False
    missed: bool = False


class Slot(Protocol):
    slot_at: datetime
    status: str


def points_from(series: Sequence[tuple[Slot, Mapping[str, str]]], zone: tzinfo) -> list[ChartPoint]:
    """(check-in, answers) pairs, oldest first, as points on the participant's local days."""
    return [
        ChartPoint(
            day=c.slot_at.astimezone(zone).date(),
            mood=int(a["mood"]) if "mood" in a else None,
            craving=int(a["craving"]) if "craving" in a else None,
            lapse=a.get("use") == "yes",
            missed=c.status == "missed",
        )
        for c, a in series
    ]
