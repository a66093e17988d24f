"""`python -m bench [create|http|rebuild|flat|planning|timesheets|imports ...]`: run benchmarks and
print the table."""

from __future__ import annotations

import argparse
import time

from bench import create, dataset, flat, http_api, imports, planning, rebuild, timesheets
from bench.common import Figure, print_table, say

BENCHMARKS = ("create", "http", "rebuild", "flat", "planning", "timesheets", "imports")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-sqlite", action="store_true", help="create: PostgreSQL only")
    parser.add_argument(
        "--tickets", type=int, default=dataset.TICKETS, help="rebuild/flat dataset size"
    )
    parser.add_argument(
        "--board-items",
        type=int,
        default=planning.BOARD_ITEMS,
        help="planning: items on the status board",
    )
    parser.add_argument(
        "--timesheet-events",
        type=int,
        default=timesheets.EVENTS,
        help="timesheets: timesheet events to report over",
    )
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    started = time.perf_counter()
    figures: list[Figure] = []
    if "create" in names:
        figures += create.run(with_sqlite=not args.no_sqlite)
    if "http" in names:
        figures += http_api.run()
    if "rebuild" in names or "flat" in names:
        # One dataset for both: the rebuild leaves the flat view built for the queries.
        with dataset.seeded(args.tickets) as data:
            if "rebuild" in names:
                figures += rebuild.run(data)
            if "flat" in names:
                figures += flat.run(data)
    if "planning" in names:
        with planning.seeded(args.board_items) as plans:
            figures += planning.run(plans)
    if "timesheets" in names:
        with timesheets.seeded(args.timesheet_events) as data:
            figures += timesheets.run(data)
    if "imports" in names:
        figures += imports.run()
    print_table(figures)
    say(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
