"""Report exports on the read side: CSV and XLSX files made from report rows, with cells a
spreadsheet would run as formulas neutralised."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl
import pytest

from projections.reports import export

COLUMNS = ["user_name", "minutes", "hours", "note"]


def rows(n: int, name: str = "Ada") -> list[dict[str, Any]]:
    return [{"user_name": name, "minutes": 90, "hours": 1.5, "note": None} for _ in range(n)]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(text: str) -> None:
    assert export.neutralised(text) == "'" + text


@pytest.mark.parametrize("text", ["Dig", "", "1-2", "a=b"])
def test_plain_text_is_left_alone(text: str) -> None:
    assert export.neutralised(text) == text


def test_csv_comes_in_blocks_of_500_rows_with_hours_to_two_places_and_formulas_neutralised() -> (
    None
):
    # Given 1,001 report rows whose name looks like a formula
    given = rows(1001, name="=cmd|'/c calc'!A1")

    # When they are written as CSV
    blocks = list(export.csv_blocks(COLUMNS, given))

    # Then they come in three blocks (500, 500 and the rest), the header first, each cell as
    # a spreadsheet must show it: the formula as text, hours to two places, None empty
    assert len(blocks) == 3
    lines = list(csv.reader(io.StringIO(b"".join(blocks).decode())))
    assert lines[0] == COLUMNS
    assert len(lines) == 1 + 1001
    assert lines[1] == ["'=cmd|'/c calc'!A1", "90", "1.50", ""]


def test_the_workbook_goes_on_to_a_new_sheet_when_one_is_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given sheets of a header and 3 rows, and 7 rows whose name looks like a formula
    monkeypatch.setattr(export, "SHEET_ROWS", 4)

    # When the rows are written as a workbook and streamed back in blocks
    file = export.xlsx_file(COLUMNS, rows(7, name="=1+1"))
    file.seek(0)
    content = b"".join(export.file_blocks(file))

    # Then three sheets hold them, every one with the header, text written as text
    assert file.closed
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Time 1", "Time 2", "Time 3"]
    counts = [workbook[name].max_row - 1 for name in workbook.sheetnames]
    assert counts == [3, 3, 1]
    header, first = workbook["Time 1"].iter_rows(max_row=2)
    assert [c.value for c in header] == COLUMNS
    assert (first[0].value, first[0].data_type) == ("=1+1", "s")
    assert (first[1].value, first[2].value, first[3].value) == (90, 1.5, None)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert not any(b"<f>" in archive.read(n) for n in archive.namelist())
