"""Figure 3: rebuild events/s against a raw paged read of the same rows.

ledgerdesk: `runner.rebuild(view)` for every view — read the log a page (1,000) at a
time, decode the view's events, write its rows and tracking position per page, then
switch generations. Raw: `SELECT notification_id, topic, state` over the same table,
paged by the same 1,000 rows, fetched and thrown away.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import psycopg

from bench.common import PG_URL, Figure, say, show
from bench.dataset import Dataset


def raw_paged_read(schema: str, page_size: int) -> tuple[int, float]:
    """Read every row of the events table page by page; returns (rows, seconds)."""
    sql = (
        f"SELECT notification_id, topic, state FROM {schema}.ledgerdesk_events"
        " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    )
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        started = time.perf_counter()
        rows, after = 0, 0
        while True:
            page = conn.execute(sql, (after, page_size)).fetchall()
            if not page:
                break
            rows += len(page)
            after = page[-1][0]
        return rows, time.perf_counter() - started


def run(data: Dataset) -> list[Figure]:
    runner = data.container.runner
    raw_paged_read(data.schema, runner.page_size)  # Warm the cache as the rebuilds will find it.
    rows, raw_seconds = raw_paged_read(data.schema, runner.page_size)
    say(f"rebuild: raw paged read of {rows:,} rows in {raw_seconds:.2f} s")
    figures: list[Figure] = []
    total = 0.0
    for name in runner.projections:
        started = time.perf_counter()
        runner.rebuild(name)
        seconds = time.perf_counter() - started
        total += seconds
        say(f"rebuild: {name} in {seconds:.1f} s")
        figures.append(
            Figure(
                name=f"rebuild {name}, {rows:,} events",
                value=rows / seconds,
                unit="events/s",
                baseline=math.nan,  # Known after the second raw read.
                baseline_name=f"paged SELECT by {runner.page_size}",
                note=f"{seconds:.1f} s",
            )
        )
    # Read again after the rebuilds, and use the mean of both raw reads for every ratio.
    again = raw_paged_read(data.schema, runner.page_size)[1]
    say(f"rebuild: raw paged read again in {again:.2f} s")
    raw_rate = rows / ((raw_seconds + again) / 2)
    for i, figure in enumerate(figures):
        figures[i] = replace(figure, baseline=raw_rate)
        show(figures[i])
    figures.append(
        Figure(
            name=f"rebuild all {len(runner.projections)} views, {rows:,} events",
            value=rows / total,
            unit="events/s",
            baseline=raw_rate,
            baseline_name=f"paged SELECT by {runner.page_size}",
            note=f"{total:.1f} s; {data.tickets:,} tickets",
        )
    )
    show(figures[-1])
    return figures
