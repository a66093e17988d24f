"""Reading an import's CSV file as it streams: a byte-order mark, `;` between values,
Windows line ends, a file's own header names mapped to the columns, and text that is not
UTF-8 named where it is."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from commands.imports.csv_files import Columns, ImportRejectedError, Problem, read_csv

COLUMNS = Columns(("title", "kind"), ("notes",), max_rows=3)


def rows(
    content: bytes, **options: object
) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    problems: list[Problem] = []
    found = list(read_csv(content, COLUMNS, problems, **options))  # type: ignore[arg-type]
    return found, problems


def test_a_spreadsheets_export_reads_as_any_other() -> None:
    plain, _ = rows(b"title,kind\nLeak,ticket\n")
    excel = b'\xef\xbb\xbftitle;kind;notes\r\nLeak;ticket;"a; b"\r\n\r\nDoor;task;\r\n'
    found, problems = rows(excel)
    assert problems == []
    assert found == [
        (2, {"title": "Leak", "kind": "ticket", "notes": "a; b"}),
        (4, {"title": "Door", "kind": "task", "notes": ""}),  # the blank line counts
    ]
    assert plain == [(2, {"title": "Leak", "kind": "ticket"})]
    # A comma inside quotes does not make the header comma-separated
    semi, _ = rows(b'"title, main";kind\nLeak;ticket\n', rename={"title, main": "title"})
    assert semi == [(2, {"title": "Leak", "kind": "ticket"})]


def test_a_files_own_header_names_are_mapped_to_the_columns() -> None:
    found, _ = rows(b"Subject,Type\nLeak,ticket\n", rename={"Subject": "title", "Type": "kind"})
    assert found == [(2, {"title": "Leak", "kind": "ticket"})]
    with pytest.raises(ImportRejectedError) as refused:
        rows(b"Subject,Type\nLeak,ticket\n", rename={"Subject": "title"})
    assert [(p.row, p.column) for p in refused.value.problems] == [
        (1, "kind"), (1, "Type"),
    ]  # fmt: skip


def test_a_file_is_read_as_it_streams_and_left_open() -> None:
    source = io.BytesIO(b"title,kind\n" + b"".join(b"T%d,task\n" % n for n in range(3)))
    found, _ = rows(source)  # type: ignore[arg-type]
    assert [line for line, _ in found] == [2, 3, 4]
    assert not source.closed
    with pytest.raises(ImportRejectedError) as refused:
        rows(b"title,kind\n" + b"T,task\n" * 4)
    assert refused.value.problems == [Problem(5, "file", "more than 3 rows")]


def test_text_that_is_not_utf8_is_named_where_it_is() -> None:
    with pytest.raises(ImportRejectedError) as refused:
        rows(b"title,kind\nCaf\xe9,task\n")
    assert refused.value.problems[0].message == "the file is not UTF-8 text"
    assert refused.value.problems[0].row == 2
    with pytest.raises(ImportRejectedError) as header:
        rows(b"titl\xe9,kind\n")
    assert header.value.problems == [Problem(1, "file", "the file is not UTF-8 text")]


def test_a_timesheet_export_with_semicolons_and_decimal_commas_reads() -> None:
    from commands.imports.timesheets import read_rows

    found, problems = read_rows(
        b"\xef\xbb\xbfitem;user_email;date;hours\r\n1042;ann@example.com;2026-12-01;1,5\r\n"
    )
    assert problems == []
    assert [(r.item, r.minutes) for r in found] == [(1042, 90)]


def test_a_quote_left_open_or_a_value_over_lines_is_named_by_its_line() -> None:
    with pytest.raises(ImportRejectedError) as refused:
        rows(b'title,kind\nA,"oops\nB,task\nC,task\n')
    [problem] = refused.value.problems
    assert (problem.row, problem.column) == (2, "file")
    assert "unexpected end of data" in problem.message
    found, _ = rows(b'title,kind,notes\nA,task,"one\r\ntwo\nthree"\nB,task,\n')
    assert [(line, values["notes"]) for line, values in found] == [
        (2, "one\r\ntwo\nthree"),
        (5, ""),
    ]
    long = "x" * 200_000
    big, _ = rows(f"title,kind,notes\nA,task,{long}\n".encode())
    assert big[0][1]["notes"] == long


def test_blocks_are_read_as_lines_one_at_a_time() -> None:
    # A character split across two blocks of an upload decodes whole
    found, _ = rows([b"title,kind\nCaf", b"\xc3", b"\xa9,task\nTea,task\n"])  # type: ignore[arg-type]
    assert [v["title"] for _, v in found] == ["Café", "Tea"]
    # The first row comes before the file is read to its end
    pulled: list[int] = []

    def blocks() -> Iterator[bytes]:
        yield b"title,kind\n"
        for n in range(3):
            pulled.append(n)
            yield b"T%d,task\n" % n

    first = next(read_csv(blocks(), COLUMNS, []))
    assert first == (2, {"title": "T0", "kind": "task"})
    assert pulled == [0]  # (not one line more)
