"""Statuses in the views: the outbox policy that asks the workflow worker to move the items
of a renamed or retired status, and the flat view's answers to "which items are in this
status" (for that worker, and for a retirement's check that a replacement is needed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.workflow.statuses import Statuses
from projections.base import Tables
from projections.db import Tx
from projections.policy import Policy, Send


def configured(event: Any) -> list[Send]:
    if not event.moves:
        return []
    return [Send("workflow.move_items", {"item_type": event.item_type, "moves": event.moves})]


STATUS_POLICIES = (
    Policy("workflow.statuses_configured", frozenset({f"{Statuses.TOPIC}.Configured"}), configured),
)


def items_in(tx: Tx, t: Tables, item_type: str, statuses: Sequence[str]) -> list[int]:
    """The numbers of the items of `item_type` (the flat view's `t`) in any of `statuses`."""
    if not statuses:
        return []
    marks = ",".join("?" * len(statuses))
    rows = tx.all(
        f"SELECT number FROM {t['flat_items']} WHERE item_type = ? AND status IN ({marks})"
        " ORDER BY number",
        (item_type, *statuses),
    )
    return [row["number"] for row in rows]
