"""SLA: recomputing the due times of open items after their policy changed, against the least
I/O that recomputation needs, sent raw.

ledgerdesk: `ITEMS` open tickets (each with a few events) held to the default policy; the
policy's targets change; then every item the `sla` view says is held to it and still owed
an answer is measured again by `ItemSlaService.follow_policy`, one after the other, as one
`sla.follow_policy` worker thread does (each: load the item's SLA and the policies, read the
item's events, measure, append `Applied` and `Changed` in one transaction). Raw: for the
same items, on one psycopg connection, a transaction per item that reads the item's stored
events and its SLA's, and inserts one row into a scratch table.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bench.common import PG_URL, Figure, migrated, pg_schema, pg_settings, say, scratch_dir, show
from bench.dataset import seed
from commands.models import Context
from commands.sla.items import ItemSlaService
from commands.sla.policies import SlaPolicyService
from domain.item_numbers import item_id
from domain.sla.item_sla import item_sla_id
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.sla.view import holding

ITEMS = 10_000
SMOKE_ITEMS = 60
ADMIN = Context(actor=Actor.system("bench"), correlation_id="bench-sla")
POLICY = {
    "name": "Standard",
    "default": True,
    "business_hours": {
        "time_zone": "Europe/Paris",
        "weekly": {
            day: [["09:00", "12:30"], ["13:30", "17:30"]]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        },
        "holidays": ["2026-12-25", "2027-01-01"],
    },
    "targets": {
        priority: {"first_response": minutes, "next_response": minutes, "resolution": minutes * 8}
        for priority, minutes in (("low", 960), ("normal", 480), ("high", 120), ("urgent", 60))
    },
}


@contextmanager
def seeded(items: int) -> Iterator[tuple[bootstrap.Container, str, list[int]]]:
    """A throwaway schema with `items` tickets held to the default policy (the policy's id,
    and the numbers of the tickets)."""
    with scratch_dir() as data, pg_schema() as schema, migrated(pg_settings(schema, data)) as c:
        say(f"sla: seeding {items:,} tickets held to a policy")
        seed(c, items)
        policy_id, _ = SlaPolicyService(c.app).define(POLICY, ADMIN)
        service = ItemSlaService(c.app)
        numbers = list(range(1, items + 1))
        for number in numbers:
            service.apply_default(number, f"bench-sla-{number}")
        c.runner.catch_up(["sla"])
        yield c, policy_id, numbers


def run(smoke: bool = False) -> list[Figure]:
    with seeded(SMOKE_ITEMS if smoke else ITEMS) as (c, policy_id, numbers):
        tighter = {p: {"first_response": 30} for p in ("low", "normal", "high", "urgent")}
        SlaPolicyService(c.app).change(policy_id, {"targets": tighter}, ADMIN)
        c.runner.catch_up(["sla"])
        with c.views.read() as tx:
            held = holding(tx, current_tables(tx, "sla"), policy_id)
        service = ItemSlaService(c.app)
        say(f"sla: measuring {len(held):,} open items again after the policy changed")
        started = time.perf_counter()
        for sla_id in held:
            service.follow_policy(uuid.UUID(sla_id), "bench-sla-follow")
        ours = time.perf_counter() - started
        item_ids = {str(item_sla_id(item_id(n))): str(item_id(n)) for n in numbers}
        raw = _raw(c, [(item_ids[s], s) for s in held])
    figure = Figure(
        name=f"SLA recompute after a policy change, {len(held):,} open items",
        value=len(held) / ours,
        unit="items/s",
        baseline=len(held) / raw,
        baseline_name="read both streams + insert a row, per item txn",
        note=f"{ours:.1f} s vs {raw:.1f} s",
    )
    show(figure)
    return [figure]


def _raw(c: bootstrap.Container, streams: list[tuple[str, str]]) -> float:
    """Seconds to read each item's stored events and its SLA's, and insert one row, in one
    transaction per item."""
    table = c.app.recorder.events_table_name  # type: ignore[attr-defined]
    schema = c.settings.database_schema
    read = (
        f"SELECT state FROM {schema}.{table} WHERE originator_id = %s ORDER BY originator_version"
    )
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {schema}.bench_sla_raw (id uuid, state bytea)")
        started = time.perf_counter()
        for item, sla in streams:
            with conn.transaction():
                conn.execute(read, (item,)).fetchall()
                rows = conn.execute(read, (sla,)).fetchall()
                conn.execute(
                    f"INSERT INTO {schema}.bench_sla_raw VALUES (%s, %s)", (sla, rows[-1][0])
                )
        return time.perf_counter() - started
