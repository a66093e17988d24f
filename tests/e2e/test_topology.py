"""The production topology under faults: two API processes, two workers and a projection
runner on PostgreSQL and Redis, each started with the command line of its systemd unit in
`deploy/systemd/`, each with a data directory of its own (no shared disk; files in
PostgreSQL). Mixed writes and reads go through both API processes; mid-run one API
process, one worker and the runner are killed with SIGKILL and started again.

Afterwards nothing acknowledged is lost, every side effect the outbox asked for happened
once (each event's webhook delivered and recorded once), every view equals a rebuild
(`replay --verify`), a file sent through one API process downloads through the other, and
`/metrics` on either API process adds up the whole machine's processes, the killed ones'
counts included."""

from __future__ import annotations

import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from ledgerdesk import bootstrap
from projections.base import current_tables
from tests import services
from tests.conftest import make_settings, wait_until
from tests.e2e.conftest import ROOT, env_for, run_cli
from tests.scraped import Samples, has, samples, total
from tests.webhook_receiver import attempts, delivered, receiving

pytestmark = pytest.mark.postgres

UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/ledgerdesk/.venv/bin/ledgerdesk"
TOKEN = "topology-metrics-0123456789"
SECRET = "topology-secret-key-0123456789abcdef"
WRITES = 60  # per phase: before the kill, while down, after the restart


def unit_command(unit: str, port: int | None = None, host: str = "127.0.0.1") -> list[str]:
    """The unit's ExecStart, run from this checkout: the installed `ledgerdesk` becomes this
    interpreter's `-m ledgerdesk`, the instance (`%i`) the port, 0.0.0.0 a loopback host."""
    text = (UNITS / unit).read_text()
    (line,) = re.findall(r"^ExecStart=(.+)$", text, re.MULTILINE)
    words = shlex.split(line.replace("%i", str(port or 0)))
    assert words[0] == INSTALLED, words
    return [sys.executable, "-m", "ledgerdesk", *(host if w == "0.0.0.0" else w for w in words[1:])]


