"""The trend of open findings as geometry for an inline SVG line chart (drawn by the template)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 600, 170
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
COLOURS = {"critical": "#8b0000", "high": "#d9480f", "medium": "#b8860b", "low": "#1c6fa8", "unknown": "#6b6b6b"}
DASHES = {"critical": "", "high": "6 3", "medium": "2 3", "low": "10 3 2 3", "unknown": "1 4"}


@dataclass(frozen=True)
class Series:
    """One severity's line: SVG points, colour, dash pattern (colour is never the only signal)
    and its last value."""

    severity: str
    points: str
    colour: str
    dash: str
    last: int


@dataclass(frozen=True)
class Chart:
    """A line chart: size, series, y ticks (value, y) and x labels (text, x)."""

    width: int
    height: int
    series: list[Series]
    y_ticks: list[tuple[int, float]]
    x_labels: list[tuple[str, float]]
    days: int
    first: date | None
    last: date | None


def _nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (at least 1)."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return max(step * scale, 1)
        scale *= 10


def trend_chart(points: list[tuple[date, dict[str, int]]]) -> Chart:
    """Geometry of the open-findings-by-severity chart for the given days (oldest first)."""
    days = len(points)
    top = _nice_max(max((max(v.values(), default=0) for _, v in points), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return round(LEFT + (plot_w * i / max(days - 1, 1)), 1)

    def y(v: int) -> float:
        return round(TOP + plot_h - plot_h * v / top, 1)

    series = [Series(sev, " ".join(f"{x(i)},{y(v.get(sev, 0))}" for i, (_, v) in enumerate(points)),
                     COLOURS[sev], DASHES[sev], points[-1][1].get(sev, 0) if points else 0)
              for sev in COLOURS]
    parts = 5 if top % 5 == 0 and top >= 5 else 4
    ticks = [(top * k // parts, y(top * k // parts)) for k in range(parts + 1)] if top >= 4 else \
        [(k, y(k)) for k in range(top + 1)]
    step = max(1, days // 6)
    labels = [(d.strftime("%d %b"), x(i)) for i, (d, _) in enumerate(points) if i % step == 0 or i == days - 1]
    return Chart(WIDTH, HEIGHT, series, ticks, labels, days, points[0][0] if points else None,
                 points[-1][0] if points else None)
