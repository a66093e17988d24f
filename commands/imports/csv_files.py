"""Reading a CSV file for an import, as it streams: its header, its rows, and every problem
by row and column (a header row names the columns; their order is free; a file's own names
may be mapped to them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from domain.errors import DomainError
from domain.text import text_problem

NOT_UTF8 = "the file is not UTF-8 text"
# The longest value a row may hold (a description of 200,000 characters fits): the csv
# module's own limit (131,072) is process-wide, raised here once.
MAX_FIELD = 1_000_000
csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD))
MAX_LINE = 4 * MAX_FIELD  # bytes (UTF-8 takes up to 4 a character)


@dataclass(frozen=True)
class Problem:
    row: int  # 1 is the header; data rows start at 2, as a spreadsheet numbers them.
    column: str
    message: str


class ImportRejectedError(DomainError):
    """Raised with every problem a file has; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            f"{len(problems)} problem(s); nothing was imported. First: row {first.row},"
            f" {first.column}: {first.message}"
        )
        self.problems = problems


@dataclass(frozen=True)
class Columns:
    """The columns a kind of file has."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    max_rows: int = 100_000


def read_csv(
    source: bytes | Iterable[bytes],  # the file's bytes, or its blocks or lines in order
    columns: Columns,
    problems: list[Problem],
    rename: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each data row's line and its values (stripped, by column), after the header is
    checked — read as it streams, never the whole file at once. UTF-8 with or without a
    byte-order mark; `,` or `;` between values (the header line says which); `\n` or
    `\r\n` line ends (a value may span lines in quotes). `rename` maps a file's own header
    names to the columns. A row whose shape or text is wrong is reported in `problems`
    and skipped; a file that cannot be read as CSV raises at once."""
    binary = io.BytesIO(source) if isinstance(source, bytes) else source
    yield from _rows(_lines(binary), columns, problems, rename or {})


def _split(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Blocks of bytes (an upload read a block at a time, or a file's lines) as lines; a
    line longer than any row may be is refused (by the line it is on)."""
    pending: list[bytes] = []
    size, number = 0, 1
    for chunk in chunks:
        *whole, rest = chunk.split(b"\n")
        for part in whole:
            yield b"".join([*pending, part, b"\n"])
            pending, size, number = [], 0, number + 1
        pending.append(rest)
        size += len(rest)
        if size > MAX_LINE:
            raise ImportRejectedError([Problem(number, "file", "a line longer than a row may be")])
    if size:
        yield b"".join(pending)


def _lines(binary: Iterable[bytes]) -> Iterator[str]:
    """The file's lines as text, one at a time (line ends kept; a byte-order mark
    dropped); text that is not UTF-8 is refused naming its line (a line end is never
    part of another character in UTF-8, so each line decodes alone)."""
    for number, raw in enumerate(_split(binary), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportRejectedError([Problem(number, "file", NOT_UTF8)]) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def _delimiter(header: str) -> str:
    """`;` when the header line has more of them than commas (outside quotes), else `,`."""
    outside = "".join(header.split('"')[::2])
    return ";" if outside.count(";") > outside.count(",") else ","


def _rows(
    lines: Iterator[str],
    columns: Columns,
    problems: list[Problem],
    rename: Mapping[str, str],
) -> Iterator[tuple[int, dict[str, str]]]:
    first = next(lines, "")
    # strict: a quote left open is an error, not a value that swallows the rest of the file.
    reader = csv.DictReader(chain([first], lines), delimiter=_delimiter(first), strict=True)
    try:
        header = [rename.get(h.strip(), h.strip()) for h in reader.fieldnames or []]
    except csv.Error as error:
        raise ImportRejectedError([Problem(1, "file", f"not a CSV file: {error}")]) from None
    _check_header(header, columns)
    reader.fieldnames = header
    count = 0
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # A quote left open, a field too long, a stray CR ...
            # (The reader does not count the line it failed on: the next after the last.)
            where = reader.line_num + 1
            raise ImportRejectedError(
                [Problem(where, "file", f"the file cannot be read from here: {error}")]
            ) from None
        # The physical line the record starts on (blank lines count, as editors show; a
        # quoted value may span lines).
        spans = sum(v.count("\n") for v in raw.values() if isinstance(v, str))
        line = reader.line_num - spans
        count += 1
        if count > columns.max_rows:
            raise ImportRejectedError([Problem(line, "file", f"more than {columns.max_rows} rows")])
        if None in raw:
            problems.append(
                Problem(line, "file", "more fields than columns (a comma in a value needs quotes)")
            )
            continue
        values = {k: (v or "").strip() for k, v in raw.items()}
        bad = [(c, m) for c, v in values.items() if (m := text_problem(v)) is not None]
        problems += [Problem(line, column, message) for column, message in bad]
        if not bad:
            yield line, values


def _check_header(header: Sequence[str], columns: Columns) -> None:
    known = columns.required + columns.optional
    problems = [Problem(1, c, "missing column") for c in columns.required if c not in header]
    problems += [
        Problem(1, c, f"unknown column; known: {', '.join(known)}")
        for c in header
        if c not in known
    ]
    problems += [
        Problem(1, c, "this column is named twice") for c in set(header) if header.count(c) > 1
    ]
    if problems:
        raise ImportRejectedError(problems)
