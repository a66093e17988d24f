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

from bench.common import migrated, pg_schema, pg_settings, say, scratch_dir
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
