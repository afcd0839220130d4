"""Small inline SVG charts, drawn here so the report needs no chart library and no network.

Every data mark (bar, cell, dot) carries ``class="mark"`` so that a test can count what a
chart drew; hover text is a native ``<title>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = {
    "complete": "#2e7d32",
    "incomplete": "#f9a825",
    "pending": "#cfd8dc",
    "bar": "#5c7cfa",
    "alert": "#d32f2f",
    "muted": "#90a4ae",
    "line": "#37474f",
}
FONT = 'font-family="sans-serif" font-size="11"'


def fmt(value: float, digits: int = 1) -> str:
    """A number for a label: no trailing zeros, a dash when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}f}"


def svg(width: int, height: int, body: str, label: str) -> str:
    """An ``<svg>`` element of the given size with an accessible label."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">{body}</svg>'
    )


def rect(
    x: float, y: float, w: float, h: float, fill: str, title: str = "", mark: bool = True
) -> str:
    """A rectangle, a data mark unless ``mark`` is False."""
    cls = ' class="mark"' if mark else ""
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<rect{cls} x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
        f'fill="{fill}">{tip}</rect>'
    )


def text(
    x: float, y: float, words: str, anchor: str = "start", size: int = 11, fill: str = "#263238"
) -> str:
    """A text label."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}">{escape(words)}</text>'
    )


def line(
    x1: float, y1: float, x2: float, y2: float, stroke: str = "#37474f", dash: bool = False
) -> str:
    """A straight line."""
    extra = ' stroke-dasharray="4 3"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"{extra}/>'
    )


def stacked_bars(
    labels: Sequence[str],
    parts: dict[str, Sequence[float]],
    colors: dict[str, str],
    names: dict[str, str],
    title: str,
    width: int = 720,
) -> str:
    """Horizontal stacked bars, one per label, parts in the order given, with a legend."""
    row, left, top = 22, 150, 24
    totals = [sum(values[i] for values in parts.values()) for i in range(len(labels))]
    scale = (width - left - 60) / max(max(totals, default=0), 1)
    body = [_legend(list(parts), colors, names, left, 12)]
    for i, label in enumerate(labels):
        y = top + i * row
        body.append(text(left - 6, y + 14, _clip(label, 22), "end"))
        x = left
        for part, values in parts.items():
            w = values[i] * scale
            body.append(
                rect(x, y + 3, w, row - 6, colors[part], f"{label}: {names[part]} {fmt(values[i])}")
            )
            x += w
        body.append(text(x + 4, y + 14, fmt(totals[i])))
    return svg(width, top + row * len(labels) + 8, "".join(body), title)


def histogram(
    counts: Sequence[float],
    edges: Sequence[float],
    title: str,
    xlabel: str,
    markers: Sequence[tuple[float, str, str]] = (),
    width: int = 360,
    height: int = 150,
    color: str = PALETTE["bar"],
    chart_id: str = "",
) -> str:
    """Bars over ``edges`` with optional vertical markers ``(x, label, color)``."""
    left, right, top, bottom = 36, 26, 18, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(counts, default=0), 1)
    lo, hi = edges[0], edges[-1]
    span = (hi - lo) or 1.0

    def x_of(v: float) -> float:
        return left + (v - lo) / span * plot_w

    body = [text(left, 12, title, size=12)]
    for i, count in enumerate(counts):
        x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
        h = count / peak * plot_h
        tip = f"{fmt(edges[i], 2)}–{fmt(edges[i + 1], 2)}: {fmt(count)}"
        body.append(rect(x0 + 0.5, top + plot_h - h, x1 - x0 - 1, h, color, tip))
    body.append(line(left, top + plot_h, left + plot_w, top + plot_h))
    for v in (lo, (lo + hi) / 2, hi):
        body.append(text(x_of(v), top + plot_h + 13, fmt(v, 2), "middle", 10))
    body.append(text(left + plot_w / 2, height - 3, xlabel, "middle", 10))
    body.append(text(left - 4, top + 8, fmt(peak), "end", 10))
    for value, label, stroke in markers:
        if math.isfinite(value) and lo <= value <= hi:
            body.append(line(x_of(value), top, x_of(value), top + plot_h, stroke, dash=True))
            body.append(text(x_of(value) + 3, top + 8, label, size=10, fill=stroke))
    data = (
        f' data-lo="{lo}" data-hi="{hi}" data-left="{left}" data-plot="{plot_w}"'
        if chart_id
        else ""
    )
    ident = f' id="{chart_id}"' if chart_id else ""
    return svg(width, height, "".join(body), title).replace("<svg ", f"<svg{ident}{data} ", 1)


