"""Imports: a 100,000-row timesheet CSV and a 100,000-row CSV of tickets and tasks (the
documented maxima), and a 5,000-task MS Project plan (`bench.plan_imports`), imported
through the application on PostgreSQL and on SQLite, each
beside the raw cost of storing the same rows.

Items: `ItemImportService.import_csv` on the file as the HTTP route streams it (parse,
check every row on its own and against the write model, decide every row's writes
without saving, then write the items in batches with their `ImportedItem` keys), a ticket
and a task in turn, each with an external id, a priority and a creation date, in the
Inbox. Raw: the same rows parsed by the csv module, one row per item into a plain table.

ledgerdesk: `TimesheetService.import_csv` on the file's bytes, as the HTTP route calls it
(parse, check every row against the write model, stage the entries in batches under the
import, then one write with `Import.Completed` and one `Ticket.TimeImported` per item), 500
tasks, one importer, views not following (their cost is the rebuild figure's). Raw: the same
rows, parsed by the csv module, into a plain table with the same columns: PostgreSQL by
COPY on one connection, SQLite by one `executemany` in one transaction.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench.common import PG_URL, Figure, migrated, pg_schema, pg_settings, say, scratch_dir, show
from commands.imports.items import ItemImportService
from commands.models import Context, OpenTask, RegisterUser
from domain.user import CompanyRole
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.item_places import Places

ROWS = 100_000
ITEMS = 500
SMOKE_ROWS = 300
SMOKE_ITEMS = 10
COLUMNS = "item,user_email,date,hours,notes"
ITEM_COLUMNS = "external_id,kind,title,priority,created_at"


def _file(numbers: list[int], rows: int) -> bytes:
    lines = [COLUMNS] + [
        f"{numbers[n % len(numbers)]},admin@example.com,2026-{1 + n % 12:02d}-"
        f"{1 + n % 28:02d},0:{10 + n % 50},row {n}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def _import(container: bootstrap.Container, rows: int, items: int) -> tuple[float, bytes]:
    system = Context(actor=Actor.system("bench"), correlation_id="bench")
    admin = container.accounts.register_user(
        RegisterUser(email="admin@example.com", name="admin", role=CompanyRole.ADMIN), system
    ).id
    ctx = Context(actor=Actor.user(admin), correlation_id="bench")
    numbers = [
        container.commands.open_task(OpenTask(title=f"Task {n}", work_hours=40), ctx).number or 0
        for n in range(items)
    ]
    content = _file(numbers, rows)
    started = time.perf_counter()
    done = container.timesheets.import_csv(content, ctx)
    seconds = time.perf_counter() - started
    assert done.imported.count == rows, done
    return seconds, content


def _items_file(rows: int) -> bytes:
    priorities = ("low", "normal", "high", "urgent")
    lines = [ITEM_COLUMNS] + [
        f"OLD-{n},{'task' if n % 2 else 'ticket'},Imported item {n},{priorities[n % 4]},"
        f"20{10 + n % 15}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def _import_items(container: bootstrap.Container, rows: int) -> tuple[float, bytes]:
    system = Context(actor=Actor.system("bench"), correlation_id="bench")
    content = _items_file(rows)
    service = ItemImportService(container.app, container.stopping)
    started = time.perf_counter()
    done = service.import_csv(lambda: io.BytesIO(content), system, Places())
    seconds = time.perf_counter() - started
    assert sum(done.created.values()) == rows, done
    return seconds, content


def _rows(content: bytes) -> list[tuple[str, ...]]:
    reader = csv.reader(io.StringIO(content.decode()))
    next(reader)
    return [tuple(row) for row in reader]


def _raw_pg(content: bytes, schema: str) -> float:
    return raw_pg(content, schema, _rows)


def raw_pg(content: bytes, schema: str, parse: Callable[[bytes], list[tuple[str, ...]]]) -> float:
    """Seconds to parse `content` and COPY its rows into a plain table of text columns."""
    started = time.perf_counter()
    rows = parse(content)
    with psycopg.connect(PG_URL) as conn:
        columns = ", ".join(f"c{n} text" for n in range(len(rows[0])))
        conn.execute(f"CREATE TABLE {schema}.raw_import ({columns})")
        with conn.cursor().copy(f"COPY {schema}.raw_import FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


def _raw_sqlite(content: bytes, path: Path) -> float:
    return raw_sqlite(content, path, _rows)


def raw_sqlite(
    content: bytes, path: Path, parse: Callable[[bytes], list[tuple[str, ...]]]
) -> float:
    """Seconds to parse `content` and insert its rows into a plain table in one transaction."""
    started = time.perf_counter()
    rows = parse(content)
    with sqlite3.connect(path) as conn:
        width = len(rows[0])
        conn.execute(f"CREATE TABLE raw_import ({', '.join(f'c{n}' for n in range(width))})")
        conn.executemany(f"INSERT INTO raw_import VALUES ({', '.join('?' * width)})", rows)
    return time.perf_counter() - started


def _figure(
    what: str, size: str, backend: str, rows: int, seconds: float, raw: float, twin: str
) -> Figure:
    return Figure(
        f"import {size} {what}, {backend}",
        rows / seconds,
        "rows/s",
        rows / raw,
        twin,
        note=f"{seconds:.1f} s against {raw:.1f} s",
    )


def run(with_sqlite: bool = True, smoke: bool = False) -> list[Figure]:
    rows, items = (SMOKE_ROWS, SMOKE_ITEMS) if smoke else (ROWS, ITEMS)
    size = f"{rows // 1000}k" if rows >= 1000 else str(rows)
    copy = "COPY of the same rows into a plain table"
    many = "executemany of the same rows into a plain table"
    figures = []
    for what in ("timesheet rows", "items"):
        with scratch_dir() as data, pg_schema() as schema:
            with migrated(pg_settings(schema, data)) as container:
                say(f"imports: {rows:,} {what} on PostgreSQL ...")
                seconds, content = (
                    _import(container, rows, items)
                    if what == "timesheet rows"
                    else _import_items(container, rows)
                )
            raw = _raw_pg(content, schema)
            figures.append(_figure(what, size, "PostgreSQL", rows, seconds, raw, copy))
            show(figures[-1])
        if not with_sqlite:
            continue
        with scratch_dir() as data:
            with migrated(Settings(data_dir=data, database_url=None)) as container:
                say(f"imports: {rows:,} {what} on SQLite ...")
                seconds, content = (
                    _import(container, rows, items)
                    if what == "timesheet rows"
                    else _import_items(container, rows)
                )
            raw = _raw_sqlite(content, data / "raw.sqlite3")
            figures.append(_figure(what, size, "SQLite", rows, seconds, raw, many))
            show(figures[-1])
    from bench import plan_imports

    return figures + plan_imports.run(with_sqlite, smoke)
