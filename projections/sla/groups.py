"""The SLA view grouped by policy and state: how many of the items a caller sees are held
to each policy in each state, with the first few of each group (most urgent first). Read
from the flat view's rows, which carry each item's policy, state and earliest owed due time,
so the caller's project scope applies as it does to the flat list."""

from __future__ import annotations

from typing import Any

from domain.sla.item_sla import SEVERITY
from projections.base import Tables, loads
from projections.db import Tx
from projections.flat import COLUMNS, visible

# Worst first; items whose policy sets no target for their priority (state null) last.
STATE_ORDER = {s.value: i for i, s in enumerate(SEVERITY)}


def sla_groups(
    tx: Tx,
    t: Tables,
    projects: frozenset[str] | None,
    kinds: frozenset[str],
    policy_id: str | None = None,
    state: str | None = None,
    per_group: int = 10,
) -> list[dict[str, Any]]:
    """One group per policy and state, by policy name then state, worst first."""
    scope = visible(projects, kinds)
    if scope is None:
        return []
    where, params = ["sla_policy_id IS NOT NULL", *scope[0]], list(scope[1])
    if policy_id is not None:
        where.append("sla_policy_id = ?")
        params.append(policy_id)
    if state is not None:
        where.append("sla_state = ?")
        params.append(state)
    items = t["flat_items"]
    condition = " AND ".join(where)
    counted = tx.all(
        f"SELECT sla_policy_id, MAX(sla_policy_name) AS name, sla_state, COUNT(*) AS n"
        f" FROM {items} WHERE {condition} GROUP BY sla_policy_id, sla_state",
        params,
    )
    counted.sort(
        key=lambda r: (r["name"] or "", r["sla_policy_id"], STATE_ORDER.get(r["sla_state"], 99))
    )
    groups = []
    for row in counted:
        same = "sla_state IS NULL" if row["sla_state"] is None else "sla_state = ?"
        first = tx.all(
            f"SELECT {COLUMNS} FROM {items} WHERE {condition} AND sla_policy_id = ? AND {same}"
            " ORDER BY sla_sort, number LIMIT ?",
            [
                *params, row["sla_policy_id"],
                *([] if row["sla_state"] is None else [row["sla_state"]]), per_group,
            ],
        )  # fmt: skip
        for item in first:
            item["assignees"] = loads(item["assignees"])
        groups.append(
            {
                "policy": {"id": row["sla_policy_id"], "name": row["name"]},
                "state": row["sla_state"],
                "count": row["n"],
                "items": first,
            }
        )
    return groups