def heatmap(
    matrix: Sequence[Sequence[float]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str,
    cell: int = 14,
) -> str:
    """A grid of cells shaded by value (white to dark blue), labelled rows and columns."""
    left, top = 34, 40
    peak = max((max(r, default=0) for r in matrix), default=0) or 1
    cell_w = max(6, min(cell, 900 // max(len(col_labels), 1)))
    body = []
    every = max(1, math.ceil(len(col_labels) / 15))
    for j, label in enumerate(col_labels):
        if j % every == 0:
            body.append(
                f'<text transform="translate({left + j * cell_w + cell_w / 2:.1f},{top - 4}) '
                f'rotate(-45)" font-size="9" fill="#263238">{escape(label)}</text>'
            )
    for i, label in enumerate(row_labels):
        body.append(text(left - 4, top + i * cell + cell - 3, label, "end", 9))
        for j, value in enumerate(matrix[i]):
            if value <= 0:
                continue
            shade = 0.15 + 0.85 * value / peak
            fill = f"rgba(21,101,192,{shade:.2f})"
            body.append(
                rect(
                    left + j * cell_w,
                    top + i * cell,
                    cell_w - 1,
                    cell - 1,
                    fill,
                    f"{col_labels[j]} {label}: {fmt(value)}",
                )
            )
    width = left + cell_w * len(col_labels) + 10
    return svg(max(width, 200), top + cell * len(row_labels) + 6, "".join(body), title)


def scatter(
    points: Sequence[tuple[float, float, str, str]],
    curves: Sequence[tuple[Sequence[tuple[float, float]], str, bool]],
    title: str,
    xlabel: str,
    ylabel: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    width: int = 520,
    height: int = 260,
) -> str:
    """Dots ``(x, y, color, tip)`` and polylines ``(points, color, dashed)`` on linear axes."""
    left, right, top, bottom = 44, 12, 14, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    (x0, x1), (y0, y1) = x_range, y_range
    xs, ys = (x1 - x0) or 1.0, (y1 - y0) or 1.0

    def px(x: float) -> float:
        return left + (x - x0) / xs * plot_w

    def py(y: float) -> float:
        return top + plot_h - (min(max(y, y0), y1) - y0) / ys * plot_h

    body = [
        line(left, top + plot_h, left + plot_w, top + plot_h),
        line(left, top, left, top + plot_h),
    ]
    for v in (x0, (x0 + x1) / 2, x1):
        body.append(text(px(v), top + plot_h + 13, fmt(v), "middle", 10))
    for v in (y0, (y0 + y1) / 2, y1):
        body.append(text(left - 4, py(v) + 3, fmt(v), "end", 10))
    body.append(text(left + plot_w / 2, height - 3, xlabel, "middle", 10))
    body.append(
        f'<text transform="translate(11,{top + plot_h / 2:.0f}) rotate(-90)" font-size="10" '
        f'text-anchor="middle">{escape(ylabel)}</text>'
    )
    for curve, color, dashed in curves:
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in curve if math.isfinite(y))
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        body.append(f'<polyline points="{path}" fill="none" stroke="{color}"{dash}/>')
    for x, y, color, tip in points:
        body.append(
            f'<circle class="mark" cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}" '
            f'fill-opacity="0.75"><title>{escape(tip)}</title></circle>'
        )
    return svg(width, height, "".join(body), title)


def vertical_bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    colors: Sequence[str] | None = None,
    width: int = 520,
    height: int = 170,
    label_every: int = 1,
) -> str:
    """Vertical bars, one per label."""
    left, top, bottom = 36, 18, 28
    plot_h = height - top - bottom
    bar_w = (width - left - 10) / max(len(values), 1)
    peak = max(max(values, default=0), 1e-12)
    body = [text(left, 12, title, size=12), line(left, top + plot_h, width - 10, top + plot_h)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = value / peak * plot_h
        fill = colors[i] if colors else PALETTE["bar"]
        body.append(
            rect(
                left + i * bar_w + 0.5,
                top + plot_h - h,
                bar_w - 1,
                h,
                fill,
                f"{label}: {fmt(value, 3)}",
            )
        )
        if i % label_every == 0:
            body.append(text(left + i * bar_w + bar_w / 2, top + plot_h + 12, label, "middle", 9))
    body.append(text(left - 4, top + 8, fmt(peak, 3), "end", 10))
    return svg(width, height, "".join(body), title)


def box_rows(
    rows: Sequence[tuple[str, Sequence[float], int]],
    title: str,
    xlabel: str,
    x_max: float,
    marker: tuple[float, str] | None = None,
    width: int = 720,
) -> str:
    """One horizontal box per row ``(label, (p5, p25, p50, p75, p95), n)``: whiskers p5-p95,
    box p25-p75, median tick; an optional dashed vertical marker ``(x, label)``."""
    left, right, top, row_h = 150, 20, 36, 18
    plot_w = width - left - right
    height = top + row_h * len(rows) + 28
    span = x_max or 1.0

    def px(v: float) -> float:
        return left + min(max(v, 0.0), span) / span * plot_w

    body = [text(10, 12, title, size=12)]
    for i, (label, (p5, p25, p50, p75, p95), n) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        body.append(text(left - 6, y + 4, _clip(label, 24), "end", 10))
        body.append(line(px(p5), y, px(p95), y, PALETTE["muted"]))
        tip = f"{label}: median {fmt(p50)}, {fmt(p25)}-{fmt(p75)} (n={n})"
        body.append(rect(px(p25), y - 5, px(p75) - px(p25), 10, PALETTE["bar"], tip))
        body.append(line(px(p50), y - 6, px(p50), y + 6, "#ffffff"))
    axis_y = top + row_h * len(rows) + 4
    body.append(line(left, axis_y, left + plot_w, axis_y))
    for v in (0, span / 2, span):
        body.append(text(px(v), axis_y + 13, fmt(v), "middle", 10))
    body.append(text(left + plot_w / 2, height - 2, xlabel, "middle", 10))
    if marker is not None and math.isfinite(marker[0]):
        x = px(marker[0])
        body.append(line(x, top - 12, x, axis_y, PALETTE["alert"], dash=True))
        body.append(text(x + 3, top - 4, marker[1], size=10, fill=PALETTE["alert"]))
    return svg(width, height, "".join(body), title)


def tiles(
    items: Sequence[tuple[str, float, str]], title: str, size: int = 14, width: int = 720
) -> str:
    """Small squares coloured by a 0-100 share (PSU completion), with hover text."""
    per_row = max(1, (width - 10) // (size + 2))
    body = []
    for i, (_, pct, tip) in enumerate(items):
        x, y = 5 + (i % per_row) * (size + 2), 5 + (i // per_row) * (size + 2)
        body.append(rect(x, y, size, size, _green(pct), tip))
    rows = math.ceil(len(items) / per_row) if items else 1
    return svg(width, 10 + rows * (size + 2), "".join(body), title)


def _green(pct: float) -> str:
    """White (0%) to dark green (100%)."""
    share = 0 if not math.isfinite(pct) else max(0.0, min(pct, 100.0)) / 100
    r, g, b = (int(236 - share * (236 - c)) for c in (46, 125, 50))
    return f"rgb({r},{g},{b})"


def _legend(
    parts: list[str], colors: dict[str, str], names: dict[str, str], x: float, y: float
) -> str:
    body = []
    for part in parts:
        body.append(rect(x, y - 9, 10, 10, colors[part], mark=False))
        body.append(text(x + 14, y, names[part]))
        x += 24 + 7 * len(names[part]) * (2 if any(ord(c) > 0x2E80 for c in names[part]) else 1)
    return "".join(body)


def _clip(label: str, n: int) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"
