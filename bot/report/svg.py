"""Small inline SVG charts (no JavaScript, no network) for the HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.report.tables import truncate

PALETTE = ("#3b6ea8", "#5aa469", "#d1603d", "#8c6bb1", "#c9a227")
FONT = "font-family='system-ui, sans-serif' font-size='12'"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above the largest value."""
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return step
    magnitude = 10 ** (len(str(int(value))) - 1)
    return (int(value / magnitude) + 1) * magnitude


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def empty(message: str, width: int = 560) -> str:
    """A placeholder of the chart's size when there is nothing to draw."""
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='40' role='img'>"
        f"<text x='8' y='24' {FONT} fill='#777'>{escape(message)}</text></svg>"
    )


def hbars(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    width: int = 560,
    color: str = PALETTE[0],
    unit: str = "",
) -> str:
    """Horizontal bars, one per labelled value, largest scale at the right edge."""
    if not items:
        return empty("—", width)
    label_w, row_h, top = 220, 22, 8
    plot_w = width - label_w - 60
    vmax = _nice_max(max((v for _, v in items if v is not None), default=0))
    height = top + row_h * len(items) + 8
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'"
        f" role='img' aria-label='{escape(title)}'><title>{escape(title)}</title>"
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        bar = max(1.0, plot_w * value / vmax) if value else 0
        shown = "—" if value is None else f"{_fmt(value)}{unit}"
        parts.append(
            f"<text x='{label_w - 6}' y='{y + 15}' text-anchor='end' {FONT}>"
            f"{escape(truncate(label, 34))}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{bar:.1f}' height='{row_h - 6}'"
            f" fill='{color}'><title>{escape(label)}: {shown}</title></rect>"
            f"<text x='{label_w + bar + 4:.1f}' y='{y + 15}' {FONT}>{shown}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    width: int = 1000,
    height: int = 260,
) -> str:
    """Vertical bars per category (a day, a week), one colour per series, with a legend."""
    if not categories:
        return empty("—", width)
    left, right, top, bottom = 44, 10, 28, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    vmax = _nice_max(max((max(vals, default=0) for _, vals in series), default=0))
    group_w = plot_w / len(categories)
    bar_w = min(36.0, max(1.0, (group_w * 0.8) / len(series)))
    ticks = int(vmax) if vmax < 4 else 4
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'"
        f" role='img' aria-label='{escape(title)}'><title>{escape(title)}</title>"
    ]
    for k in range(ticks + 1):
        value = vmax * k / ticks
        y = top + plot_h - plot_h * k / ticks
        parts.append(
            f"<line x1='{left}' x2='{width - right}' y1='{y:.1f}' y2='{y:.1f}' stroke='#ddd'/>"
            f"<text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end' {FONT}>{_fmt(value)}</text>"
        )
    label_every = max(1, len(categories) // 14)
    for i, category in enumerate(categories):
        gx = left + i * group_w + (group_w - bar_w * len(series)) / 2
        for s, (name, values) in enumerate(series):
            value = values[i]
            bar_h = plot_h * value / vmax
            x = gx + s * bar_w
            parts.append(
                f"<rect x='{x:.1f}' y='{top + plot_h - bar_h:.1f}' width='{bar_w:.1f}'"
                f" height='{bar_h:.1f}' fill='{PALETTE[s % len(PALETTE)]}'>"
                f"<title>{escape(category)} · {escape(name)}: {_fmt(value)}</title></rect>"
            )
        if i % label_every == 0:
            cx = left + i * group_w + group_w / 2
            parts.append(
                f"<text x='{cx:.1f}' y='{top + plot_h + 16}' text-anchor='middle' {FONT}>"
                f"{escape(category[5:] if len(category) == 10 else category)}</text>"
            )
    lx = left
    for s, (name, _) in enumerate(series):
        parts.append(
            f"<rect x='{lx}' y='{height - 18}' width='12' height='12'"
            f" fill='{PALETTE[s % len(PALETTE)]}'/>"
            f"<text x='{lx + 16}' y='{height - 8}' {FONT}>{escape(name)}</text>"
        )
        lx += 30 + 8 * len(name)
    parts.append("</svg>")
    return "".join(parts)
