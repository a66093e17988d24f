"""`python -m bench [NAME ...]`: run benchmarks (create, http, rebuild, flat, planning,
timesheets, imports, mail, portal; all by default) and print the table."""

from __future__ import annotations

import argparse
import time

from bench import (
    create,
    dataset,
    flat,
    http_api,
    imports,
    mail,
    planning,
    portal,
    rebuild,
    timesheets,
)
from bench.common import Figure, print_table, say

BENCHMARKS = (
    "create",
    "http",
    "rebuild",
    "flat",
    "planning",
    "timesheets",
    "imports",
    "mail",
    "portal",
)
# Those with a `--smoke` run (tiny, seconds, figures meaningless): tests/e2e/test_bench_smoke.py
# runs each, so that they cannot rot.
SMOKE = ("mail", "portal")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-sqlite", action="store_true", help="create, mail: PostgreSQL only")
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
    parser.add_argument(
        "--messages", type=int, default=mail.MESSAGES, help="mail: messages sent to each server"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"a tiny run that only checks the benchmark works ({', '.join(SMOKE)})",
    )
    args = parser.parse_args()
    names = args.names or list(SMOKE if args.smoke else BENCHMARKS)
    if args.smoke and set(names) - set(SMOKE):
        parser.error(f"--smoke: only {', '.join(SMOKE)} have a smoke run")
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
    if "mail" in names:
        figures += mail.run(args.messages, smoke=args.smoke, with_sqlite=not args.no_sqlite)
    if "portal" in names:
        figures += portal.run(smoke=args.smoke)
    print_table(figures)
    say(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
