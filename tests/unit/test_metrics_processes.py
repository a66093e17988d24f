"""The machine's processes add up in one metrics directory: a process killed with streams
open stops counting them at the next scrape, while its counts stay."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from commands.metrics import forget_dead_processes
from tests.scraped import samples, value

ROOT = Path(__file__).resolve().parents[2]


def run_process(directory: Path, streams: int) -> None:
    """A process that counts a command, opens `streams` streams and dies without a clean
    exit (as kill -9 leaves it: no exit handler runs)."""
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from commands import metrics
        assert metrics.enable_multiprocess(Path({str(directory)!r}))
        metrics.count_command("CommandService.open_ticket", "saved")
        held = [metrics.stream_open("staff") for _ in range({streams})]
        for stream in held:
            stream.__enter__()
        os._exit(0)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def scrape(directory: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(directory))  # type: ignore[no-untyped-call]
    return samples(generate_latest(registry).decode())


def test_a_dead_process_keeps_its_counts_and_loses_its_open_streams(tmp_path: Path) -> None:
    run_process(tmp_path, streams=2)
    run_process(tmp_path, streams=1)
    before = scrape(tmp_path)
    assert value(before, "ledgerdesk_open_streams", kind="staff") == 3
    forget_dead_processes(tmp_path)
    forget_dead_processes(tmp_path)  # twice, as two scrapes at once would: no error
    after = scrape(tmp_path)
    assert value(after, "ledgerdesk_open_streams", kind="staff") == 0
    counted = value(
        after, "ledgerdesk_commands_total", command="CommandService.open_ticket", outcome="saved"
    )
    assert counted == 2
