"""Small inline SVG bar charts drawn on the server (no JavaScript chart library to vendor)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, GAP = 360, 90, 2


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], color: str) -> Markup:
    """One series as bars, with the total and the peak; each bar has its label as a tooltip."""
    n = max(len(values), 1)
    peak = max(values, default=0) or 1
    bar = (WIDTH - GAP * n) / n
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        h = 0 if not value else max(1.0, (HEIGHT - 12) * value / peak)
        x = i * (bar + GAP)
        bars.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="{color}"><title>{escape(label)}: {value:g}</title></rect>'
        )
    total = sum(values)
    return Markup(
        f'<figure class="chart"><figcaption>{escape(title)} <b>{total:g}</b> '
        f"<small>(peak {max(values, default=0):g})</small></figcaption>"
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">{"".join(bars)}</svg></figure>'
    )
