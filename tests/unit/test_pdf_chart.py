"""A report's chart on a PDF page: every kind draws, its labels and legend are text on the
page, and awkward data (one point, gaps, negatives, tiny values, many rows, none) draws."""

from __future__ import annotations

import io

import pypdf
import pytest

from projections.reports.pdf import Brand, pdf_file

BRAND = Brand("Acme", "#336699", None)


def chart_page(chart: dict[str, object]) -> str:
    made = pdf_file(BRAND, "Report", "asked", ["a"], [{"a": 1}], None, chart)
    pages = pypdf.PdfReader(io.BytesIO(made.read())).pages
    assert len(pages) == 2  # the chart, then the table
    return str(pages[0].extract_text())


@pytest.mark.parametrize("kind", ["bar", "stacked_bar", "line", "horizontal_bar"])
def test_every_kind_draws_its_labels_and_legend(kind: str) -> None:
    chart = {
        "title": "Tickets",
        "chart": kind,
        "labels": ["2026-11-23", "2026-11-30", "2026-12-07"],
        "series": [
            {"name": "created", "values": [3, 0, 7]},
            {"name": "finished", "values": [1, None, 2]},
        ],
    }
    text = chart_page(chart)
    for word in ("Tickets", "2026-11-30", "created", "finished"):
        assert word in text, (kind, word)


def test_awkward_data_draws() -> None:
    one = {"title": "One", "chart": "line", "labels": ["2026-12-07"],
           "series": [{"name": "median", "values": [0.05]}]}  # fmt: skip
    assert "0.05" in chart_page(one)  # a small top keeps its decimals
    labels = [f"#{n} task" for n in range(40)]
    late = [{"name": "days late", "values": [n - 5 for n in range(40)]}]
    negative = {"title": "Late", "chart": "horizontal_bar", "labels": labels, "series": late}
    assert "#39 task" in chart_page(negative)
    twelve = {"title": "Twelve", "chart": "bar", "labels": ["a", "b"],
              "series": [{"name": "n", "values": [11, 12]}]}  # fmt: skip
    assert "2.5" in chart_page(twelve)  # a step of 2.5 is not shown as 2
    empty = {"title": "None", "chart": "bar", "labels": [], "series": []}
    assert "No values to chart." in chart_page(empty)
