"""What changed in a week, over a 1,000,000-event log: `GET /changes` p95 below HTTP (a read
transaction from the view pool, `projections.reports.changes.changes_page` for an admin —
every item — and for one project), first page and a page by cursor, each beside the same
SELECT run raw; and the `item_changes` view's rebuild over that log."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.common import PG_URL, Figure, RecordingTx, latency_figure, replayed, say, show
from bench.dataset import seeded_log
from bench.flat import _timed
from bench.rebuild import raw_paged_read
from domain.values import utc_text
from projections.base import current_tables
from projections.db import ViewDatabase
from projections.reports.changes import (
    EXPORT_COLUMNS,
    PDF_WEIGHTS,
    ChangesQuery,
    changes_page,
    export_rows,
)
from projections.reports.export import csv_blocks
from projections.reports.pdf import Brand, pdf_file

LOG = 1_000_000
SMOKE_LOG = 3_000
PAGE = 100
PDF_ROWS = 10_000
# Fewer runs than the flat list's: a scoped page over a million events takes a second.
RUNS, WARM_UP, SMOKE_RUNS = 40, 3, 5


def run(smoke: bool = False) -> list[Figure]:
    figures: list[Figure] = []
    with seeded_log(SMOKE_LOG if smoke else LOG) as data:
        runner, views = data.container.runner, data.container.views
        say("changes: building the flat and item_changes views")
        started = time.perf_counter()
        runner.rebuild_many(["flat", "item_changes"])
        built = time.perf_counter() - started
        rows, read = raw_paged_read(data.schema, 1_000)
        figures.append(
            Figure(
                name=f"rebuild flat + item_changes, {data.events:,}-event log",
                value=data.events / built,
                unit="events/s",
                baseline=rows / read,
                baseline_name="the events table read raw, 1,000 rows a page",
                note=f"{built:.1f} s, one pass",
            )
        )
        show(figures[-1])
        now = datetime.now(UTC)
        week = (utc_text(now - timedelta(days=7)), utc_text(now + timedelta(minutes=1)))
        with views.read() as tx:
            project = tx.all(
                f"SELECT project_id FROM {current_tables(tx, 'flat')['flat_items']} LIMIT 1"
            )
        every = ChangesQuery(*week, None, frozenset({"ticket", "task"}), limit=PAGE)
        with views.read() as tx:
            _, cursor = changes_page(
                tx, current_tables(tx, "item_changes"), current_tables(tx, "flat"), every
            )
        queries = [
            ("every item, first page", every),
            ("every item, page 2 by cursor", replace(every, cursor=cursor)),
            (
                "one project, first page",
                replace(every, projects=frozenset({project[0]["project_id"]})),
            ),
        ]
        with psycopg.connect(
            PG_URL, autocommit=True, options=f"-c search_path={data.schema}"
        ) as raw:
            for label, query in queries:

                def ours(query: ChangesQuery = query) -> int:
                    with views.read() as tx:
                        found, _ = changes_page(
                            tx,
                            current_tables(tx, "item_changes"),
                            current_tables(tx, "flat"),
                            query,
                        )
                    return len(found)

                with views.read() as tx:
                    recorder = RecordingTx(tx)
                    changes_page(
                        recorder,
                        current_tables(tx, "item_changes"),
                        current_tables(tx, "flat"),
                        query,
                    )
                runs, warm_up = (SMOKE_RUNS, 1) if smoke else (RUNS, WARM_UP)
                say(f"changes: {label} ({runs} runs)")
                ours_ms, raw_ms = _timed(ours, replayed(raw, recorder.sent), runs, warm_up)
                figures.append(
                    latency_figure(
                        f"changes p95, one week of a {data.events:,}-event log, {label}",
                        ours_ms,
                        raw_ms,
                        note=f"{PAGE} changes a page",
                    )
                )
        figures.append(_pdf_export(data.container.views, every, 500 if smoke else PDF_ROWS))
    return figures


def _pdf_export(views: ViewDatabase, every: ChangesQuery, size: int) -> Figure:
    """The PDF export of the first `size` rows (one per field changed), beside the same
    rows written as CSV (both from rows already read)."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while len(rows) < size:
        with views.read() as tx:
            page, cursor = changes_page(
                tx,
                current_tables(tx, "item_changes"),
                current_tables(tx, "flat"),
                replace(every, cursor=cursor, limit=1000),
            )
        rows += [row for change in page for row in export_rows(change)]
        if cursor is None:
            break
    rows = rows[:size]
    brand = Brand("ledgerdesk bench", "#1f6feb")
    started = time.perf_counter()
    pdf_file(brand, "What changed", "bench", EXPORT_COLUMNS, rows, PDF_WEIGHTS).close()
    ours = time.perf_counter() - started
    started = time.perf_counter()
    for _ in csv_blocks(EXPORT_COLUMNS, rows):
        pass
    raw = time.perf_counter() - started
    figure = Figure(
        name=f"changes PDF export, {len(rows):,} rows",
        value=ours * 1000,
        unit="ms",
        baseline=raw * 1000,
        baseline_name="the same rows written as CSV",
        note=f"{len(rows) / ours:,.0f} rows/s",
        lower_is_better=True,
    )
    show(figure)
    return figure
