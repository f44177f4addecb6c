"""Charts drawn on the server as SVG: no script, no CDN, readable on a slow commune link and in print."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 44


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    value: int
    label: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, int]] = field(default_factory=list)  # (y, value)
    categories: list[tuple[float, str]] = field(default_factory=list)  # (x centre, label)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right: float = WIDTH - RIGHT


def axis_top(value: int) -> int:
    power = 1
    while power * 10 <= value:
        power *= 10
    for factor in (1, 2, 5, 10):
        if factor * power >= value:
            return max(factor * power, 1)
    return 10 * power


def grouped_bars(categories: list[str], series: list[list[int]], labels: list[str]) -> Chart:
    """Bars to scale: each bar's height is its value over the axis top, the same for every bar,
    so 12 and 10 look as different as they are. One group per category, one bar per series."""
    chart = Chart()
    top = axis_top(max([0, *(v for s in series for v in s)]))
    plot_height = chart.baseline - TOP
    slot = (chart.right - chart.left) / max(len(categories), 1)
    bar_width = slot * 0.8 / max(len(series), 1)
    for i, category in enumerate(categories):
        x0 = chart.left + i * slot + slot * 0.1
        chart.categories.append((chart.left + (i + 0.5) * slot, category))
        for s, values in enumerate(series):
            value = values[i]
            height = plot_height * value / top
            chart.bars.append(
                Bar(x0 + s * bar_width, chart.baseline - height, bar_width * 0.9, height, s, value, labels[s])
            )
    chart.ticks = [(chart.baseline - plot_height * f, round(top * f)) for f in (0, 0.5, 1)]
    return chart
