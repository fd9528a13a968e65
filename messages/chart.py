"""A participant's 30-day chart for counselors: mood and cravings, with lapses and missed
check-ins marked. Pure: data in, PNG bytes out (matplotlib's Agg backend, no display)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")  # before pyplot: never look for a display

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from messages.trend_points import ChartPoint  # noqa: E402


def trend_chart(points: Sequence[ChartPoint], title: str, start: date, end: date) -> bytes:
    figure, mood_axis = plt.subplots(figsize=(8, 4), dpi=100)
    try:
        craving_axis = mood_axis.twinx()
        moods = [(p.day, p.mood) for p in points if p.mood is not None]
        cravings = [(p.day, p.craving) for p in points if p.craving is not None]
        if moods:
            mood_axis.plot(
                *zip(*moods, strict=True), marker="o", color="#2b7bb9", label="Mood (1–5)"
            )
        if cravings:
            craving_axis.plot(*zip(*cravings, strict=True), marker="s", color="#d9822b",
                              label="Cravings (0–10)")  # fmt: skip
        # matplotlib's stubs type x values as floats; dates are converted by its units
        # framework (matplotlib.dates), which the stubs don't model: hence the ignores below.
        for p in points:
            if p.lapse:
                mood_axis.axvline(p.day, color="#c0392b", linewidth=2, alpha=0.6)  # type: ignore[arg-type]
            if p.missed:
                mood_axis.scatter([p.day], [0.6], marker="x", color="#7f8c8d", zorder=3)  # type: ignore[arg-type]
        mood_axis.set_ylim(0.4, 5.4)
        craving_axis.set_ylim(-0.5, 10.5)
        mood_axis.set_ylabel("Mood")
        craving_axis.set_ylabel("Cravings")
        mood_axis.set_xlim(start, end)  # type: ignore[arg-type]  # dates, as above
        mood_axis.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        mood_axis.set_title(title + "  (red line: use reported · x: missed check-in)", fontsize=9)
        mood_axis.grid(alpha=0.3)
        handles = mood_axis.get_legend_handles_labels()
        extra = craving_axis.get_legend_handles_labels()
        if handles[0] or extra[0]:
            mood_axis.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left")
        figure.autofmt_xdate()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
