"""What every benchmark shares: a throwaway schema, timing, percentiles and the table."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import resource
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.stats import percentile
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.db import Params, Row, Tx

__all__ = ["percentile"]  # re-exported: the benchmarks take it from here

# The benchmarks' own knob (not the app's settings): where a throwaway schema may be made.
PG_URL = os.environ.get(
    "LEDGERDESK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figure:
    """One measured line of the final table: our figure, the raw one, and their ratio."""

    name: str
    value: float
    unit: str
    baseline: float
    baseline_name: str
    note: str = ""
    # For latencies a smaller number is better; the ratio is still value / baseline.
    lower_is_better: bool = False

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else math.nan


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "MISSING"
    if unit == "ms":
        return f"{value:,.2f} ms"
    if abs(value) < 100:
        return f"{value:,.3g} {unit}"
    return f"{value:,.0f} {unit}"


def show(figure: Figure) -> None:
    """Print one figure as soon as it is known (the table at the end repeats it)."""
    say(
        f"{figure.name}: {fmt(figure.value, figure.unit)}; raw {figure.baseline_name}:"
        f" {fmt(figure.baseline, figure.unit)}; ratio {figure.ratio:.3f}"
        + (f" ({figure.note})" if figure.note else "")
    )


def print_table(figures: list[Figure], failed: Sequence[str] = ()) -> None:
    """One table of every figure: ours, its raw twin, their ratio, and what the twin is.

    The ratio is always ours / raw; `better` says which way is better for ours: `lower` for
    latencies (the raw twin is the floor), `higher` for rates (the raw twin is the ceiling).
    A figure without its raw twin shows MISSING. `failed` names the benchmarks that crashed
    (their figures are missing)."""
    headers = ("benchmark", "ledgerdesk", "raw baseline", "ratio", "better", "raw baseline / notes")
    rows = [
        (
            f.name,
            fmt(f.value, f.unit),
            fmt(f.baseline, f.unit),
            "MISSING" if math.isnan(f.ratio) else f"{f.ratio:.3f}",
            "lower" if f.lower_is_better else "higher",
            f.baseline_name + (f"; {f.note}" if f.note else ""),
        )
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print()
    print(f"ledgerdesk benchmarks — {platform.node()}, {os.cpu_count()} cores, {time.ctime()}")
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print(line)
    for row in rows:
        cells = [
            c.rjust(w) if 0 < i < 4 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    print(line, flush=True)
    for name in failed:
        print(f"FAILED: {name} (no figures; its traceback is above)", flush=True)


@dataclass(frozen=True)
class Throughput:
    operations: int
    seconds: float
    failures: int

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds else math.nan

    def __add__(self, other: Throughput) -> Throughput:
        return Throughput(
            self.operations + other.operations,
            self.seconds + other.seconds,
            self.failures + other.failures,
        )


NOTHING = Throughput(0, 0.0, 0)


def hammer(
    workers: int, seconds: float, make_worker: Callable[[int], Callable[[], None]]
) -> Throughput:
    """Run `workers` threads, each calling its operation in a loop for `seconds`.

    `make_worker(i)` runs in the thread before the clock starts (to open a connection);
    it returns the operation. An operation that raises counts as a failure, not a result.
    """
    ready = threading.Barrier(workers + 1)
    start_at: list[float] = []
    counts = [0] * workers
    failures = [0] * workers
    errors: list[BaseException] = []

    def loop(i: int) -> None:
        try:
            operation = make_worker(i)
        except BaseException as error:
            # Never leave the others at the barrier: they all stop, and the run fails.
            errors.append(error)
            ready.abort()
            return
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            return
        deadline = start_at[0] + seconds
        while time.perf_counter() < deadline:
            try:
                operation()
            except Exception as error:
                failures[i] += 1
                if len(errors) < 3:
                    errors.append(error)
            else:
                counts[i] += 1

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    start_at.append(time.perf_counter())
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        raise RuntimeError(f"a worker could not start: {errors[0]!r}") from errors[0]
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start_at[0]
    for error in errors:
        say(f"  failure: {type(error).__name__}: {error}")
    return Throughput(sum(counts), elapsed, sum(failures))


@contextmanager
def pg_schema(prefix: str = "bench") -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped with everything in it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ledgerdesk-bench-") as path:
        yield Path(path)


def pg_settings(schema: str, data_dir: Path, pool_size: int = 10) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=PG_URL,
        database_schema=schema,
        database_pool_size=pool_size,
    )


@contextmanager
def migrated(settings: Settings) -> Iterator[bootstrap.Container]:
    """A migrated install and its container (no live projections), closed afterwards."""
    bootstrap.migrate(settings)
    container = bootstrap.build(settings)
    try:
        yield container
    finally:
        container.close()


# --- a view query beside the same SQL sent raw ---------------------------------------------

# Calls each in `timed_pairs` (read when it runs: `smoke()` lowers them).
RUNS = 200
WARM_UP = 10
SMOKE_RUNS = 10
SMOKE_WARM_UP = 2


def smoke() -> None:
    """Smoke runs: a few calls per latency figure (they only check that the benchmark works)."""
    global RUNS, WARM_UP
    RUNS, WARM_UP = SMOKE_RUNS, SMOKE_WARM_UP


class RecordingTx(Tx):
    """Passes every call through and remembers every SELECT sent (`sent`, in order)."""

    def __init__(self, inner: Tx) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.sent: list[tuple[str, Params]] = []

    def execute(self, sql: str, params: Params = ()) -> None:
        self.inner.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self.inner.executemany(sql, rows)

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        self.sent.append((sql, params))
        return self.inner.all(sql, params)

    def columns(self, table: str) -> set[str]:
        return self.inner.columns(table)


def timed_pairs(ours: Callable[[], Any], raw: Callable[[], Any]) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each, the two alternating so both see the same machine."""
    for _ in range(WARM_UP):
        ours()
        raw()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(RUNS):
        for operation, into in ((ours, samples[0]), (raw, samples[1])):
            started = time.perf_counter()
            operation()
            into.append((time.perf_counter() - started) * 1000)
    return samples


