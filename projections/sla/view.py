"""SLA view: reads the `ItemSla` events; shows one `item_sla` row per item held to a policy,
with its overall state and the next time it may change (`next_due`).

The worker tick asks it which items have a warning or a due time behind them; what is
recorded then is decided in the write model (`commands.sla.items`), from the item's history.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.sla.item_sla import ItemSla, next_due, overall, pending
from projections.base import Positioned, Projection, Tables, topic_name
from projections.db import Tx

# Named by the classes (importing them is what lets a rebuild process decode the events).
READS = tuple(f"{ItemSla.TOPIC}.{name}" for name in ("Started", "Applied", "Changed"))


class SlaProjection(Projection):
    name = "sla"
    tables = ("item_sla",)
    topics = frozenset(READS)

    def create(self, tx: Tx, t: Tables) -> None:
        table = t["item_sla"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " sla_id TEXT PRIMARY KEY, item_id TEXT NOT NULL, number BIGINT NOT NULL,"
            " policy_id TEXT, policy_name TEXT, state TEXT, next_due TEXT,"
            " pending INTEGER NOT NULL DEFAULT 0)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_next_due ON {table} (next_due)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_policy ON {table} (policy_id, state)")

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
                        " state = NULL, next_due = NULL, pending = 0 WHERE sla_id = ?",
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
                    f"UPDATE {table} SET state = ?, next_due = ?, pending = ? WHERE sla_id = ?",
                    (overall(m), next_due(m), 1 if pending(m) else 0, sla),
                )


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
