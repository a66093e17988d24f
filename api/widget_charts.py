"""Dashboard widgets drawn as SVG charts (pygal), from a widget's data in the common shape
(`projections.reports.dashboard.common`): labels along one axis, a series per measure.

The charts carry no script and fetch nothing (pygal's tooltip script, loaded from its site
by default, is left out, and the configuration it writes for that script is taken out of
the drawing): an SVG from us is a picture, safe to put in a page or a mail. Labels and
titles are text: pygal writes them through its XML tree, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pygal
from pygal.style import Style

from projections.reports.pdf_chart import colours

KINDS = {
    "bar": pygal.Bar,
    "stacked_bar": pygal.StackedBar,
    "horizontal_bar": pygal.HorizontalBar,
    "line": pygal.Line,
}
MAX_LABEL = 32
SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")


def _label(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _style(names: list[str]) -> Style:
    """The house style, with each series' colour (the printed charts' too)."""
    return Style(
        background="white",
        plot_background="white",
        foreground="#1f2933",
        foreground_strong="#1f2933",
        foreground_subtle="#9aa5b1",
        font_family="DejaVu Sans, Arial, sans-serif",
        colors=tuple(colours(names)),
    )


def widget_svg(data: dict[str, Any]) -> bytes:
    """A widget's chart as a standalone SVG document."""
    chart = KINDS[data["chart"]](
        js=[],
        style=_style([s["name"] for s in data["series"]]),
        width=800,
        height=420,
        title=data["title"],
        show_legend=len(data["series"]) > 1,
        legend_at_bottom=True,
        x_label_rotation=30 if len(data["labels"]) > 6 else 0,
        truncate_label=-1,
        print_values=False,
        show_minor_x_labels=len(data["labels"]) <= 31,
        x_labels_major_every=max(1, len(data["labels"]) // 12),
        no_data_text="No data",
        allow_interruptions=True,
    )
    chart.x_labels = [_label(label) for label in data["labels"]]
    for series in data["series"]:
        dashed = {"stroke_style": {"dasharray": "6,4"}} if series["name"] == "ideal" else {}
        chart.add(series["name"], series["values"], **dashed)
    # Read back from pygal's bytes (whichever XML library pygal found, lxml or the stdlib's).
    tree = ET.fromstring(chart.render(is_unicode=False))  # noqa: S314 - our own drawing
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    drawn: bytes = ET.tostring(tree, encoding="utf-8", xml_declaration=True)
    return drawn
