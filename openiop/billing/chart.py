"""An authorization's burn-down as a server-rendered SVG string: the balance (authorized minus
used minus planned) after each scheduled day, with the zero line, the last authorized day and the
planned discharge marked. Pure: the domain's forecast in, markup out (as measures.chart does for
score trends), so the page needs no script."""

from __future__ import annotations

import datetime as dt
from html import escape

from openiop.billing.domain.authorizations import Forecast

WIDTH, HEIGHT = 600, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 34


def burndown_svg(forecast: Forecast, *, title: str) -> str:
    """A step line of the balance over the planned days; below zero is the shortfall (red)."""
    auth = forecast.authorization
    points = list(forecast.series)
    first = forecast.today
    marks = [auth.end] + ([forecast.planned_discharge] if forecast.planned_discharge else [])
    last = max([p.day for p in points] + [first + dt.timedelta(days=1)] + marks)
    top = max(auth.authorized, max(p.balance for p in points))
    bottom = min(0, min(p.balance for p in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span_days = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return LEFT + ((day - first).days / span_days) * plot_w

    def y(value: int) -> float:
        return TOP + (top - value) / max(top - bottom, 1) * plot_h

    unit = auth.unit_kind.value
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" class="burndown-chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#333"/>',
        f'<text x="{LEFT - 4}" y="{y(0) + 3:.1f}" font-size="9" text-anchor="end">0</text>',
        f'<text x="{LEFT - 4}" y="{y(top) + 8:.1f}" font-size="9" text-anchor="end">{top}</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="9">{first:%b %-d}</text>',
        f'<text x="{LEFT + plot_w}" y="{HEIGHT - 8}" font-size="9" text-anchor="end">'
        f"{last:%b %-d}</text>",
    ]
    for day, label, colour in (
        (auth.end, "last authorized day", "#b26a00"),
        (forecast.planned_discharge, "planned discharge", "#1a4f8b"),
    ):
        if day is None:
            continue
        parts.append(
            f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
            f'stroke="{colour}" stroke-dasharray="4 3"><title>{label}: {day:%b %-d, %Y}</title>'
            f'</line><text x="{x(day) + 3:.1f}" y="{TOP + 9}" font-size="9" fill="{colour}">'
            f"{label}</text>"
        )
    coords: list[str] = []
    previous = None
    for point in points:
        if previous is not None:
            coords.append(f"{x(point.day):.1f},{y(previous):.1f}")
        coords.append(f"{x(point.day):.1f},{y(point.balance):.1f}")
        previous = point.balance
    parts.append(
        f'<polyline fill="none" stroke="#2e7d32" stroke-width="2" points="{" ".join(coords)}"/>'
    )
    for point in points:
        colour = "#c62828" if point.balance < 0 else "#2e7d32"
        parts.append(
            f'<circle cx="{x(point.day):.1f}" cy="{y(point.balance):.1f}" r="2.5" '
            f'fill="{colour}"><title>{point.day:%a %b %-d}: {point.balance} {unit} left'
            f"</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
