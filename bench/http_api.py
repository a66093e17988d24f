"""Figure 2: HTTP create-ticket req/s against `GET /api/v1/health` req/s, 16 connections.

A real `ledgerdesk serve` process (uvicorn, one worker, views following the log in the
same process, as shipped) on a free loopback port, over a throwaway PostgreSQL schema.
The load comes from another process: `wrk` when installed, else `bench.loadgen`.
Both run on the same machine as the server and the database, so they share its cores.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import REPO, Figure, pg_schema, pg_settings, say, scratch_dir, show

CONNECTIONS = 16
ROUNDS = 2
SECONDS = 5
WARM_UP_SECONDS = 2
# Smoke: one second per endpoint, no warm-up (figures meaningless).
SMOKE_CONNECTIONS = 4
SMOKE_SECONDS = 1
BODY = json.dumps({"title": "Printer on floor 3 is jammed", "priority": "high"})

WRK_SCRIPT = """
wrk.method = "{method}"
{body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests": %d, "seconds": %f, "failures": %d, "p50_ms": %f, "p99_ms": %f}}\\n',
    summary.requests, summary.duration / 1e6,
    e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    failures: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def __add__(self, other: Load) -> Load:
        """Two runs as one: counts add, latencies are the worse of the two (a bound)."""
        return Load(
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.failures + other.failures,
            max(self.p50_ms, other.p50_ms),
            max(self.p99_ms, other.p99_ms),
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ledgerdesk() -> list[str]:
    script = Path(sys.executable).parent / "ledgerdesk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ledgerdesk"]


def _env(schema: str, data: Path) -> dict[str, str]:
    settings = pg_settings(schema, data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERDESK_")}
    env.update(
        {
            "LEDGERDESK_DATA_DIR": str(settings.data_dir),
            "LEDGERDESK_DATABASE_URL": str(settings.database_url),
            "LEDGERDESK_DATABASE_SCHEMA": settings.database_schema,
        }
    )
    return env


@contextmanager
def _server(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """`ledgerdesk serve` on `port` until the block ends; yields its base URL."""
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*_ledgerdesk(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _load(
    url: str, token: str, body: str | None, seconds: int, scratch: Path, connections: int
) -> Load:
    wrk = shutil.which("wrk")
    if wrk:
        script = scratch / ("post.lua" if body else "get.lua")
        script.write_text(
            WRK_SCRIPT.format(
                method="POST" if body else "GET",
                body=f"wrk.body = {json.dumps(body)}" if body else "",
                token=token,
            )
        )
        command = [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            url,
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
            "--token",
            token,
            *(["--body", body] if body else []),
        ]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    line = [x for x in done.stdout.splitlines() if x.strip()][-1].removeprefix("BENCH ")
    return Load(**json.loads(line))


def run(smoke: bool = False) -> list[Figure]:
    connections = SMOKE_CONNECTIONS if smoke else CONNECTIONS
    rounds, seconds = (1, SMOKE_SECONDS) if smoke else (ROUNDS, SECONDS)
    warm_up = 0 if smoke else WARM_UP_SECONDS
    tool = "wrk" if shutil.which("wrk") else "bench.loadgen (no wrk installed)"
    with scratch_dir() as scratch, pg_schema() as schema:
        env = _env(schema, scratch / "var")
        init = subprocess.run(
            [*_ledgerdesk(), "init", "--admin-email", "bench@example.com"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        token = init.stdout.strip().splitlines()[-1]
        with _server(env, _free_port(), scratch / "server.log") as base:
            say(f"http: {tool}, {connections} connections, {rounds} x {seconds} s per endpoint")
            health_url, tickets_url = f"{base}/api/v1/health", f"{base}/api/v1/tickets"
            if warm_up:
                _load(health_url, token, None, warm_up, scratch, connections)
                _load(tickets_url, token, BODY, warm_up, scratch, connections)
            runs: dict[str, list[Load]] = {"health": [], "create": []}
            for _ in range(rounds):  # Alternating, so both endpoints see the same machine.
                runs["health"].append(_load(health_url, token, None, seconds, scratch, connections))
                runs["create"].append(
                    _load(tickets_url, token, BODY, seconds, scratch, connections)
                )
            health, create = (functools.reduce(operator.add, runs[k]) for k in runs)
    figure = Figure(
        name=f"HTTP POST /tickets, {connections} connections",
        value=create.per_second,
        unit="req/s",
        baseline=health.per_second,
        baseline_name=(
            f"GET /health ({health.failures} failed, p50 {health.p50_ms:.1f} ms,"
            f" p99 {health.p99_ms:.1f} ms)"
        ),
        note=(
            f"{create.failures} failed, p50 {create.p50_ms:.1f} ms, p99 {create.p99_ms:.1f} ms;"
            f" load by {tool.split()[0]}"
        ),
    )
    show(figure)
    return [figure]
