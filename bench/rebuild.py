"""Figure 3: rebuild events/s against a raw paged read of the same rows.

ledgerdesk: `runner.rebuild_many(every view)` — one pass over the log, a page
(`rebuild_page_size`, 5,000) at a time: read and decode it once, apply it to every view's
new generation, write the rows in bulk with every tracking position per page, then switch
generations — first in this one process, then shared out between parallel processes (one
per core: `ledgerdesk.rebuilds.in_parallel`, what `ledgerdesk projections rebuild` does
on PostgreSQL). Then `verify_many` (what `replay --verify` does, in parallel too) over the
same log, and each view rebuilt on its own (`runner.rebuild(view)`) for the per-view
figures. Then the same over a log of `LOG_EVENTS` events (written by `COPY`:
`bench.dataset.seeded_log`). Raw: `SELECT notification_id, topic, state` over the same
table, paged by the runner's live page (1,000 rows), fetched and thrown away.

Peak RSS: of this process during each measurement (the high-water mark is reset before it,
on Linux), and of the largest rebuild process it started.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import psycopg

from bench.common import (
    PG_URL,
    Figure,
    children_peak_rss_mib,
    peak_rss_mib,
    reset_peak_rss,
    say,
    show,
)
from bench.dataset import Dataset, seeded_log
from ledgerdesk.rebuilds import in_parallel

LOG_EVENTS = 1_000_000
SMOKE_LOG_EVENTS = 5_000
# A rebuild dataset smaller than this is a smoke run: its big log is small too.
SMOKE_TICKETS = 1_000


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


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """Seconds and this process's peak RSS (MiB) of `work`."""
    reset_peak_rss()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started, peak_rss_mib()


def run(data: Dataset, per_view: bool = True) -> list[Figure]:
    runner = data.container.runner
    raw_paged_read(data.schema, runner.page_size)  # Warm the cache as the rebuilds will find it.
    rows, raw_seconds = raw_paged_read(data.schema, runner.page_size)
    say(f"rebuild: raw paged read of {rows:,} rows in {raw_seconds:.2f} s")
    views = list(runner.projections)
    alone, alone_rss = _timed(lambda: runner.rebuild_many(views))
    say(f"rebuild: all views in one pass, one process, in {alone:.1f} s")
    in_parallel(runner, data.container.settings)
    processes = runner.processes.processes if runner.processes else 1
    together, together_rss = _timed(lambda: runner.rebuild_many(views))
    say(f"rebuild: all views in one pass, {processes} processes, in {together:.1f} s")
    found: dict[str, object] = {}
    verified, verify_rss = _timed(lambda: found.update(runner.verify_many(views)))
    differing = sorted(name for name, result in found.items() if result)
    say(f"rebuild: verify of all views in {verified:.1f} s; differing: {differing or 'none'}")
    runner.processes = None
    figures: list[Figure] = []
    total = 0.0
    for name in views if per_view else ():
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
    baseline = f"paged SELECT by {runner.page_size}"
    if per_view:
        figures.append(
            Figure(
                name=f"rebuild all {len(views)} views one by one, {rows:,} events",
                value=rows / total,
                unit="events/s",
                baseline=raw_rate,
                baseline_name=baseline,
                note=f"{total:.1f} s; {data.tickets:,} tickets",
            )
        )
        show(figures[-1])
    children = children_peak_rss_mib()
    for label, seconds, rss in (
        ("rebuild", alone, f"peak RSS {alone_rss:,.0f} MiB"),
        (
            f"rebuild ({processes} processes)",
            together,
            f"peak RSS {together_rss:,.0f} MiB, largest child {children:,.0f} MiB",
        ),
        (
            f"replay --verify ({processes} processes)",
            verified,
            f"peak RSS {verify_rss:,.0f} MiB",
        ),
    ):
        figures.append(
            Figure(
                name=f"**{label} all {len(views)} views in one pass**, {rows:,} events",
                value=rows / seconds,
                unit="events/s",
                baseline=raw_rate,
                baseline_name=baseline,
                note=f"{seconds:.1f} s; {data.tickets:,} tickets; {rss}",
            )
        )
        show(figures[-1])
    events = SMOKE_LOG_EVENTS if data.tickets < SMOKE_TICKETS else LOG_EVENTS
    return [*figures, *big_log(events)]


def big_log(events: int) -> list[Figure]:
    """Every view rebuilt (in parallel processes) and verified over a log of `events`."""
    with seeded_log(events) as data:
        runner = data.container.runner
        page = runner.page_size
        rows, raw_seconds = raw_paged_read(data.schema, page)
        say(f"rebuild: raw paged read of {rows:,} rows in {raw_seconds:.2f} s")
        in_parallel(runner, data.container.settings)
        processes = runner.processes.processes if runner.processes else 1
        views = list(runner.projections)
        # The first generation of every view is built as a fresh install's `migrate` would
        # leave it: empty, at position 0. This rebuilds all of them from there.
        rebuilt, rebuild_rss = _timed(lambda: runner.rebuild_many(views))
        children = children_peak_rss_mib()
        say(f"rebuild: {rows:,} events, all views in {rebuilt:.1f} s")
        found: dict[str, object] = {}
        verified, verify_rss = _timed(lambda: found.update(runner.verify_many(views)))
        differing = sorted(name for name, result in found.items() if result)
        say(f"rebuild: verify in {verified:.1f} s; differing: {differing or 'none'}")
        again = raw_paged_read(data.schema, page)[1]
        raw_rate = rows / ((raw_seconds + again) / 2)
        figures = []
        for label, seconds, rss in (
            ("rebuild", rebuilt, f"largest child {children:,.0f} MiB"),
            ("replay --verify", verified, ""),
        ):
            peak = rebuild_rss if label == "rebuild" else verify_rss
            figures.append(
                Figure(
                    name=f"**{label} all {len(views)} views, {rows:,}-event log**",
                    value=rows / seconds,
                    unit="events/s",
                    baseline=raw_rate,
                    baseline_name=f"paged SELECT by {page}",
                    note=(
                        f"{seconds:.1f} s, {processes} processes; peak RSS {peak:,.0f} MiB"
                        + (f", {rss}" if rss else "")
                        + f"; seeded in {data.seed_seconds:.0f} s"
                    ),
                )
            )
            show(figures[-1])
        return figures
