"""Figure 3: rebuild events/s against a raw paged read of the same rows.

ledgerdesk: `runner.rebuild_many(every view)` — one pass over the log, a page (1,000) at a
time: read and decode it once, apply it to every view's new generation, write the rows in
bulk with every tracking position per page, then switch generations. Then `verify_many`
(what `replay --verify` does) over the same log, and each view rebuilt on its own
(`runner.rebuild(view)`) for the per-view figures. Raw: `SELECT notification_id, topic,
state` over the same table, paged by the same 1,000 rows, fetched and thrown away.

The peak RSS of this process is shown with each figure (it includes the dataset seeding).
"""

from __future__ import annotations

import math
import resource
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


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(data: Dataset, per_view: bool = True) -> list[Figure]:
    runner = data.container.runner
    raw_paged_read(data.schema, runner.page_size)  # Warm the cache as the rebuilds will find it.
    rows, raw_seconds = raw_paged_read(data.schema, runner.page_size)
    say(f"rebuild: raw paged read of {rows:,} rows in {raw_seconds:.2f} s")
    before_rss = peak_rss_mib()
    started = time.perf_counter()
    runner.rebuild_many(list(runner.projections))
    together = time.perf_counter() - started
    together_rss = peak_rss_mib()
    say(f"rebuild: all views in one pass in {together:.1f} s; peak RSS {together_rss:,.0f} MiB")
    started = time.perf_counter()
    found = runner.verify_many(list(runner.projections))
    verified = time.perf_counter() - started
    verify_rss = peak_rss_mib()
    differing = sorted(name for name, result in found.items() if result)
    say(f"rebuild: verify of all views in {verified:.1f} s; differing: {differing or 'none'}")
    figures: list[Figure] = []
    total = 0.0
    for name in runner.projections if per_view else ():
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
    views = len(runner.projections)
    if per_view:
        figures.append(
            Figure(
                name=f"rebuild all {views} views one by one, {rows:,} events",
                value=rows / total,
                unit="events/s",
                baseline=raw_rate,
                baseline_name=f"paged SELECT by {runner.page_size}",
                note=f"{total:.1f} s; {data.tickets:,} tickets",
            )
        )
        show(figures[-1])
    for label, seconds, rss in (
        ("rebuild", together, together_rss),
        ("replay --verify", verified, verify_rss),
    ):
        figures.append(
            Figure(
                name=f"**{label} all {views} views in one pass**, {rows:,} events",
                value=rows / seconds,
                unit="events/s",
                baseline=raw_rate,
                baseline_name=f"paged SELECT by {runner.page_size}",
                note=(
                    f"{seconds:.1f} s; {data.tickets:,} tickets; peak RSS {rss:,.0f} MiB"
                    f" ({before_rss:,.0f} MiB before)"
                ),
            )
        )
        show(figures[-1])
    return figures
