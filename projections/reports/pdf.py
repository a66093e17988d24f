"""Report exports as PDF: a table on landscape A4 pages under the company's branding (its
logo or name, in its colour), the title and what was asked, with the header row again on
every page and "page n of m" at the foot. Rows are written as they come, a chunk at a
time; the finished file goes to an unnamed temporary file and is streamed from there (a
PDF's cross-reference table is only known at the end, as an XLSX's zip directory is).

Text is set in DejaVu Sans (vendored in `fonts/`, Bitstream Vera licence): every script a
customer's name or an item's title may use in Latin, Greek or Cyrillic letters prints as
written; a cell too long for its column is cut with "…"."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fpdf import FPDF

from projections.reports.pdf_chart import draw_chart

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
BODY_SIZE = 7.5
ROW_HEIGHT = 5.0
MARGIN = 10.0


@dataclass(frozen=True)
class Brand:
    """What a report is branded with: the company's name, its colour (`#rrggbb`) and its
    logo (a PNG, JPEG or GIF image's bytes; None: the name is shown instead)."""

    name: str
    colour: str
    logo: bytes | None = None


def _rgb(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    if len(text) != 6:
        return (31, 111, 235)
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


class _Report(FPDF):
    def __init__(
        self, brand: Brand, title: str, subtitle: str, columns: list[str], widths: list[float]
    ) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.brand, self.title_text, self.subtitle = brand, title, subtitle
        self.charting = False  # the chart's page: no table header
        self.columns, self.widths = columns, widths
        self._widths: dict[tuple[str, str, float, str], float] = {}
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 6)
        self.alias_nb_pages()
        self.set_title(title)
        self.set_creator(brand.name)

    def header(self) -> None:
        colour = _rgb(self.brand.colour)
        shown = False
        if self.brand.logo is not None:
            try:
                self.image(io.BytesIO(self.brand.logo), x=MARGIN, y=MARGIN - 2, h=10)
                shown = True
            except Exception:  # noqa: BLE001 - a logo it cannot read: the name instead
                shown = False
        self.set_font(FONT, "B", 12)
        self.set_text_color(*colour)
        self.set_xy(MARGIN + (32 if shown else 0), MARGIN - 1)
        self.cell(0, 6, self.brand.name)
        self.set_draw_color(*colour)
        self.set_line_width(0.6)
        self.line(MARGIN, MARGIN + 10, self.w - MARGIN, MARGIN + 10)
        self.set_xy(MARGIN, MARGIN + 12)
        self.set_text_color(0, 0, 0)
        self.set_font(FONT, "B", 11)
        self.cell(0, 6, self.title_text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.subtitle, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)
        if self.charting:
            return
        self.set_fill_color(*colour)
        self.set_text_color(255, 255, 255)
        self.set_font(FONT, "B", BODY_SIZE)
        for name, width in zip(self.columns, self.widths, strict=True):
            self.cell(width, ROW_HEIGHT + 1, self._fit(name, width), border=0, fill=True)
        self.ln(ROW_HEIGHT + 1)
        self.set_text_color(0, 0, 0)
        self.set_font(FONT, "", BODY_SIZE)

    def footer(self) -> None:
        self.set_y(-MARGIN - 2)
        self.set_font(FONT, "", 7)
        self.set_text_color(120, 120, 120)
        self.cell(0, 4, f"{self.title_text} · page {self.page_no()} of {{nb}}", align="R")

    def _width(self, char: str) -> float:
        """One character's width in the current font and size (measured once)."""
        key = (self.font_family, self.font_style, self.font_size_pt, char)
        found = self._widths.get(key)
        if found is None:
            found = self._widths[key] = self.get_string_width(char)
        return found

    def _fit(self, text: str, width: float) -> str:
        """`text` cut to what fits in `width` (less a little padding), with "…"."""
        room = width - 2 * self.c_margin
        used = 0.0
        for n, char in enumerate(text):
            used += self._width(char)
            if used > room:  # The longest prefix that fits with its ellipsis.
                ellipsis, kept = self._width("…"), text[:n]
                while kept and sum(map(self._width, kept)) + ellipsis > room:
                    kept = kept[:-1]
                return kept + "…"
        return text

    def row(self, values: list[str], shaded: bool) -> None:
        """One table row: placed text, not cells (a cell's box logic costs more than the
        text), a new page (and header) when the row would not fit."""
        if self.y + ROW_HEIGHT > self.page_break_trigger:
            self.add_page()
        if shaded:
            self.set_fill_color(243, 245, 248)
            self.rect(self.l_margin, self.y, sum(self.widths), ROW_HEIGHT, style="F")
        x, baseline = self.l_margin, self.y + ROW_HEIGHT * 0.7
        for value, width in zip(values, self.widths, strict=True):
            if value:
                self.text(x + self.c_margin, baseline, self._fit(value, width))
            x += width
        self.set_y(self.y + ROW_HEIGHT)


def _widths(columns: list[str], weights: dict[str, float], total: float) -> list[float]:
    shares = [weights.get(c, 1.0) for c in columns]
    return [total * share / sum(shares) for share in shares]


def pdf_file(
    brand: Brand,
    title: str,
    subtitle: str,
    columns: list[str],
    rows: Iterable[dict[str, Any]],
    weights: dict[str, float] | None = None,
    chart: dict[str, Any] | None = None,
) -> IO[bytes]:
    """The report as a PDF in an unnamed temporary file (deleted when closed), at its
    start. `weights`: how much wider than others a column is (default 1 each); `chart`: a
    chart of it, on a page of its own before the table (`pdf_chart.draw_chart`)."""
    usable = 297 - 2 * MARGIN
    pdf = _Report(brand, title, subtitle, columns, _widths(columns, weights or {}, usable))
    if chart is not None:
        pdf.charting = True
        pdf.add_page()
        pdf.set_font(FONT, "B", 10)
        pdf.cell(0, 6, _text(chart.get("title", "")), new_x="LMARGIN", new_y="NEXT")
        draw_chart(pdf, chart, MARGIN, pdf.y + 2, usable, 210 - pdf.y - 2 * MARGIN - 8)
        pdf.charting = False
    pdf.add_page()
    written = 0
    for row in rows:
        pdf.row([_text(row.get(c)) for c in columns], shaded=written % 2 == 1)
        written += 1
    if written == 0:
        pdf.cell(0, ROW_HEIGHT * 2, "Nothing to show for what was asked.")
    file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by file_blocks after streaming
    try:
        pdf.output(file)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file
