"""SLA view: reads the `ItemSla` events; shows one `item_sla` row per item held to a policy,
with its overall state, the next time it may change (`next_due`) and the earliest due time
still owed (`due`); and one `sla_rounds` row per measured round of a target (each first
response, next response and resolution), with the policy and priority it was judged by and
its outcome, which the compliance report counts.

The worker tick asks it which items have a warning or a due time behind them; what is
recorded then is decided in the write model (`commands.sla.items`), from the item's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.sla.clock import SlaState
from domain.sla.item_sla import (
    ItemSla,
    earliest_due,
    item_sla_id,
    next_due,
    overall,
    pending,
    summary,
)
from projections.base import Positioned, Projection, Tables, topic_name
from projections.db import Tx

# Named by the classes (importing them is what lets a rebuild process decode the events).
READS = tuple(f"{ItemSla.TOPIC}.{name}" for name in ("Started", "Applied", "Changed"))


class SlaProjection(Projection):
    name = "sla"
    tables = ("item_sla", "sla_rounds")
    topics = frozenset(READS)
    schema_version = 2

    def create(self, tx: Tx, t: Tables) -> None:
        table = t["item_sla"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " sla_id TEXT PRIMARY KEY, item_id TEXT NOT NULL, number BIGINT NOT NULL,"
            " policy_id TEXT, policy_name TEXT, state TEXT, next_due TEXT,"
            " pending INTEGER NOT NULL DEFAULT 0, due TEXT)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_next_due ON {table} (next_due)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_policy ON {table} (policy_id, state)")
        rounds = t["sla_rounds"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {rounds} ("
            " sla_id TEXT NOT NULL, metric TEXT NOT NULL, started_at TEXT NOT NULL,"
            " number BIGINT NOT NULL, policy_id TEXT, policy_name TEXT, priority TEXT,"
            " due_at TEXT, answered_at TEXT, state TEXT NOT NULL, decided_at TEXT,"
            " PRIMARY KEY (sla_id, metric, started_at))"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {rounds}_decided ON {rounds} (decided_at)")

    def key_columns(self, base: str) -> str:
        return "sla_id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        table = t["item_sla"]
        for p in events:
            e, name, sla = p.event, topic_name(p.event), str(p.event.originator_id)
            if name == "ItemSla.Started":
                tx.execute(
                    f"INSERT INTO {table} (sla_id, item_id, number) VALUES (?, ?, ?)"
                    " ON CONFLICT (sla_id) DO NOTHING",
                    (sla, e.item_id, e.number),
                )
            elif name == "ItemSla.Applied":
                if e.policy is None:  # Held to no policy: nothing is owed.
                    tx.execute(
                        f"UPDATE {table} SET policy_id = NULL, policy_name = NULL,"
                        " state = NULL, next_due = NULL, pending = 0, due = NULL"
                        " WHERE sla_id = ?",
                        (sla,),
                    )
                else:
                    tx.execute(
                        f"UPDATE {table} SET policy_id = ?, policy_name = ? WHERE sla_id = ?",
                        (e.policy["id"], e.policy["name"], sla),
                    )
            else:
                m = e.metrics
                tx.execute(
                    f"UPDATE {table} SET state = ?, next_due = ?, pending = ?, due = ?"
                    " WHERE sla_id = ?",
                    (overall(m), next_due(m), 1 if pending(m) else 0, earliest_due(m), sla),
                )
                # Recorded before `metrics` were: the rounds answered in between.
                earlier = getattr(e, "earlier", None) or []  # (not in the first records)
                rounds = [*earlier, *({"metric": k, **r} for k, r in sorted(m.items()))]
                for r in rounds:
                    _round(tx, t, sla, r)


def _round(tx: Tx, t: Tables, sla: str, r: dict[str, Any]) -> None:
    """One round as recorded, under the policy the item is held to now. A round whose
    outcome was decided (met, or breached) keeps it: a later change of the policy or of the
    priority never rewrites a past period's figures."""
    state = r["state"]
    decided = (
        r["answered_at"] if state == SlaState.MET.value
        else r["due_at"] if state == SlaState.BREACHED.value
        else None
    )  # fmt: skip
    tx.execute(
        f"INSERT INTO {t['sla_rounds']} AS r (sla_id, metric, started_at, number, policy_id,"
        " policy_name, priority, due_at, answered_at, state, decided_at)"
        f" SELECT sla_id, ?, ?, number, policy_id, policy_name, ?, ?, ?, ?, ?"
        f" FROM {t['item_sla']} WHERE sla_id = ?"
        " ON CONFLICT (sla_id, metric, started_at) DO UPDATE SET"
        " policy_id = excluded.policy_id, policy_name = excluded.policy_name,"
        " priority = excluded.priority, due_at = excluded.due_at,"
        " answered_at = excluded.answered_at, state = excluded.state,"
        " decided_at = excluded.decided_at WHERE r.decided_at IS NULL",
        (
            r["metric"], r["started_at"], r.get("priority"), r["due_at"], r["answered_at"],
            state, decided, sla,
        ),
    )  # fmt: skip


def due_by(tx: Tx, t: Tables, moment: str) -> list[str]:
    """The item ids whose SLA may have changed by `moment` (a warning or a due time passed)."""
    rows = tx.all(
        f"SELECT item_id FROM {t['item_sla']} WHERE next_due <= ? ORDER BY next_due, item_id",
        (moment,),
    )
    return [row["item_id"] for row in rows]


def holding(tx: Tx, t: Tables, policy_id: str) -> list[str]:
    """The SLA ids of the items held to policy `policy_id` that are still owed an answer
    (or not measured yet): those a change of the policy applies to."""
    rows = tx.all(
        f"SELECT sla_id FROM {t['item_sla']} WHERE policy_id = ?"
        " AND (pending = 1 OR state IS NULL) ORDER BY sla_id",
        (policy_id,),
    )
    return [row["sla_id"] for row in rows]


def summary_of_item(tx: Tx, t: Tables, item_id: str) -> dict[str, Any]:
    """The SLA of item `item_id` in brief (`domain.sla.item_sla.summary`)."""
    row = tx.one(
        f"SELECT policy_id, policy_name, state, next_due, due FROM {t['item_sla']}"
        " WHERE sla_id = ?",
        (str(item_sla_id(UUID(item_id))),),
    )
    if row is None or row["policy_id"] is None:
        return summary(None, {})
    return {
        "policy": {"id": row["policy_id"], "name": row["policy_name"]},
        "state": row["state"],
        "next_due": row["next_due"],
        "due": row["due"],
    }
