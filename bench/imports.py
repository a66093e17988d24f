"""Imports: a 100,000-row timesheet CSV (the documented maximum) imported through the
application on PostgreSQL and on SQLite, each beside the raw cost of storing the same rows.

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
from pathlib import Path

import psycopg

from bench.common import PG_URL, Figure, migrated, pg_schema, pg_settings, say, scratch_dir, show
from commands.models import Context, OpenTask, RegisterUser
from domain.user import CompanyRole
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings

ROWS = 100_000
ITEMS = 500
SMOKE_ROWS = 300
SMOKE_ITEMS = 10
COLUMNS = "item,user_email,date,hours,notes"


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


def _rows(content: bytes) -> list[tuple[str, ...]]:
    reader = csv.reader(io.StringIO(content.decode()))
    next(reader)
    return [tuple(row) for row in reader]


def _raw_pg(content: bytes, schema: str) -> float:
    started = time.perf_counter()
    rows = _rows(content)
    with psycopg.connect(PG_URL) as conn:
        conn.execute(
            f"CREATE TABLE {schema}.raw_import (item int, user_email text, date text,"
            " hours text, notes text)"
        )
        with conn.cursor().copy(f"COPY {schema}.raw_import FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


def _raw_sqlite(content: bytes, path: Path) -> float:
    started = time.perf_counter()
    rows = _rows(content)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE raw_import (item, user_email, date, hours, notes)")
        conn.executemany("INSERT INTO raw_import VALUES (?, ?, ?, ?, ?)", rows)
    return time.perf_counter() - started


def run(with_sqlite: bool = True, smoke: bool = False) -> list[Figure]:
    rows, items = (SMOKE_ROWS, SMOKE_ITEMS) if smoke else (ROWS, ITEMS)
    size = f"{rows // 1000}k" if rows >= 1000 else str(rows)
    figures = []
    with scratch_dir() as data, pg_schema() as schema:
        with migrated(pg_settings(schema, data)) as container:
            say(f"imports: {rows:,} timesheet rows on PostgreSQL ...")
            seconds, content = _import(container, rows, items)
        raw = _raw_pg(content, schema)
        figures.append(
            Figure(
                f"import {size} timesheet rows, PostgreSQL",
                rows / seconds,
                "rows/s",
                rows / raw,
                "COPY of the same rows into a plain table",
                note=f"{seconds:.1f} s against {raw:.1f} s",
            )
        )
        show(figures[-1])
    if not with_sqlite:
        return figures
    with scratch_dir() as data:
        with migrated(Settings(data_dir=data, database_url=None)) as container:
            say(f"imports: {rows:,} timesheet rows on SQLite ...")
            seconds, content = _import(container, rows, items)
        raw = _raw_sqlite(content, data / "raw.sqlite3")
        figures.append(
            Figure(
                f"import {size} timesheet rows, SQLite",
                rows / seconds,
                "rows/s",
                rows / raw,
                "executemany of the same rows into a plain table",
                note=f"{seconds:.1f} s against {raw:.1f} s",
            )
        )
        show(figures[-1])
    return figures
