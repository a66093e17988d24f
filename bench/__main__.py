"""`python -m bench [NAME ...] [options]`: run benchmarks and print one table of every figure,
each beside its raw baseline (measured in the same run) and the ratio between them.

Benchmarks: create, http, rebuild, flat, planning, timesheets, imports, mail, portal, growth,
sla, automations, chat, webhooks, changes, dashboards, blobs
(all of them when none is named). Each works in a throwaway PostgreSQL schema
(LEDGERDESK_BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test).

`--smoke` runs each named benchmark (all by default) at a tiny size, in seconds, to check that
it still works end to end: its figures mean nothing. tests/e2e/test_bench_smoke.py runs every
benchmark this way, so that none can rot. A benchmark that crashes is reported under the
table (the others still run) and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from bench import (
    automations,
    blobs,
    changes,
    chat,
    common,
    create,
    dashboards,
    dataset,
    flat,
    growth,
    http_api,
    imports,
    mail,
    planning,
    portal,
    rebuild,
    sla,
    timesheets,
    webhooks,
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
    "growth",
    "sla",
    "automations",
    "chat",
    "webhooks",
    "changes",
    "dashboards",
    "blobs",
)
# Every benchmark has a `--smoke` run (tiny, seconds, figures meaningless):
# tests/e2e/test_bench_smoke.py runs each, so that none can rot.
SMOKE = BENCHMARKS

# The sizes a smoke run uses where a benchmark takes its size from an option.
SMOKE_SIZES = {
    "tickets": 300,
    "board_items": 200,
    "timesheet_events": 2_000,
    "log_events": growth.SMOKE_LOG,
    "item_events": growth.SMOKE_ITEM_EVENTS,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--no-sqlite", action="store_true", help="create, imports, mail: PostgreSQL only"
    )
    parser.add_argument(
        "--tickets",
        type=int,
        help=f"rebuild/flat: tickets in the dataset (default {dataset.TICKETS:,})",
    )
    parser.add_argument(
        "--board-items",
        type=int,
        help=f"planning: items on the status board (default {planning.BOARD_ITEMS:,})",
    )
    parser.add_argument(
        "--timesheet-events",
        type=int,
        help=f"timesheets: timesheet events to report over (default {timesheets.EVENTS:,})",
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=mail.MESSAGES,
        help=f"mail: messages sent to each server (default {mail.MESSAGES})",
    )
    parser.add_argument(
        "--log-events",
        type=int,
        help=f"growth: events in the larger log (default {growth.LOG_EVENTS:,})",
    )
    parser.add_argument(
        "--item-events",
        type=int,
        help=f"growth: events of the long-lived item loaded (default {growth.ITEM_EVENTS:,};"
        " the one written to has half)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, a few calls: only checks that each benchmark works (figures meaningless)",
    )
    return parser


def _size(args: argparse.Namespace, name: str, default: int) -> int:
    given: int | None = getattr(args, name)
    if given is not None:
        return given
    return SMOKE_SIZES[name] if args.smoke else default


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if args.smoke:
        common.smoke()
    smoke, with_sqlite = args.smoke, not args.no_sqlite
    started = time.perf_counter()
    figures: list[Figure] = []
    failed: list[str] = []

    def attempt(name: str, measure: Callable[[], list[Figure]]) -> None:
        """Run one benchmark; a crash is reported and the others still run."""
        try:
            figures.extend(measure())
        except Exception:
            traceback.print_exc()
            say(f"{name}: FAILED")
            failed.append(name)

    def rebuild_and_flat() -> list[Figure]:
        # One dataset for both (each attempted on its own): the rebuild leaves the flat view
        # built for the queries.
        with dataset.seeded(_size(args, "tickets", dataset.TICKETS)) as data:
            if "rebuild" in names:
                attempt("rebuild", lambda: rebuild.run(data))
            if "flat" in names:
                attempt("flat", lambda: flat.run(data, smoke=smoke))
        return []

    def planning_views() -> list[Figure]:
        with planning.seeded(_size(args, "board_items", planning.BOARD_ITEMS)) as plans:
            return planning.run(plans)

    def time_reports() -> list[Figure]:
        events = _size(args, "timesheet_events", timesheets.EVENTS)
        with timesheets.seeded(events, smoke=smoke) as data:
            return timesheets.run(data)

    runs: dict[str, Callable[[], list[Figure]]] = {
        "create": lambda: create.run(with_sqlite=with_sqlite, smoke=smoke),
        "http": lambda: http_api.run(smoke=smoke),
        "rebuild": rebuild_and_flat,
        "flat": rebuild_and_flat,
        "planning": planning_views,
        "timesheets": time_reports,
        "imports": lambda: imports.run(with_sqlite=with_sqlite, smoke=smoke),
        "mail": lambda: mail.run(args.messages, smoke=smoke, with_sqlite=with_sqlite),
        "portal": lambda: portal.run(smoke=smoke),
        "growth": lambda: growth.run(
            _size(args, "log_events", growth.LOG_EVENTS),
            _size(args, "item_events", growth.ITEM_EVENTS),
            smoke=smoke,
        ),
        "sla": lambda: sla.run(smoke=smoke),
        "automations": lambda: automations.run(smoke=smoke),
        "chat": lambda: chat.run(smoke=smoke),
        "webhooks": lambda: webhooks.run(smoke=smoke),
        "changes": lambda: changes.run(smoke=smoke),
        "dashboards": lambda: dashboards.run(smoke=smoke),
        "blobs": lambda: blobs.run(smoke=smoke),
    }
    done: set[Callable[[], list[Figure]]] = set()
    for name in BENCHMARKS:
        if name in names and runs[name] not in done:
            done.add(runs[name])
            attempt("rebuild/flat dataset" if name in ("rebuild", "flat") else name, runs[name])
    print_table(figures, failed)
    say(f"done in {time.perf_counter() - started:.0f} s")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
