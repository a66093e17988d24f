"""The benchmarks' smoke runs: each benchmark with a `--smoke` run goes end to end at a tiny
size, so that it cannot rot. Its figures mean nothing here; nothing asserts a timing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.__main__ import SMOKE
from tests import services
from tests.e2e.conftest import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# The lines each smoke run must put in the table.
LINES = {
    "mail": ("mail in, SQLite:", "mail in p95, SQLite:", "mail in, PostgreSQL:"),
    "portal": ("portal request list p95", "knowledge-base search p95"),
}


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
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    table = done.stdout.split("ledgerdesk benchmarks")[-1]
    for line in LINES[name]:
        assert line in table, done.stdout[-4000:]
