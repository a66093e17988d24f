"""A report's chart on a PDF page, drawn with fpdf2's own shapes from the chart's data
(`labels` along the axis, a series per measure; the shape of the dashboard widgets).

fpdf2 reads SVG without style sheets, and the SVG charts (pygal) colour by style sheet, so
the printed chart is drawn here: bars (side by side or stacked) or lines over a value axis
with gridlines, labels under the axis (every few when many), and a legend."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from fpdf import FPDF

# The house palette (shared with the SVG charts): the red kept for what went wrong.
PALETTE = ("#2f6fae", "#3f9f6f", "#d9822b", "#8e5bb5", "#5f8ea8", "#a39e3c", "#b5651d")
COLOURS = {"breached": "#c23b3b", "ideal": "#9aa5b1", "late": "#c23b3b", "days late": "#c23b3b"}
AXIS = 14.0  # mm for the value labels left of the plot
UNDER = 12.0  # mm for the labels under it
LEGEND = 8.0


def colours(names: list[str]) -> list[str]:
    """Each series' colour, in order: its own, else the palette's next."""
    spare = iter(PALETTE * (1 + len(names) // len(PALETTE)))
    return [COLOURS.get(name) or next(spare) for name in names]


def rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _step(top: float) -> float:
    """A round gridline step giving about five lines up to `top`."""
    raw = top / 5 if top > 0 else 1
    power = 10.0 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw))


def _number(value: float, step: float) -> str:
    """A gridline's value, with as many decimals as its step needs (2.5 is not 2)."""
    decimals = next((d for d in range(6) if abs(step * 10**d - round(step * 10**d)) < 1e-9), 6)
    return f"{value:,.{decimals}f}"


def _values(series: list[dict[str, Any]]) -> list[list[float | None]]:
    """Each series' values as numbers, negatives drawn as 0 (the axis starts at 0)."""
    return [[max(float(v), 0.0) if v is not None else None for v in s["values"]] for s in series]


def _fit(pdf: FPDF, text: str, room: float) -> str:
    """`text` cut with "…" to fit `room` mm."""
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "…") > room:
        text = text[:-1]
    return text + "…"


def draw_chart(pdf: FPDF, chart: dict[str, Any], x: float, y: float, w: float, h: float) -> None:
    """Draw `chart` in the box at (x, y), `w` by `h` mm."""
    labels = [str(label) for label in chart["labels"]]
    series = [s for s in chart["series"] if s["values"]]
    fills = colours([s["name"] for s in series])
    values = _values(series)
    pdf.set_font(pdf.font_family, "", 6.5)
    pdf.set_text_color(80, 80, 80)
    if not labels or not series:
        pdf.text(x + 4, y + 10, "No values to chart.")
        return
    if chart["chart"] == "horizontal_bar":
        _horizontal(pdf, labels, values, fills, x, y, w, h - LEGEND)
    else:
        _vertical(pdf, chart["chart"], labels, values, fills, x, y, w, h - LEGEND)
    _legend(pdf, series, fills, x + AXIS, y + h - LEGEND + 3)


def _top(values: list[list[float | None]], stacked: bool, count: int) -> tuple[float, float]:
    """The value axis's top and its gridline step."""
    if stacked:
        peaks = [sum(v[i] or 0 for v in values if i < len(v)) for i in range(count)]
    else:
        peaks = [v or 0 for vs in values for v in vs]
    top = max([*peaks, 0.0])
    step = _step(top)
    return step * max(1, math.ceil(top / step)), step


def _gridlines(pdf: FPDF, top: float, step: float) -> list[tuple[float, str]]:
    """Each gridline's place along the value axis (0 to 1) and its label, in the grid's
    colour and weight."""
    pdf.set_draw_color(200, 205, 212)
    pdf.set_line_width(0.2)
    count = round(top / step)
    return [(n / count, _number(n * step, step)) for n in range(count + 1)]


