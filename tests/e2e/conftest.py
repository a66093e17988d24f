"""End-to-end fixtures: the `ledgerdesk` command and a real server process."""

from __future__ import annotations

import os
import secrets
import select
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from ledgerdesk.settings import Settings
from tests import conftest

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERDESK_")}
    env["LEDGERDESK_DATA_DIR"] = str(settings.data_dir)
    env["PYTHONPATH"] = str(ROOT)
    env["LEDGERDESK_READ_WAIT_SECONDS"] = str(settings.read_wait_seconds)
    if settings.database_url:
        env["LEDGERDESK_DATABASE_URL"] = settings.database_url
        env["LEDGERDESK_DATABASE_SCHEMA"] = settings.database_schema
    return env


def run_cli(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess against `settings`' store."""
    done = subprocess.run(
        [sys.executable, "-m", "ledgerdesk", *args],
        env=env_for(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def ledgerdesk(settings: Settings) -> Run:
    """Run the CLI in a subprocess against the test's store."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_cli(settings, *args, check=check)

    return run


def free_address() -> tuple[str, int]:
    """A loopback address of this server's own (127.x.y.z) and a free port on it. Servers of
    parallel tests then never meet on one address: a port another test grabbed in between, or
    a client's outgoing connection, can only make this one fail to start, never answer in its
    place."""
    host = "127.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return host, port


def init(settings: Settings) -> str:
    """Migrate the store and create the admin; its token."""
    run_cli(settings, "migrate")
    return run_cli(settings, "init", "--admin-email", "admin@example.com").stdout.split()[-1]


@dataclass
class Served:
    """A `ledgerdesk serve` process answering at `base`."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@contextmanager
def serving(
    settings: Settings, log: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """Start `ledgerdesk serve` (with `args`, and `env` besides the settings), wait until it
    answers, stop it afterwards."""
    host, port = free_address()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "ledgerdesk", "serve"),
                *("--host", host, "--port", str(port), *args),
            ],
            env={**env_for(settings), **(env or {})},
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://{host}:{port}", process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{served.base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, served.output()
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.05)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[Served, str]]:
    """A `ledgerdesk serve` process (embedded: it follows the views); and an admin token."""
    token = init(settings)
    with serving(settings, tmp_path / "serve.log") as server:
        yield server, token


@pytest.fixture
def server(served: tuple[Served, str]) -> tuple[str, str]:
    """A `ledgerdesk serve` process; (base URL, admin token)."""
    return served[0].base, served[1]


@contextmanager
def following(settings: Settings, log: Path) -> Iterator[subprocess.Popen[str]]:
    """Run `ledgerdesk projections run` (every view) until the block ends; wait until it
    follows the log."""
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledgerdesk", "projections", "run"],
            env=env_for(settings),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else ""
        assert line.startswith("following the log"), (line, log.read_text()[-4000:])
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)


@contextmanager
def split_processes(logs: Path) -> Iterator[tuple[Served, Served, dict[str, str]]]:
    """On a fresh PostgreSQL schema: API processes A and B that follow no views
    (`serve --no-follow`), a third process keeping the views, and the admin's headers."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(conftest.PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    settings = conftest.make_settings("postgres", logs, schema)
    token = init(settings)
    try:
        with (
            following(settings, logs / "runner.log"),
            serving(settings, logs / "a.log", "--no-follow") as a,
            serving(settings, logs / "b.log", "--no-follow") as b,
        ):
            yield a, b, {"Authorization": f"Bearer {token}"}
    finally:
        with psycopg.connect(conftest.PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