@dataclass
class Role:
    """One process of the topology: its unit, its own data directory, its log."""

    name: str
    unit: str
    env: dict[str, str]
    log: Path
    host: str = "127.0.0.1"
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.launch()
        self.wait()

    def launch(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                unit_command(self.unit, self.port, self.host),
                env=self.env,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait(self) -> None:
        if self.port is not None:
            wait_until(self.answers, timeout=60, what=f"{self.name} to answer")

    def answers(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"{self.name} exited: {self.output()}"
        try:
            return httpx.get(f"{self.base}/api/v1/health/live", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@dataclass
class Load:
    """Clients writing and reading through both API processes: what was acknowledged."""

    bases: list[str]
    token: str
    acknowledged: dict[int, str] = field(default_factory=dict)  # number → its last title
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, writes: int, clients: int = 4) -> None:
        self.join(self.start(writes, clients))

    def start(self, writes: int, clients: int = 4) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._client, args=(n, writes // clients), daemon=True)
            for n in range(clients)
        ]
        for thread in threads:
            thread.start()
        return threads

    def join(self, threads: list[threading.Thread]) -> None:
        for thread in threads:
            thread.join(120)
            assert not thread.is_alive(), "a client hung"

    def _client(self, n: int, writes: int) -> None:
        chance = random.Random(n)
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(headers=headers, timeout=30) as http:
            for k in range(writes):
                base = self.bases[(n + k) % len(self.bases)]
                try:
                    self._one(http, base, chance, f"c{n}-{k}")
                except httpx.TransportError as away:  # the process was killed: not acked
                    with self.lock:
                        self.errors[type(away).__name__] += 1

    def _one(self, http: httpx.Client, base: str, chance: random.Random, name: str) -> None:
        with self.lock:
            known = list(self.acknowledged)
        if known and chance.random() < 0.3:
            number = chance.choice(known)
            title = f"Renamed {name}"
            answer = http.patch(f"{base}/api/v1/tickets/{number}", json={"title": title})
            assert answer.status_code == 200, answer.text
            with self.lock:
                self.acknowledged[number] = title
        else:
            answer = http.post(f"{base}/api/v1/tickets", json={"title": f"Ticket {name}"})
            assert answer.status_code == 201, answer.text
            with self.lock:
                self.acknowledged[answer.json()["number"]] = f"Ticket {name}"
        listed = http.get(f"{base}/api/v1/tickets", params={"limit": 20})
        assert listed.status_code == 200, listed.text


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    name = f"ldtopo_{os.urandom(6).hex()}"
    yield name
    client = redis.Redis.from_url(services.url(services.REDIS_VAR))
    keys = list(client.scan_iter(f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


def api_address() -> tuple[str, int]:
    """127.0.0.1 (the webhook receiver's host is allowed there) and a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "127.0.0.1", int(s.getsockname()[1])


@contextmanager
def topology(tmp_path: Path, pg_schema: str, namespace: str) -> Iterator[dict[str, Role]]:
    settings = make_settings("postgres", tmp_path / "admin", pg_schema)
    shared = {
        **env_for(settings),
        "LEDGERDESK_BROKER_URL": services.url(services.REDIS_VAR),
        "LEDGERDESK_BROKER_NAMESPACE": namespace,
        "LEDGERDESK_BLOB_STORE": "postgres",
        "LEDGERDESK_SECRET_KEY": SECRET,
        "LEDGERDESK_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "LEDGERDESK_WEBHOOK_RETRY_BASE_SECONDS": "0.01",
        "LEDGERDESK_METRICS_TOKEN": TOKEN,
        # One machine: its processes add up their metrics in one directory.
        "LEDGERDESK_METRICS_DIR": str(tmp_path / "metrics"),
        "LEDGERDESK_LOG_FORMAT": "text",
        # While the runner is down, a client's read waits this long for its own writes.
        "LEDGERDESK_READ_WAIT_SECONDS": "0.5",
        # Six processes on one test database server: a few connections each.
        "LEDGERDESK_DATABASE_POOL_SIZE": "3",
    }

    def role(name: str, unit: str, host: str = "127.0.0.1", port: int | None = None) -> Role:
        data = tmp_path / name
        data.mkdir()
        env = {**shared, "LEDGERDESK_DATA_DIR": str(data)}
        return Role(name, unit, env, tmp_path / f"{name}.log", host, port)

    migrate = subprocess.run(
        unit_command("ledgerdesk-migrate.service"),
        env={**shared, "LEDGERDESK_DATA_DIR": str(settings.data_dir)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    roles = {
        "runner": role("runner", "ledgerdesk-runner.service"),
        "worker1": role("worker1", "ledgerdesk-worker@.service"),
        "worker2": role("worker2", "ledgerdesk-worker@.service"),
        "api1": role("api1", "ledgerdesk-api@.service", *api_address()),
        "api2": role("api2", "ledgerdesk-api@.service", *api_address()),
    }
    try:
        for each in roles.values():
            each.launch()
        for each in roles.values():
            each.wait()
        yield roles
    finally:
        for each in roles.values():
            each.stop()


def scrape(base: str) -> Samples:
    answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    return samples(answer.text)


def test_the_topology_loses_nothing_when_processes_are_killed(
    tmp_path: Path, pg_schema: str, redis_namespace: str
) -> None:
    with ExitStack() as stack:
        roles = stack.enter_context(topology(tmp_path, pg_schema, redis_namespace))
        api1, api2 = roles["api1"], roles["api2"]
        admin = make_settings("postgres", tmp_path / "admin", pg_schema)
        token = run_cli(admin, "init", "--admin-email", "admin@example.com").stdout.split()[-1]
        receiver = stack.enter_context(receiving())
        auth = {"Authorization": f"Bearer {token}"}
        hook = httpx.post(
            f"{api1.base}/api/v1/webhooks",
            json={"url": receiver.url, "events": ["item.created"]},
            headers=auth,
        )
        assert hook.status_code == 201, hook.text

        # A file sent through one API process, read through the other: no shared disk
        payload = os.urandom(3 * 1024 * 1024 + 17)  # several chunks
        number = httpx.post(f"{api1.base}/api/v1/tickets", json={"title": "Trace"}, headers=auth)
        sent = httpx.post(
            f"{api1.base}/api/v1/tickets/{number.json()['number']}/attachments",
            files={"file": ("trace.bin", payload, "application/octet-stream")},
            headers=auth,
            timeout=60,
        )
        assert sent.status_code == 201, sent.text
        (attachment,) = sent.json()["attachments"]
        download = f"/api/v1/tickets/{number.json()['number']}/attachments/{attachment['id']}"
        fresh = {**auth, "X-Min-Position": sent.headers["X-Log-Position"]}

        load = Load([api1.base, api2.base], token)
        load.run(WRITES)

        # Mid-run, while the clients write: SIGKILL one API process, one worker and the
        # runner. The dead API process's clients see errors, not answers; they go on.
        running = load.start(WRITES)
        so_far = len(load.acknowledged)
        wait_until(lambda: len(load.acknowledged) >= so_far + 10, what="writes under way")
        for name in ("api1", "worker1", "runner"):
            roles[name].kill()
        load.join(running)
        for name in ("api1", "worker1", "runner"):
            roles[name].launch()
        for name in ("api1", "worker1", "runner"):
            roles[name].wait()
        load.run(WRITES)

        c = bootstrap.build(admin.model_copy(update={"database_pool_size": 3}))
        stack.callback(c.close)
        # Nothing acknowledged is lost: every ticket reads back, as last acknowledged,
        # through either API process (each read waits for the views to reach the log)
        with httpx.Client(headers=auth, timeout=30) as http:
            http.headers["X-Min-Position"] = str(c.app.head())
            for base in (api1.base, api2.base):
                for number_, title in load.acknowledged.items():
                    got = http.get(f"{base}/api/v1/tickets/{number_}")
                    assert got.status_code == 200, got.text
                    assert got.json()["title"] == title
            for base in (api1.base, api2.base):
                got = http.get(f"{base}{download}", headers=fresh)
                assert got.status_code == 200, got.text
                assert got.content == payload
        assert len(load.acknowledged) >= WRITES  # the load really ran

        # Every side effect the outbox asked for, once: each opened item's webhook
        # delivered and recorded delivered once
        with c.views.read() as tx:
            opened = tx.all(f"SELECT number FROM {current_tables(tx, 'flat')['flat_items']}")
        expected = len(opened)
        assert expected >= len(load.acknowledged)

        wait_until(
            lambda: delivered(c.views) == expected, timeout=120, what="every webhook delivered"
        )
        taken = Counter(row["event_id"] for row in attempts(c.views) if row["status"] == 200)
        assert len(taken) == expected
        assert set(taken.values()) == {1}
        received = Counter(receiver.ids())
        assert len(received) == expected
        # A worker killed between the receiver's answer and the record of it is the one
        # way a receiver hears an event twice (under the same delivery id, to deduplicate).
        assert sum(received.values()) - expected <= 1

        # Every view equals a rebuild from the log
        verified = run_cli(admin, "replay", "--verify", check=False)
        assert verified.returncode == 0, verified.stdout + verified.stderr

        # The metrics add up every process of the machine, the killed ones' counts too (an
        # acknowledged write was counted before its answer left)
        for base in (api1.base, api2.base):
            found = scrape(base)
            saved = total(
                found, "ledgerdesk_commands_total",
                command="CommandService.open_ticket", outcome="saved",
            )  # fmt: skip
            assert saved >= len(load.acknowledged)
            assert total(found, "ledgerdesk_worker_messages_total", outcome="done") >= expected
            assert total(found, "ledgerdesk_http_requests_total", route="/api/v1/tickets") >= (
                len(load.acknowledged)
            )
            for name in ("ledgerdesk_view_lag_events", "ledgerdesk_outbox_backlog"):
                assert has(found, name), f"{name} is missing"
            assert total(found, "ledgerdesk_view_failed") == 0
            assert has(found, "ledgerdesk_view_failed")
        wait_until(lambda: settled(scrape(api2.base)), what="no lag and no backlog")


def settled(found: Samples) -> bool:
    """Every view at the log's head and nothing waiting in the outbox, as /metrics says."""
    return (
        total(found, "ledgerdesk_view_lag_events") == 0
        and total(found, "ledgerdesk_outbox_backlog") == 0
        and has(found, "ledgerdesk_outbox_backlog")
    )
