"""The 100k-ticket dataset that the rebuild and flat-view benchmarks share.

Real ledgerdesk events, made the fast way: tickets are opened with numbers from the real
`ItemNumberCounter`, some are then moved on (status, priority) by their own domain
methods, and each batch is saved with the counter in one `app.save(...)` — the same
atomic write a command does, a thousand tickets at a time instead of one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from bench.common import PG_URL, migrated, pg_schema, pg_settings, say, scratch_dir
from domain.item_numbers import ItemNumberCounter
from domain.ticket import Ticket
from domain.values import Actor, Channel, Priority
from ledgerdesk import bootstrap

TICKETS = 100_000
BATCH = 1_000
SEED = 20261122
SUBJECTS = ("Printer", "VPN", "Laptop", "Email", "Invoice", "Password", "Wi-Fi", "Monitor")
PROBLEMS = ("is broken", "does not work", "is slow", "keeps crashing", "needs replacing")
# (status, share of tickets that end in it); the rest stay "New".
STATUSES = (("Open", 0.30), ("Waiting on customer", 0.10), ("Resolved", 0.15), ("Closed", 0.10))
PRIORITIES = (Priority.LOW, Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
# One description in a hundred mentions a refund: the flat benchmark's text search.
RARE_WORD = "refund"


@dataclass
class Dataset:
    container: bootstrap.Container
    schema: str
    tickets: int
    events: int
    seed_seconds: float


def _ticket(number: int, rng: random.Random, actor: Actor) -> Ticket:
    subject = rng.choice(SUBJECTS)
    ticket = Ticket.open(
        number=number,
        title=f"{subject} {rng.choice(PROBLEMS)} (desk {rng.randint(1, 400)})",
        description=(
            f"Since this morning the {subject.lower()} on floor {rng.randint(1, 9)} "
            + ("and I would like a refund " if rng.random() < 0.01 else "")
            + "has stopped working; please have a look when you can."
        ),
        requester_email=f"customer{rng.randint(1, 5000)}@example.com",
        channel=rng.choice((Channel.API, Channel.EMAIL, Channel.PORTAL)),
        priority=rng.choice(PRIORITIES).value,
        actor=actor,
        correlation_id=f"bench-{number}",
    )
    roll = rng.random()
    for status, share in STATUSES:
        if roll < share:
            ticket.change_status(status, actor, f"bench-{number}")
            break
        roll -= share
    if rng.random() < 0.2:
        ticket.reprioritise(Priority.URGENT.value, actor, f"bench-{number}")
    return ticket


def seed(container: bootstrap.Container, tickets: int = TICKETS) -> None:
    rng = random.Random(SEED)
    actor = Actor.system("bench")
    counter = ItemNumberCounter.start()
    for start in range(0, tickets, BATCH):
        batch = [
            _ticket(counter.issue("ticket", actor, f"bench-{start + i + 1}"), rng, actor)
            for i in range(min(BATCH, tickets - start))
        ]
        container.app.save(counter, *batch)


def copy_log(container: bootstrap.Container, events: int) -> int:
    """About `events` events of this dataset's kind (tickets numbered by the real counter,
    opened and moved on by their own domain methods, the counter's events between them),
    written with `COPY` straight into the event store's table, `BATCH` tickets at a time:
    nothing else writes while a benchmark seeds, so the recorder's table lock and its
    NOTIFY are not needed. Memory holds one batch. Returns the tickets made."""
    app = container.app
    recorder = app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    copy = SQL("COPY {}.{} (originator_id, originator_version, topic, state) FROM STDIN").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    )
    rng = random.Random(SEED)
    actor = Actor.system("bench")
    counter = ItemNumberCounter.start()
    written = tickets = 0
    with recorder.datastore.get_connection() as conn:
        while written < events:
            batch = [
                _ticket(counter.issue("ticket", actor, f"bench-{tickets + i + 1}"), rng, actor)
                for i in range(BATCH)
            ]
            tickets += len(batch)
            stored = [
                app.mapper.to_stored_event(e)
                for aggregate in (counter, *batch)
                for e in aggregate.collect_events()
            ]
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(copy) as rows:
                for event in stored:
                    rows.write_row(
                        (event.originator_id, event.originator_version, event.topic, event.state)
                    )
            written += len(stored)
    return tickets


@contextmanager
def seeded_log(events: int) -> Iterator[Dataset]:
    """A throwaway schema holding about `events` events (`copy_log`; views not built)."""
    with (
        scratch_dir() as data,
        pg_schema() as schema,
        migrated(pg_settings(schema, data)) as container,
    ):
        say(f"dataset: writing about {events:,} events into schema {schema}")
        started = time.perf_counter()
        tickets = copy_log(container, events)
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"ANALYZE {schema}.{container.app.recorder.events_table_name}")  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
        head = container.app.head()
        say(f"dataset: {head:,} events in {elapsed:.1f} s ({head / elapsed:,.0f} events/s)")
        yield Dataset(container, schema, tickets, head, elapsed)


@contextmanager
def seeded(tickets: int = TICKETS) -> Iterator[Dataset]:
    """A throwaway schema holding `tickets` tickets' events (views not built yet)."""
    with (
        scratch_dir() as data,
        pg_schema() as schema,
        migrated(pg_settings(schema, data)) as container,
    ):
        say(f"dataset: seeding {tickets:,} tickets into schema {schema}")
        started = time.perf_counter()
        seed(container, tickets)
        elapsed = time.perf_counter() - started
        events = container.app.head()
        say(f"dataset: {events:,} events in {elapsed:.1f} s ({events / elapsed:,.0f} events/s)")
        yield Dataset(container, schema, tickets, events, elapsed)