def latency_figure(
    name: str,
    ours_ms: list[float],
    raw_ms: list[float],
    note: str = "",
    baseline_name: str = "same SELECTs via psycopg",
) -> Figure:
    figure = Figure(
        name=name,
        value=percentile(ours_ms, 95),
        unit="ms",
        baseline=percentile(raw_ms, 95),
        baseline_name=baseline_name,
        note=(note + "; " if note else "")
        + f"p50 {percentile(ours_ms, 50):.2f} vs {percentile(raw_ms, 50):.2f} ms",
        lower_is_better=True,
    )
    show(figure)
    return figure


def replayed(conn: psycopg.Connection[Any], sent: list[tuple[str, Params]]) -> Callable[[], int]:
    statements = [(sql.replace("%", "%%").replace("?", "%s"), params) for sql, params in sent]

    def run() -> int:
        return sum(len(conn.execute(sql, params).fetchall()) for sql, params in statements)

    return run


_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak_rss() -> None:
    """Start this process's peak RSS afresh (Linux: `clear_refs` 5); elsewhere the peak
    stays the process's whole life's."""
    with contextlib.suppress(OSError):
        _CLEAR_REFS.write_text("5")


def peak_rss_mib() -> float:
    """This process's peak resident set size since `reset_peak_rss` (Linux: VmHWM)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mib() -> float:
    """The peak RSS of the largest child process this one has waited for."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def wait_for_port(port: int, process: subprocess.Popen[Any], what: str) -> None:
    """Until something listens on 127.0.0.1:`port` (RuntimeError naming `what` if `process`
    exits first or 30 s pass)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)
