"""A runner process killed at random points resumes, and ends equal to a rebuild."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from commands.models import (
    AssignUser,
    ChangeTicketStatus,
    OpenTicket,
    PostMessage,
    RetitleTicket,
    TicketCommand,
    UnassignUser,
)
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.factories import context, register

SEED = 20240611
KILLS = 10
MAX_DELAY = 0.5  # Seconds a runner lives after it starts following, at most.
STATUSES = ["New", "Open", "Waiting on customer", "Resolved", "Closed"]


class Writer:
    """Streams a seeded mix of commands into the store from a thread, until stopped."""

    def __init__(self, c: bootstrap.Container, seed: int) -> None:
        self.c = c
        self.rng = random.Random(seed)
        self.users = [register(c, f"agent{i}@example.com") for i in range(3)]
        self.tickets: list[int] = []
        self.written = 0
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="writer", daemon=True)

    def __enter__(self) -> Writer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the writer never stopped"

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                self._one()
                self.written += 1
        except BaseException as error:
            self.errors.append(error)

    def _one(self) -> None:
        rng = self.rng
        if len(self.tickets) < 5 or rng.random() < 0.2:
            result = self.c.commands.open_ticket(
                OpenTicket(title=f"Ticket {uuid.uuid4().hex[:6]}"), context("writer")
            )
            assert result.number is not None
            self.tickets.append(result.number)
            return
        cmd: TicketCommand
        kind = rng.choice(["retitle", "status", "message", "assign", "unassign"])
        if kind == "retitle":
            cmd = RetitleTicket(title=f"Retitled {rng.randrange(10**6)}")
        elif kind == "status":
            cmd = ChangeTicketStatus(status=rng.choice(STATUSES))
        elif kind == "message":
            cmd = PostMessage(
                message_id=uuid.uuid4(),
                body=f"message {rng.randrange(10**6)}",
                visibility=rng.choice(["customer", "internal"]),
            )
        elif kind == "assign":
            cmd = AssignUser(user_id=rng.choice(self.users))
        else:
            cmd = UnassignUser(user_id=rng.choice(self.users))
        self.c.commands.change_ticket(rng.choice(self.tickets), [cmd], context("writer"))


class RunnerProcess:
    """`ledgerdesk projections run` in its own process, on the test's store."""

    def __init__(self, settings: Settings, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERDESK_")}
        env["LEDGERDESK_DATA_DIR"] = str(settings.data_dir)
        if settings.database_url is not None:
            env["LEDGERDESK_DATABASE_URL"] = settings.database_url
            env["LEDGERDESK_DATABASE_SCHEMA"] = settings.database_schema
        self.log = log
        self.stderr = log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ledgerdesk", "projections", "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def wait_until_following(self, timeout: float = 20.0) -> None:
        """Wait (by a deadline) for the line the runner prints once it follows the log."""
        stdout: IO[str] | None = self.proc.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else ""
        assert line.startswith("following the log"), (
            f"runner never started ({self.proc.poll()}, {line!r}): {self.errors()}"
        )

    def runs_for(self, seconds: float) -> None:
        """Let it work for `seconds`; it must not exit on its own meanwhile."""
        with pytest.raises(subprocess.TimeoutExpired):
            self.proc.wait(timeout=seconds)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.stderr.close()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=10)
        self.stderr.close()
        return code

    def errors(self) -> str:
        if not self.stderr.closed:
            self.stderr.flush()
        return self.log.read_text()[-4000:]


@pytest.fixture
def runners(tmp_path: Path) -> Iterator[list[RunnerProcess]]:
    """Every runner process the test starts; none outlives it."""
    started: list[RunnerProcess] = []
    yield started
    for runner in started:
        if runner.proc.poll() is None:
            runner.kill()


def _positions(c: bootstrap.Container) -> dict[str, int]:
    return {s.view: s.position for s in c.runner.status()}


@pytest.mark.slow
def test_runner_killed_at_random_points_resumes_to_a_rebuild_equal_view(
    container: bootstrap.Container, runners: list[RunnerProcess], tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    views = list(container.runner.projections)
    log = tmp_path / "runner.log"

    def start() -> RunnerProcess:
        runner = RunnerProcess(container.settings, log)
        runners.append(runner)
        runner.wait_until_following()
        return runner

    # Given commands streaming into the store
    with Writer(container, SEED) as writer:
        # When a runner process is killed at random points and restarted, again and again
        kills = []
        for _ in range(KILLS):
            before = _positions(container)
            runner = start()
            runner.runs_for(rng.uniform(0.0, MAX_DELAY))
            runner.kill()
            after = _positions(container)
            kills.append((before, after, container.app.head()))
            assert not writer.errors, writer.errors
    assert not writer.errors, writer.errors
    head = container.app.head()

    # And, once the writes have stopped, a runner is started again
    runner = start()
    caught_up = container.runner.wait_for(head, views, 60.0)
    code = runner.stop()

    # Then every view caught up with every write
    assert caught_up, f"views {_positions(container)} never reached {head}: {runner.errors()}"
    assert code == 0, runner.errors()
    assert _positions(container) == dict.fromkeys(views, head)
    # And the kills landed while the runner had work: it advanced before some of them,
    # was still behind the writer when killed, and never went back after a restart
    advanced_behind = [
        (before, after)
        for before, after, at_kill in kills
        if any(before[v] < after[v] < at_kill for v in views)
    ]
    assert len(advanced_behind) >= 3, kills
    seen = [positions for before, after, _ in kills for positions in (before, after)]
    for v in views:
        assert [p[v] for p in seen] == sorted(p[v] for p in seen), (v, kills)
    assert writer.written > 100
    # And the views the killed runners built equal a rebuild from scratch
    for name in views:
        assert container.runner.verify(name) == [], name
