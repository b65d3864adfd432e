"""A trend chart as a server-rendered SVG string: band thresholds drawn, outcome markers on points.

Pure: points in, markup out, so the same chart reads on screen and in the PDF (WeasyPrint draws SVG).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from openiop.measures.domain.base import Band

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 104, 12, 36
BAND_FILLS = ("#e8f5e9", "#f1f8e9", "#fff8e1", "#ffe0b2", "#ffcdd2")


@dataclass(frozen=True)
class ChartPoint:
    date: dt.date
    total: int
    band: str
    response: bool = False
    remission: bool = False
    reliable: bool = False


def _fill(index: int, count: int) -> str:
    if count <= 1:
        return BAND_FILLS[0]
    step = (len(BAND_FILLS) - 1) / (count - 1)
    return BAND_FILLS[round(index * step)]


def trend_svg(
    *, title: str, points: Sequence[ChartPoint], bands: Sequence[Band], max_total: int
) -> str:
    """An accessible SVG line chart of totals over time with shaded bands.

    Markers: a ring for response, a square for reliable improvement, a star for remission; each point
    has a <title> with its date, total and band so screen readers and hover read it.
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - (value / max_total) * plot_h if max_total else TOP + plot_h

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" class="trend-chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i, band in enumerate(bands):
        top, bottom = y(min(band.high + 1, max_total)), y(band.low)
        parts.append(
            f'<rect x="{LEFT}" y="{top:.1f}" width="{plot_w}" height="{max(bottom - top, 0):.1f}" '
            f'fill="{_fill(i, len(bands))}"><title>{escape(band.name.replace("_", " "))}: '
            f"{band.low}-{band.high}</title></rect>"
        )
        if band.low > 0:
            parts.append(
                f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{bottom:.1f}" y2="{bottom:.1f}" '
                f'stroke="#999" stroke-dasharray="3 3" stroke-width="0.8"/>'
                f'<text x="{LEFT - 4}" y="{bottom + 3:.1f}" font-size="9" text-anchor="end" '
                f'fill="#555">{band.low}</text>'
            )
        parts.append(
            f'<text x="{LEFT + plot_w + 4}" y="{(top + bottom) / 2 + 3:.1f}" font-size="9" '
            f'fill="#555">{escape(band.name.replace("_", " "))}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#333"/>'
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        f'stroke="#333"/><text x="{LEFT - 4}" y="{TOP + 8}" font-size="9" text-anchor="end">'
        f"{max_total}</text>"
    )
    if not points:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            f'font-size="12" fill="#555">No scores yet</text></svg>'
        )
        return "".join(parts)
    first, last = points[0].date, points[-1].date
    span = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        if len(points) == 1:
            return LEFT + plot_w / 2
        return LEFT + 8 + ((day - first).days / span) * (plot_w - 16)

    coords = [(x(p.date), y(p.total)) for p in points]
    parts.append(
        '<polyline fill="none" stroke="#1a4f8b" stroke-width="2" points="'
        + " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        + '"/>'
    )
    for p, (cx, cy) in zip(points, coords, strict=True):
        marks = [
            name
            for name, on in (
                ("response", p.response),
                ("reliable improvement", p.reliable),
                ("remission", p.remission),
            )
            if on
        ]
        label = f"{p.date:%b %-d, %Y}: {p.total} ({p.band.replace('_', ' ')})"
        if marks:
            label += "; " + ", ".join(marks)
        parts.append(f'<g class="point"><title>{escape(label)}</title>')
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="#1a4f8b"/>')
        if p.response:
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="none" stroke="#2e7d32" '
                f'stroke-width="2" data-marker="response"/>'
            )
        if p.reliable:
            parts.append(
                f'<rect x="{cx - 9:.1f}" y="{cy - 9:.1f}" width="18" height="18" fill="none" '
                f'stroke="#6a1b9a" stroke-width="1.2" data-marker="reliable"/>'
            )
        if p.remission:
            parts.append(
                f'<text x="{cx:.1f}" y="{cy - 11:.1f}" text-anchor="middle" font-size="12" '
                f'fill="#2e7d32" data-marker="remission">★</text>'
            )
        parts.append("</g>")
        parts.append(
            f'<text x="{cx:.1f}" y="{TOP + plot_h + 14}" font-size="9" text-anchor="middle" '
            f'fill="#333">{p.date:%b %-d}</text>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 4}" font-size="9" fill="#333">○ response (≥50% drop) · '
        f"□ reliable improvement · ★ remission</text></svg>"
    )
    return "".join(parts)
