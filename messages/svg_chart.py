"""The participant page's 30-day chart as inline SVG: mood (1-5) and cravings (0-10) on one
scale, lapses and missed check-ins marked below. Pure; every value drawn is a number we
computed, never text from a person. Colour is never the only signal: mood is a solid line
with circles, cravings a dashed line with squares, lapses an "L", misses an "M"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from messages.trend_points import ChartPoint

WIDTH, HEIGHT = 640, 258
LEFT, RIGHT, TOP, PLOT_BOTTOM = 40, 16, 12, 190
MARKS_Y = 214


def _x(day: date, start: date, end: date) -> float:
    span = max((end - start).days, 1)
    return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - start).days / span, 1)


def _y(value: float, top: float) -> float:
    return round(PLOT_BOTTOM - (PLOT_BOTTOM - TOP) * value / top, 1)


def trend_svg(points: Sequence[ChartPoint], start: date, end: date) -> str:
    """An <svg> element (role="img", described by the page's text summary)."""
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title" '
        'aria-describedby="chart-summary" class="chart" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Mood and cravings, last 30 days</title>',
    ]
    for value in (0, 5, 10):
        y = _y(value, 10)
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" '
                     'stroke="#ccc" stroke-width="1"/>')  # fmt: skip
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" font-size="11">'
                     f"{value}</text>")  # fmt: skip
    moods = [(p.day, p.mood * 2) for p in points if p.mood is not None]  # 1-5 drawn on 0-10
    cravings = [(p.day, p.craving) for p in points if p.craving is not None]
    for series, colour, dash, marker in ((moods, "#1f5f99", "", "circle"),
                                         (cravings, "#b35900", ' stroke-dasharray="6 4"',
                                          "square")):  # fmt: skip
        coords = [(_x(d, start, end), _y(v, 10)) for d, v in series]
        if len(coords) > 1:
            line = " ".join(f"{x},{y}" for x, y in coords)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"{dash}/>')  # fmt: skip
        for x, y in coords:
            if marker == "circle":
                parts.append(f'<circle cx="{x}" cy="{y}" r="4" fill="{colour}"/>')
            else:
                parts.append(f'<rect x="{x - 4}" y="{y - 4}" width="8" height="8" '
                             f'fill="{colour}"/>')  # fmt: skip
    for point in points:
        x = _x(point.day, start, end)
        if point.lapse:
            parts.append(f'<text x="{x}" y="{MARKS_Y}" text-anchor="middle" font-size="13" '
                         'font-weight="bold" fill="#a00">L</text>')  # fmt: skip
        if point.missed:
            parts.append(f'<text x="{x}" y="{MARKS_Y + 16}" text-anchor="middle" font-size="12" '
                         'fill="#555">M</text>')  # fmt: skip
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 2}" font-size="11">{start.isoformat()}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 2}" text-anchor="end" font-size="11">'
                 f"{end.isoformat()}</text>")  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts)
