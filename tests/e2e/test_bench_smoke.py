"""The benchmarks' smoke runs: every benchmark goes end to end at a tiny size, so that none
can rot. Its figures mean nothing here; nothing asserts a timing, only that each figure is
in the final table beside its raw baseline and a ratio."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.__main__ import BENCHMARKS, SMOKE
from tests import services
from tests.e2e.conftest import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# The figures each smoke run must put in the table (the start of each line's name; one named
# twice must be there twice).
LINES = {
    "create": (
        "create ticket, PostgreSQL, 1 writer",
        "create ticket, PostgreSQL, 4 writers",
        "create ticket, SQLite, 1 writer",
        "create ticket, SQLite, 4 writers",
    ),
    "http": ("HTTP POST /tickets",),
    "rebuild": ("rebuild all",),
    "flat": (
        "flat p95, default sort",
        "flat p95, status = Open",
        "flat p95, sort by -priority",
        "flat p95, q = refund",
        "flat p95, -priority, page 2 by cursor",
        "saved view p95 (2 filters, grouped), first page with group counts",
        "saved view p95 (2 filters, grouped), page 2 by cursor",
    ),
    "planning": (
        "gantt p95, 2k",
        "gantt p95 via HTTP",
        "gantt p95, a calendar of its own",
        "status board p95",
    ),
    "timesheets": (
        "time report JSON p95, ",
        "time report JSON p95, against the least SQL",
        "time report JSON p95 via HTTP",
        "time report CSV export p95",
    ),
    "imports": (
        "import 300 timesheet rows, PostgreSQL",
        "import 300 timesheet rows, SQLite",
        "import 300 items, PostgreSQL",
        "import 300 items, SQLite",
        "import a 100-task MS Project plan, PostgreSQL",
        "import a 100-task MS Project plan, SQLite",
    ),
    "mail": ("mail in, SQLite:", "mail in p95, SQLite:", "mail in, PostgreSQL:"),
    "portal": ("portal request list p95", "knowledge-base search p95"),
    "growth": (  # each at the smaller and at the larger log
        "append retitle a ticket p95, ",
        "append retitle a ticket p95, ",
        "append open a ticket p95, ",
        "append open a ticket p95, ",
        "projection lag p95, commit to flat view, ",
        "projection lag p95, commit to flat view, ",
        "load an item with 200 events p95, not cached",
        "load an item with 200 events p95, from the aggregate cache",
        "HTTP PATCH (retitle) p95, ticket with 100 events",
    ),
    "dashboards": ("dashboard p95, every widget type", "dashboard widget as SVG, per chart"),
    "blobs": tuple(
        f"blob {what}, {kind}"
        for kind in ("local", "postgres", "s3")
        for what in ("upload", "download")
    ),
    "sla": ("SLA recompute after a policy change, ",),
    "automations": ("automation rules, 100 enabled, ",),
    "chat": (
        "chat round trip (customer posts -> agent's stream), ",
        "server memory per open stream",
    ),
    "webhooks": ("webhook deliveries, 2 worker threads, ",),
    "changes": (
        "rebuild flat + item_changes, ",
        # every item's first page and page 2, one project's first page
        "changes p95, one week of a ",
        "changes p95, one week of a ",
        "changes p95, one week of a ",
        "changes PDF export, ",
    ),
}


def test_every_benchmark_has_a_smoke_run() -> None:
    assert set(SMOKE) == set(BENCHMARKS) == set(LINES)


@pytest.mark.parametrize("name", SMOKE)
def test_benchmark_runs_end_to_end_at_smoke_size(name: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERDESK_")}
    env["LEDGERDESK_BENCH_DATABASE_URL"] = services.url(services.PG_VAR)
    done = subprocess.run(
        [sys.executable, "-m", "bench", name, "--smoke"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout[-6000:] + done.stderr[-6000:]
    assert done.returncode == 0, output
    table = done.stdout.split("ledgerdesk benchmarks")[-1].splitlines()
    assert not [row for row in table if row.startswith("FAILED")], output
    for start in sorted(set(LINES[name])):
        rows = [row for row in table if row.startswith(start)]
        assert len(rows) >= LINES[name].count(start), f"no figure {start!r} in the table:\n{output}"
        for row in rows:  # Beside its raw baseline, with a ratio (whatever their values).
            assert "MISSING" not in row, row
