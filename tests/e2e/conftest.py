"""End-to-end fixtures: the `ledgerdesk` command and a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ledgerdesk.settings import Settings

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


@pytest.fixture
def ledgerdesk(settings: Settings) -> Run:
    """Run the CLI in a subprocess against the test's store."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
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

    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(settings: Settings, ledgerdesk: Run) -> Iterator[tuple[str, str]]:
    """A `ledgerdesk serve` process; yields (base URL, admin token)."""
    ledgerdesk("migrate")
    token = ledgerdesk("init", "--admin-email", "admin@example.com").stdout.strip().splitlines()[-1]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ledgerdesk", "serve", "--port", str(port)],
        env=env_for(settings),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.05)
    yield base, token
    process.terminate()
    process.wait(timeout=15)