def _vertical(
    pdf: FPDF,
    kind: str,
    labels: list[str],
    values: list[list[float | None]],
    fills: list[str],
    x: float,
    y: float,
    w: float,
    h: float,
) -> None:
    stacked, lines = kind == "stacked_bar", kind == "line"
    top, step = _top(values, stacked, len(labels))
    plot_x, plot_w, plot_h = x + AXIS, w - AXIS, h - UNDER
    base = y + plot_h
    for share, text in _gridlines(pdf, top, step):
        ty = base - plot_h * share
        pdf.line(plot_x, ty, plot_x + plot_w, ty)
        pdf.text(plot_x - 1.5 - pdf.get_string_width(text), ty + 1, text)
    slot = plot_w / len(labels)
    shown = [_fit(pdf, label, 24) for label in labels]
    widest = max(pdf.get_string_width(label) for label in shown) + 2
    every = max(1, math.ceil(widest / slot))
    for i, label in enumerate(shown):
        if i % every == 0:
            width = pdf.get_string_width(label)
            pdf.text(plot_x + slot * (i + 0.5) - width / 2, base + 4, label)
    if lines:
        for vs, fill in zip(values, fills, strict=True):
            pdf.set_draw_color(*rgb(fill))
            pdf.set_fill_color(*rgb(fill))
            pdf.set_line_width(0.5)
            points = [
                None if v is None else (plot_x + slot * (i + 0.5), base - plot_h * v / top)
                for i, v in enumerate(vs)
            ]
            for one, two in pairwise(points):  # A gap where a value is missing.
                if one is not None and two is not None:
                    pdf.line(*one, *two)
            for point in points:
                if point is not None:
                    pdf.circle(x=point[0], y=point[1], radius=0.9, style="F")
    else:
        inner = slot * 0.8
        bar = inner if stacked else inner / max(1, len(values))
        for i in range(len(labels)):
            left, below = plot_x + slot * i + slot * 0.1, 0.0
            for n, (vs, fill) in enumerate(zip(values, fills, strict=True)):
                v = vs[i] if i < len(vs) else None
                if not v:
                    continue
                height = plot_h * v / top
                pdf.set_fill_color(*rgb(fill))
                if stacked:
                    pdf.rect(left, base - below - height, bar, height, style="F")
                    below += height
                else:
                    pdf.rect(left + bar * n, base - height, bar, height, style="F")
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(0.3)
    pdf.line(plot_x, base, plot_x + plot_w, base)


def _horizontal(
    pdf: FPDF,
    labels: list[str],
    values: list[list[float | None]],
    fills: list[str],
    x: float,
    y: float,
    w: float,
    h: float,
) -> None:
    """One row per label, its bars side by side across, the labels in a gutter on the left
    (smaller type for many rows; every few when there is no room for all)."""
    top, step = _top(values, False, len(labels))
    gutter = min(w * 0.3, max(pdf.get_string_width(label) for label in labels) + 3)
    plot_x, plot_w, plot_h = x + gutter, w - gutter, h - UNDER
    row = plot_h / len(labels)
    size = max(4.0, min(6.5, row * 2.2))
    for share, text in _gridlines(pdf, top, step):
        tx = plot_x + plot_w * share
        pdf.line(tx, y, tx, y + plot_h)
        pdf.text(tx - pdf.get_string_width(text) / 2, y + plot_h + 4, text)
    pdf.set_font(pdf.font_family, "", size)
    every = max(1, math.ceil(size * 0.45 / row))
    for i, label in enumerate(labels):
        top_y = y + row * i
        if i % every == 0:
            text = _fit(pdf, label, gutter - 3)
            pdf.text(plot_x - 2 - pdf.get_string_width(text), top_y + row / 2 + size * 0.15, text)
        bar = row * 0.8 / max(1, len(values))
        for n, (vs, fill) in enumerate(zip(values, fills, strict=True)):
            v = vs[i] if i < len(vs) else None
            if v:
                pdf.set_fill_color(*rgb(fill))
                pdf.rect(plot_x, top_y + row * 0.1 + bar * n, plot_w * v / top, bar, style="F")
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(0.3)
    pdf.line(plot_x, y, plot_x, y + plot_h)


def _legend(pdf: FPDF, series: list[dict[str, Any]], fills: list[str], x: float, y: float) -> None:
    pdf.set_font(pdf.font_family, "", 7)
    pdf.set_text_color(40, 40, 40)
    for s, fill in zip(series, fills, strict=True):
        pdf.set_fill_color(*rgb(fill))
        pdf.rect(x, y - 2.5, 3, 3, style="F")
        pdf.text(x + 4, y, s["name"])
        x += 8 + pdf.get_string_width(s["name"])
