"""SIGTERM stops a real `ledgerdesk serve` promptly and cleanly, even during an import, on
PostgreSQL; the interrupted import shows nothing, and sending the file again completes it."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from ledgerdesk.settings import Settings
from tests.conftest import make_settings, wait_until
from tests.e2e.conftest import ROOT, Run, env_for, free_address

ROWS = 20_000


def _serve(settings: Settings) -> tuple[subprocess.Popen[str], str]:
    host, port = free_address()
    process = subprocess.Popen(
        [sys.executable, "-m", "ledgerdesk", "serve", "--host", host, "--port", str(port)],
        env=env_for(settings),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://{host}:{port}"

    def up() -> bool:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            return httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    # Generous: the second start in the test runs while the machine is busy with others.
    wait_until(up, timeout=90, what="the server to come up")
    return process, base


@pytest.fixture
def settings(pg_schema: str, tmp_path: Path) -> Settings:
    """PostgreSQL only: the deployment whose lock once held every writer up."""
    return make_settings("postgres", tmp_path, pg_schema)


@pytest.fixture
def served(settings: Settings, ledgerdesk: Run) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    ledgerdesk("migrate")
    token = ledgerdesk("init", "--admin-email", "admin@example.com").stdout.strip().splitlines()[-1]
    process, base = _serve(settings)
    yield process, base, token
    if process.poll() is None:
        process.kill()
        process.wait()


def _staged(settings: Settings) -> int:
    with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {settings.database_schema}.ledgerdesk_events"
            " WHERE topic = 'ledgerdesk:Import.Staged'"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.slow
@pytest.mark.postgres
def test_sigterm_during_an_import_exits_cleanly_and_the_import_resumes(
    served: tuple[subprocess.Popen[str], str, str], settings: Settings
) -> None:
    process, base, token = served
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=120) as http:
        number = http.post("/api/v1/tasks", json={"title": "Imported"}).json()["number"]
    lines = [
        f"{number},admin@example.com,2026-12-{1 + n % 28:02d},0:{10 + n % 50},row {n}"
        for n in range(ROWS)
    ]
    content = ("item,user_email,date,hours,notes\n" + "\n".join(lines) + "\n").encode()
    files = {"file": ("time.csv", content, "text/csv")}
    answers: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=base, headers=auth, timeout=120) as http:
            answers.append(http.post("/api/v1/timesheets/import", files=files))

    # Given an import under way (it has written a batch)
    sending = threading.Thread(target=send, daemon=True)
    sending.start()
    wait_until(lambda: _staged(settings) > 0, timeout=120, what="a staged batch")
    # When the server is told to stop
    process.send_signal(signal.SIGTERM)
    # Then it exits promptly and cleanly, and the import answers that it stopped
    code = process.wait(timeout=30)
    assert code == 0, process.stdout.read() if process.stdout else code
    sending.join(timeout=30)
    assert [a.status_code for a in answers] == [503], [a.text for a in answers]
    import_id = answers[0].json()["import_id"]
    # When the server is back and the same file is sent again
    process, base = _serve(settings)
    try:
        with httpx.Client(base_url=base, headers=auth, timeout=300) as http:
            before = http.get("/api/v1/reports/timesheets", headers={"X-Min-Position": "1"}).json()[
                "totals"
            ]
            again = http.post("/api/v1/timesheets/import", files=files)
            # Then the import completes and every row shows exactly once
            assert again.status_code == 200, again.text
            assert (again.json()["imported"], again.json()["import_id"]) == (ROWS, import_id)
            wait = {"X-Min-Position": again.headers["X-Log-Position"]}
            after = http.get("/api/v1/reports/timesheets", headers=wait).json()["totals"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert before["entries"] == 0
    assert after["entries"] == ROWS
