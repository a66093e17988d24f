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


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def draw_chart(pdf: FPDF, chart: dict[str, Any], x: float, y: float, w: float, h: float) -> None:
    """Draw `chart` in the box at (x, y), `w` by `h` mm."""
    labels = [str(label) for label in chart["labels"]]
    series = [s for s in chart["series"] if s["values"]]
    stacked = chart["chart"] == "stacked_bar"
    lines = chart["chart"] == "line"
    fills = colours([s["name"] for s in series])
    values = [[float(v) if v is not None else None for v in s["values"]] for s in series]
    if stacked:
        peaks = [sum(v[i] or 0 for v in values) for i in range(len(labels))]
    else:
        peaks = [v or 0 for vs in values for v in vs]
    top = max([*peaks, 0.0])
    step = _step(top)
    top = step * max(1, math.ceil(top / step))
    plot_x, plot_w = x + AXIS, w - AXIS
    plot_y, plot_h = y, h - UNDER - LEGEND
    pdf.set_font(pdf.font_family, "", 6.5)
    pdf.set_text_color(80, 80, 80)
    pdf.set_draw_color(200, 205, 212)
    pdf.set_line_width(0.2)
    tick = 0.0
    while tick <= top + 1e-9:
        ty = plot_y + plot_h - plot_h * tick / top
        pdf.line(plot_x, ty, plot_x + plot_w, ty)
        text = _number(tick)
        pdf.text(plot_x - 1.5 - pdf.get_string_width(text), ty + 1, text)
        tick += step
    if not labels:
        pdf.text(plot_x + 4, plot_y + plot_h / 2, "Nothing to show for what was asked.")
        return
    slot = plot_w / len(labels)
    every = max(1, math.ceil(len(labels) / max(1, plot_w // 16)))
    for i, label in enumerate(labels):
        if i % every == 0:
            shown = label if len(label) <= 14 else label[:13] + "…"
            width = pdf.get_string_width(shown)
            pdf.text(plot_x + slot * (i + 0.5) - width / 2, plot_y + plot_h + 4, shown)
    base = plot_y + plot_h
    if lines:
        pdf.set_line_width(0.5)
        for vs, fill in zip(values, fills, strict=True):
            pdf.set_draw_color(*rgb(fill))
            points = [
                (plot_x + slot * (i + 0.5), base - plot_h * v / top)
                for i, v in enumerate(vs)
                if v is not None
            ]
            for (x1, y1), (x2, y2) in pairwise(points):
                pdf.line(x1, y1, x2, y2)
    else:
        inner = slot * 0.8
        bar = inner if stacked else inner / max(1, len(series))
        for i in range(len(labels)):
            left, height_so_far = plot_x + slot * i + slot * 0.1, 0.0
            for n, (vs, fill) in enumerate(zip(values, fills, strict=True)):
                v = vs[i] if i < len(vs) else None
                if not v:
                    continue
                height = plot_h * v / top
                pdf.set_fill_color(*rgb(fill))
                if stacked:
                    pdf.rect(left, base - height_so_far - height, bar, height, style="F")
                    height_so_far += height
                else:
                    pdf.rect(left + bar * n, base - height, bar, height, style="F")
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(0.3)
    pdf.line(plot_x, base, plot_x + plot_w, base)
    legend_x, legend_y = plot_x, y + h - LEGEND + 3
    pdf.set_font(pdf.font_family, "", 7)
    pdf.set_text_color(40, 40, 40)
    for s, fill in zip(series, fills, strict=True):
        pdf.set_fill_color(*rgb(fill))
        pdf.rect(legend_x, legend_y - 2.5, 3, 3, style="F")
        pdf.text(legend_x + 4, legend_y, s["name"])
        legend_x += 8 + pdf.get_string_width(s["name"])
