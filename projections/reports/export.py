"""Report exports: rows written as CSV or XLSX, with every cell a spreadsheet would run as a
formula neutralised, streamed in blocks so that no export is held in memory whole."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

import xlsxwriter  # type: ignore[import-untyped]

# A spreadsheet evaluates a cell that starts with one of these as a formula (or DDE).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_ROWS = 1_048_576  # An XLSX sheet's limit: more rows go on to the next sheet.
FILE_BLOCK = 64 * 1024
CSV_BLOCK_ROWS = 500


def neutralised(value: str) -> str:
    """Text a spreadsheet will show, never run: a formula-like start gets an apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return neutralised(value) if isinstance(value, str) else value


def csv_blocks(columns: list[str], rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """CSV text, one block per 500 rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow([_csv_cell(row[c]) for c in columns])
        if n % CSV_BLOCK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_file(columns: list[str], rows: Iterable[dict[str, Any]]) -> IO[bytes]:
    """The workbook in an unnamed temporary file (deleted when closed).

    An XLSX is a zip whose parts are only complete when the last row is in, so it cannot go
    to the socket as it is made. xlsxwriter's `constant_memory` mode flushes each row to
    disk, so memory stays flat however many rows; the finished file is then streamed.
    Text is always written with `write_string`: never a formula, whatever it starts with.
    """
    file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by file_blocks after streaming
    try:
        _write_workbook(file, columns, rows)
    except BaseException:
        file.close()
        raise
    return file


def _write_workbook(file: IO[bytes], columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    workbook = xlsxwriter.Workbook(
        file,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    hours = workbook.add_format({"num_format": "0.00"})

    def new_sheet() -> Any:
        sheet = workbook.add_worksheet(f"Time {len(workbook.worksheets()) + 1}")
        for c, column in enumerate(columns):
            sheet.write_string(0, c, column, bold)
        return sheet

    sheet, line = new_sheet(), 1
    for row in rows:
        if line == SHEET_ROWS:
            sheet, line = new_sheet(), 1
        for c, column in enumerate(columns):
            value = row[column]
            if isinstance(value, str):
                sheet.write_string(line, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(line, c, value, hours if isinstance(value, float) else None)
        line += 1
    workbook.close()


def file_blocks(file: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes from where it stands, a block at a time; closes it at the end."""
    with file:
        while block := file.read(FILE_BLOCK):
            yield block
