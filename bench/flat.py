"""Figure 4: flat-view p95 latency at 100k tickets against the same SELECT run raw; and a
saved view (two filters, grouped by status) run on the same view against its SELECTs raw.

ledgerdesk: what `GET /api/v1/views/flat` does below HTTP — a read transaction from the
view pool, the live generation's tables, `projections.flat.list_items`. Raw: the very
SELECT and parameters `list_items` sent (recorded once), on one autocommit psycopg
connection, rows as tuples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

from bench.common import (
    PG_URL,
    Figure,
    RecordingTx,
    latency_figure,
    percentile,
    replayed,
    say,
    show,
)
from bench.dataset import RARE_WORD, Dataset
from domain.views.definition import checked_definition
from projections.base import current_tables
from projections.db import Params
from projections.flat import FlatQuery, list_items
from projections.views.saved_query import ViewRun, run_view

RUNS = 300
WARM_UP = 20
SMOKE_RUNS = 10
SMOKE_WARM_UP = 2


def _queries(data: Dataset) -> list[tuple[str, FlatQuery]]:
    with data.container.views.read() as tx:
        _, cursor = list_items(tx, current_tables(tx, "flat"), FlatQuery(sort="-priority"))
    return [
        ("default sort (-number)", FlatQuery()),
        ("status = Open", FlatQuery(status="Open")),
        ("sort by -priority", FlatQuery(sort="-priority")),
        (f"q = {RARE_WORD}", FlatQuery(q=RARE_WORD)),
        ("-priority, page 2 by cursor", FlatQuery(sort="-priority", cursor=cursor)),
    ]


def _timed(
    ours: Callable[[], Any], raw: Callable[[], Any], runs: int, warm_up: int
) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each, the two alternating so both see the same machine."""
    for _ in range(warm_up):
        ours()
        raw()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for operation, into in ((ours, samples[0]), (raw, samples[1])):
            started = time.perf_counter()
            operation()
            into.append((time.perf_counter() - started) * 1000)
    return samples


def run(data: Dataset, smoke: bool = False) -> list[Figure]:
    runs, warm_up = (SMOKE_RUNS, SMOKE_WARM_UP) if smoke else (RUNS, WARM_UP)
    runner, views = data.container.runner, data.container.views
    if runner.position("flat") < data.container.app.head():
        say("flat: building the flat view")
        runner.catch_up(["flat"])
    figures: list[Figure] = []
    with psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={data.schema}") as raw:
        for label, query in _queries(data):

            def ours(query: FlatQuery = query) -> int:
                with views.read() as tx:
                    items, _ = list_items(tx, current_tables(tx, "flat"), query)
                return len(items)

            with views.read() as tx:
                recorder = RecordingTx(tx)
                expected = len(list_items(recorder, current_tables(tx, "flat"), query)[0])
            assert recorder.sent, "list_items sent no SELECT"
            sql = recorder.sent[-1][0].replace("%", "%%").replace("?", "%s")
            params = recorder.sent[-1][1]

            def baseline(sql: str = sql, params: Params = params) -> int:
                return len(raw.execute(sql, params).fetchall())

            say(f"flat: {label} ({expected} items a page, {runs} runs each)")
            ours_ms, raw_ms = _timed(ours, baseline, runs, warm_up)
            figures.append(
                Figure(
                    name=f"flat p95, {label}",
                    value=percentile(ours_ms, 95),
                    unit="ms",
                    baseline=percentile(raw_ms, 95),
                    baseline_name="same SELECT via psycopg",
                    note=f"p50 {percentile(ours_ms, 50):.2f} vs {percentile(raw_ms, 50):.2f} ms",
                    lower_is_better=True,
                )
            )
            show(figures[-1])
        figures += _saved_views(data, raw, runs, warm_up)
    return figures


SAVED_VIEW = checked_definition(
    {
        "filter": {
            "and": [
                {"field": "state", "op": "ne", "value": "finished"},
                {"field": "priority", "op": "gte", "value": "high"},
            ]
        },
        "group_by": ["status"],
        "sort": "-updated_at",
    }
)


def _saved_views(
    data: Dataset, raw: psycopg.Connection[Any], runs: int, warm_up: int
) -> list[Figure]:
    """A saved view's run (`projections.views.saved_query.run_view`, what
    `GET /views/saved/{id}/items` does below HTTP): its first page (the page and every
    group's count: two SELECTs) and its second, each beside the same SELECTs raw."""
    views = data.container.views
    first = ViewRun(SAVED_VIEW, "bench", None, frozenset({"ticket", "task"}))
    with views.read() as tx:
        cursor = run_view(tx, current_tables(tx, "flat"), first).next_cursor
    second = ViewRun(SAVED_VIEW, "bench", None, frozenset({"ticket", "task"}), cursor=cursor)
    figures: list[Figure] = []
    for label, run_of in (("first page with group counts", first), ("page 2 by cursor", second)):

        def ours(view_run: ViewRun = run_of) -> int:
            with views.read() as tx:
                return len(run_view(tx, current_tables(tx, "flat"), view_run).items)

        with views.read() as tx:
            recorder = RecordingTx(tx)
            expected = len(run_view(recorder, current_tables(tx, "flat"), run_of).items)
        sent = recorder.sent
        say(f"saved view: {label} ({expected} items a page, {len(sent)} SELECTs, {runs} runs)")
        ours_ms, raw_ms = _timed(ours, replayed(raw, sent), runs, warm_up)
        name = f"saved view p95 (2 filters, grouped), {label}"
        figures.append(latency_figure(name, ours_ms, raw_ms))
    return figures
