"""Server-side SVG charts: no JavaScript, no CDN, printable.

Two shapes cover the reports: horizontal bars for categories (channels, fields,
areas, units) and paired columns for a time series (received / resolved per
day or week). Every chart is drawn with a ``<title>`` and ``role="img"`` and is
shown beside a table with the same numbers, which is what screen readers and
exports use.
"""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#0b57d0", "#1e7b34", "#a15c00", "#b3261e", "#6d3fb2", "#00796b", "#5b6675")


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def bar_chart(items: Sequence[tuple[str, float]], title: str, *, width: int = 560,
              unit: str = "", color: str = PALETTE[0], label_width: int = 190) -> Markup:
    """Horizontal bars, one per (label, value), longest scaled to the full width."""
    row_h, gap, top = 22, 6, 4
    height = top + len(items) * (row_h + gap) + 4
    biggest = max((v for _, v in items), default=0) or 1
    span = width - label_width - 70
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} '
              f'{max(height, 30)}" role="img" aria-label="{escape(title)}">'),
             f"<title>{escape(title)}</title>"]
    if not items:
        parts.append('<text x="4" y="20" class="chart-empty" fill="#5b6675">Không có dữ liệu'
                     '</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * (row_h + gap)
        w = max(1.0, span * value / biggest) if value else 0
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" font-size="12" '
            f'fill="#1c2430">{escape(short)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{row_h}" rx="3" '
            f'fill="{color}"><title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>'
            f'<text x="{label_width + w + 6:.1f}" y="{y + 15}" font-size="12" '
            f'fill="#1c2430">{_fmt(value)}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(points: Sequence[tuple[str, Sequence[float]]], series: Sequence[str],
                 title: str, *, width: int = 760, height: int = 220) -> Markup:
    """Grouped columns: for each x label, one column per series (with a legend)."""
    left, bottom, top, right = 40, 36, 24, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    biggest = max((v for _, values in points for v in values), default=0) or 1
    step = plot_w / max(1, len(points))
    col_w = max(1.0, min(18.0, step * 0.8 / max(1, len(series))))
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} '
              f'{height}" role="img" aria-label="{escape(title)}">'),
             f"<title>{escape(title)}</title>"]
    for k in range(5):  # light grid with the scale
        value = biggest * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d9dee5" stroke-width="1"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
                     f'fill="#5b6675">{_fmt(round(value))}</text>')
    label_every = max(1, round(len(points) / 12))
    for i, (label, values) in enumerate(points):
        x0 = left + i * step + (step - col_w * len(series)) / 2
        for j, value in enumerate(values):
            h = plot_h * value / biggest
            parts.append(f'<rect x="{x0 + j * col_w:.1f}" y="{top + plot_h - h:.1f}" '
                         f'width="{col_w:.1f}" height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                         f'<title>{escape(label)} – {escape(series[j])}: {_fmt(value)}</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text x="{left + i * step + step / 2:.1f}" y="{height - bottom + 14}" '
                         f'text-anchor="middle" font-size="10" fill="#5b6675">{escape(label)}</text>')
    for j, name in enumerate(series):  # legend
        x = left + j * 130
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{x + 16}" y="14" font-size="11" fill="#1c2430">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
