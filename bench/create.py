"""Figure 1: create-ticket commands/s against raw one-row transactions, same concurrency.

ledgerdesk: threads call `commands.open_ticket` (take a number from the item-number
counter, save the counter's and the ticket's events in one transaction; the commands that
arrive together are one batch of the group commit, one transaction). Raw: threads each
INSERT one row per autocommit transaction into a plain table. No views follow the log here:
this is the write side alone.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.common import (
    NOTHING,
    PG_URL,
    Figure,
    Throughput,
    hammer,
    migrated,
    pg_schema,
    pg_settings,
    say,
    scratch_dir,
    show,
)
from commands.models import Context, OpenTicket
from domain.values import Actor
from ledgerdesk.settings import Settings

WRITERS = (1, 16)
# Ours and raw alternate in short rounds, so that a busy neighbour (or a checkpoint)
# slows both sides alike instead of whichever happened to run at the time.
ROUNDS = 3
SECONDS = 3.0
SQLITE_ROUNDS = 2
SQLITE_SECONDS = 2.0
WARM_UP = 20
# Smoke: one short round each, fewer writers (checks the benchmark runs; figures meaningless).
SMOKE_WRITERS = (1, 4)
SMOKE_SECONDS = 0.4
SMOKE_WARM_UP = 3
TITLE = "Printer on floor 3 is jammed again"


@dataclass(frozen=True)
class Batches:
    """What the group commit did during the measured rounds."""

    batches: int
    commands: int
    alone: int  # run again on their own after their batch met another writer's save
    moved: int  # batches decided again: the log moved on between kept state and save

    def note(self, gave_up: int) -> str:
        per_batch = self.commands / max(self.batches, 1)
        return (
            f"{self.commands:,} commands in {self.batches:,} batches ({per_batch:.1f} per"
            f" batch, a transaction each), {self.moved} decided again after the log moved,"
            f" {self.alone} saved alone after a conflict, {gave_up} gave up"
            " (ConcurrentWriteError)"
        )


def _context() -> Context:
    return Context(actor=Actor.system("bench"), correlation_id=str(uuid.uuid4()))


def _compare(
    settings: Settings,
    writers: int,
    rounds: int,
    seconds: float,
    raw: Callable[[int, float], Throughput],
    warm_up: int = WARM_UP,
) -> tuple[Throughput, Batches, Throughput]:
    """Open tickets from `writers` threads, alternating rounds with the raw inserts.

    Returns our throughput, what the group commit did meanwhile (its batches, each one
    transaction, and the commands that met another writer's save and ran alone) and raw's.
    """
    with migrated(settings) as container:
        for _ in range(warm_up):
            container.commands.open_ticket(OpenTicket(title=TITLE), _context())
        group = container.app.group_commit
        before = (group.batches, group.commands, group.fallbacks, group.moved)

        def make(i: int) -> Callable[[], None]:
            def operation() -> None:
                container.commands.open_ticket(OpenTicket(title=TITLE), _context())

            return operation

        ours, theirs = NOTHING, NOTHING
        for _ in range(rounds):
            ours += hammer(writers, seconds, make)
            theirs += raw(writers, seconds)
        batches = Batches(
            group.batches - before[0],
            group.commands - before[1],
            group.fallbacks - before[2],
            group.moved - before[3],
        )
        return ours, batches, theirs


def _raw_postgres(schema: str, writers: int, seconds: float, warm_up: int) -> Throughput:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.raw_tickets"
            " (id BIGSERIAL PRIMARY KEY, title TEXT NOT NULL, created_at TIMESTAMPTZ DEFAULT now())"
        )
    connections: list[psycopg.Connection[tuple[object, ...]]] = []

    def make(i: int) -> Callable[[], None]:
        conn = psycopg.connect(PG_URL, autocommit=True)
        connections.append(conn)
        sql = f"INSERT INTO {schema}.raw_tickets (title) VALUES (%s)"
        for _ in range(warm_up):
            conn.execute(sql, (TITLE,))

        def operation() -> None:
            conn.execute(sql, (TITLE,))

        return operation

    try:
        return hammer(writers, seconds, make)
    finally:
        for conn in connections:
            conn.close()


def _raw_sqlite(path: Path, writers: int, seconds: float) -> Throughput:
    """Raw sqlite3 in WAL mode (as the embedded event store runs), one INSERT per commit."""
    with sqlite3.connect(path, isolation_level=None) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute(
            "CREATE TABLE IF NOT EXISTS raw_tickets (id INTEGER PRIMARY KEY, title TEXT NOT NULL,"
            " created_at TEXT DEFAULT CURRENT_TIMESTAMP)"
        )
    connections: list[sqlite3.Connection] = []

    def make(i: int) -> Callable[[], None]:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        connections.append(conn)

        def operation() -> None:
            conn.execute("INSERT INTO raw_tickets (title) VALUES (?)", (TITLE,))

        return operation

    try:
        return hammer(writers, seconds, make)
    finally:
        for conn in connections:
            conn.close()


def _figure(
    backend: str, writers: int, ours: Throughput, batches: Batches, raw: Throughput
) -> Figure:
    return Figure(
        name=f"create ticket, {backend}, {writers} writer{'s' if writers > 1 else ''}",
        value=ours.per_second,
        unit="/s",
        baseline=raw.per_second,
        baseline_name=f"1-row INSERT txns ({raw.failures} failed)",
        note=batches.note(ours.failures),
    )


def run(with_sqlite: bool = True, smoke: bool = False) -> list[Figure]:
    writers_each = SMOKE_WRITERS if smoke else WRITERS
    rounds, seconds, warm_up = (
        (1, SMOKE_SECONDS, SMOKE_WARM_UP) if smoke else (ROUNDS, SECONDS, WARM_UP)
    )
    sqlite_rounds, sqlite_seconds = (1, SMOKE_SECONDS) if smoke else (SQLITE_ROUNDS, SQLITE_SECONDS)
    figures: list[Figure] = []
    for writers in writers_each:
        with scratch_dir() as data, pg_schema() as schema:
            say(f"create: PostgreSQL, {writers} writer(s), {rounds} x {seconds:.1f} s each")
            ours, batches, raw = _compare(
                pg_settings(schema, data),
                writers,
                rounds,
                seconds,
                lambda n, s, schema=schema: _raw_postgres(schema, n, s, warm_up),
                warm_up,
            )
        figures.append(_figure("PostgreSQL", writers, ours, batches, raw))
        show(figures[-1])
    if with_sqlite:
        for writers in writers_each:
            with scratch_dir() as data:
                say(
                    f"create: SQLite, {writers} writer(s),"
                    f" {sqlite_rounds} x {sqlite_seconds:.1f} s each"
                )
                ours, batches, raw = _compare(
                    Settings(data_dir=data / "var", database_url=None),
                    writers,
                    sqlite_rounds,
                    sqlite_seconds,
                    lambda n, s, path=data / "raw.sqlite3": _raw_sqlite(path, n, s),
                    warm_up,
                )
            figures.append(_figure("SQLite", writers, ours, batches, raw))
            show(figures[-1])
    return figures
