"""Fixtures: every storage test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

import workers.registry as worker_registry
from commands.log_context import log_fields
from domain.ticket import Ticket
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections import outbox, presence
from projections.policy import Policy, Send
from tests import dovecot as dovecot_server
from tests import services
from tests.factories import admin_token
from tests.smtp_sink import Sink, running_sink
from tests.sse import served
from workers.actors import ActorSpec, Delivery, WorkerServices

PG_URL = services.url(services.PG_VAR)  # Set again once `pytest_configure` provisions.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


_provisioned: services.Provisioned | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Make sure PostgreSQL, Redis and RabbitMQ answer before any test is collected (xdist
    workers inherit the URLs and find them answering)."""
    global PG_URL, _provisioned
    try:
        _provisioned = services.provision()
    except services.ServiceUnavailableError as error:
        pytest.exit(f"ledgerdesk tests: {error}", returncode=3)
    PG_URL = services.url(services.PG_VAR)
    for started in _provisioned.started:
        print(f"ledgerdesk tests: started a throwaway server for {started}")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _provisioned is not None:
        _provisioned.stop()


# Reads with X-Min-Position wait up to 2 s in production; on a loaded 2-core CI machine a
# view can lag longer than that, which would turn lag into a wrong answer in a test.
READ_WAIT = 15.0


def make_settings(backend: str, tmp_path: Path, schema: str | None = None) -> Settings:
    if backend == "sqlite":
        return Settings(data_dir=tmp_path / "var", database_url=None, read_wait_seconds=READ_WAIT)
    return Settings(
        data_dir=tmp_path / "var",
        database_url=PG_URL,
        database_schema=schema,
        read_wait_seconds=READ_WAIT,
    )


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards, so tests never share tables."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "postgres":
        schema = request.getfixturevalue("pg_schema")
        return make_settings("postgres", tmp_path, schema)
    return make_settings("sqlite", tmp_path)


@pytest.fixture
def container(settings: Settings) -> Iterator[bootstrap.Container]:
    """Migrated storage and every service, without live projections."""
    bootstrap.migrate(settings)
    built = bootstrap.build(settings)
    yield built
    built.close()


@pytest.fixture
def working(settings: Settings) -> Iterator[bootstrap.Container]:
    """Views following the log and workers running (in-memory broker), ticking often."""
    fast = settings.model_copy(update={"tick_seconds": 0.2})
    bootstrap.migrate(fast)
    built = bootstrap.build(fast)
    built.follow()
    built.work()
    yield built
    built.close()


@pytest.fixture
def live(container: bootstrap.Container) -> bootstrap.Container:
    """The container with projections following the log in background threads."""
    container.follow()
    return container


@pytest.fixture
def client(live: bootstrap.Container) -> Iterator[TestClient]:
    """An HTTP client of the real app, authenticated as an admin — who is on duty for chats
    (as if their staff stream were open all day: a chat waits for them)."""
    token = admin_token(live)
    with TestClient(live.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        admin_id = http.get("/api/v1/me").json()["id"]
        presence.seen(live.views, "tests", [admin_id], time.time() + 24 * 3600)
        yield http


@pytest.fixture(scope="session")
def dovecot() -> Iterator[dovecot_server.Dovecot]:
    """A throwaway Dovecot IMAP server for this session (each test adds its own user);
    fails, never skips, when Dovecot is not installed."""
    try:
        server = dovecot_server.start()
    except dovecot_server.DovecotMissingError as missing:
        pytest.fail(str(missing), pytrace=False)
    yield server
    server.stop()


# --- workers: a test-only policy and actor ---------------------------------------------


class Echo:
    """The test actor for purpose `test.echo`: records each delivery it acts on.

    `fail_next` makes that many calls raise first, as a failing effect would.
    """

    purpose = "test.echo"

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.fail_next = 0
        self._lock = threading.Lock()
        # Cleared, calls wait at the door (`entered` says who is waiting) until it is set.
        self.gate = threading.Event()
        self.gate.set()
        self.entered: list[str] = []
        # What every line logged while acting would say of its work (log_context fields).
        self.logged: list[dict[str, str]] = []

    def handle(self, services: WorkerServices, delivery: Delivery) -> None:
        self.entered.append(delivery.message_id)
        self.gate.wait()
        with self._lock:
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("echo failed")
            self.deliveries.append(delivery)
            self.logged.append(log_fields())

    def ids(self) -> list[str]:
        with self._lock:
            return [d.message_id for d in self.deliveries]

    @staticmethod
    def react(event: Any) -> list[Send]:
        return [Send(Echo.purpose, {"ticket_id": str(event.originator_id)})]


ECHO_POLICY = Policy(Echo.purpose, frozenset({Ticket.Opened.TOPIC}), Echo.react)


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch) -> Echo:
    """Every opened ticket asks for a `test.echo` message, and an `Echo` actor receives it
    (registered for containers built after this fixture)."""
    actor = Echo()
    # The only policy an opened ticket asks anything of (the SLA's default policy would
    # add a message of its own to every count these tests make).
    others = tuple(p for p in outbox.POLICIES if Ticket.Opened.TOPIC not in p.topics)
    monkeypatch.setattr(outbox, "POLICIES", (*others, ECHO_POLICY))
    monkeypatch.setattr(
        worker_registry, "ACTORS", (*worker_registry.ACTORS, ActorSpec(Echo.purpose, actor.handle))
    )
    return actor


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "it") -> None:
    """Wait for `condition` by a deadline (polling), never by a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A real SMTP server that keeps what it is sent."""
    with running_sink() as running:
        yield running


@pytest.fixture
def mailing(
    request: pytest.FixtureRequest, settings: Settings, sink: Sink
) -> Iterator[bootstrap.Container]:
    """An install that mails through `sink` at once (no wait for unread messages), its
    views and workers running. A test module may set `MAIL_SETTINGS` (a dict) to change
    more settings."""
    container = mailing_install(settings, sink, **getattr(request.module, "MAIL_SETTINGS", {}))
    yield container
    container.close()


def mailing_install(settings: Settings, sink: Sink, **changes: object) -> bootstrap.Container:
    """An install (its views and workers running) that mails through `sink` at once, with
    `changes` to its settings besides; the caller closes it."""
    configured = settings.model_copy(
        update={"smtp_url": sink.url, "forward_unread_after": 0, **changes}
    )
    bootstrap.migrate(configured)
    container = bootstrap.build(configured)
    container.follow()
    container.work()
    return container


@pytest.fixture
def base(live: bootstrap.Container) -> Iterator[str]:
    """The live app served by uvicorn (streams need a real server), its streams' heartbeat
    every half second; its base URL."""
    live.settings.stream_heartbeat_seconds = 0.5
    with served(live.http_app()) as url:
        yield url
