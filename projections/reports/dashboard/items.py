"""Widgets of the items: how many there are by state, status or priority; who has how many
open; how many were created and finished each week (from the `flat` and `item_changes`
views)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.views.definition import PRIORITIES, STATES
from projections.db import Tx
from projections.reports.dashboard.common import TablesOf, WidgetScope, scoped, shaped
from projections.reports.shape import names_in, period_of, weeks

ORDERS = {"state": STATES, "priority": PRIORITIES}
UNASSIGNED = "(unassigned)"


def _where(conditions: Sequence[str]) -> str:
    return " AND ".join(conditions) if conditions else "1 = 1"


def counts(tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope) -> dict[str, Any]:
    """The items by state, status or priority (states and priorities in their order, with
    those of none; statuses by name)."""
    by = widget["by"]
    found: dict[str, int] = {}
    where = scoped(scope, widget, "kind", "project_id")
    if where is not None:
        rows = tx.all(
            f"SELECT {by} AS label, COUNT(*) AS n FROM {tables('flat')['flat_items']}"
            f" WHERE {_where(where[0])} GROUP BY {by}",
            where[1],
        )
        found = {r["label"]: r["n"] for r in rows}
    labels = list(ORDERS[by]) if by in ORDERS else sorted(found, key=str.casefold)
    values = [found.get(label, 0) for label in labels]
    return shaped(widget, "bar", labels, {"items": values}, total=sum(values))


def workload(
    tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope
) -> dict[str, Any]:
    """Each assignee's open (not finished) items, one series per kind, most loaded first;
    the open items nobody is assigned are counted apart."""
    flat = tables("flat")
    where = scoped(scope, widget, "f.kind", "f.project_id")
    per: dict[str, dict[str, int]] = {}
    unassigned = 0
    if where is not None:
        open_items = f"f.state <> 'finished' AND {_where(where[0])}"
        for r in tx.all(
            f"SELECT a.user_id, f.kind, COUNT(*) AS n FROM {flat['flat_item_assignees']} a"
            f" JOIN {flat['flat_items']} f ON f.id = a.item_id WHERE {open_items}"
            " GROUP BY a.user_id, f.kind",
            where[1],
        ):
            per.setdefault(r["user_id"], {})[r["kind"]] = r["n"]
        row = tx.one(
            f"SELECT COUNT(*) AS n FROM {flat['flat_items']} f WHERE {open_items} AND NOT EXISTS"
            f" (SELECT 1 FROM {flat['flat_item_assignees']} a WHERE a.item_id = f.id)",
            where[1],
        )
        unassigned = row["n"] if row else 0
    names = names_in(tx, tables("users")["users_directory"], per)
    people = sorted(per, key=lambda u: (-sum(per[u].values()), names[u].casefold(), u))
    kinds = widget["kinds"]
    return shaped(
        widget,
        "horizontal_bar",
        [names[u] for u in people],
        {f"{kind}s": [per[u].get(kind, 0) for u in people] for kind in kinds},
        user_ids=people,
        unassigned=unassigned,
    )


def created_vs_finished(
    tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope
) -> dict[str, Any]:
    """How many items were created and how many finished in each of the last `weeks` weeks
    (a converted ticket counts as created once, when it was opened; reopening and
    finishing again counts again). Each counts in the project and kind it had then."""
    mondays = [m.isoformat() for m in weeks(scope.today, widget["weeks"])]
    tally = {kind: dict.fromkeys(mondays, 0) for kind in ("created", "finished")}
    where = scoped(scope, widget, "kind", "project_id")
    if where is not None:
        for r in tx.all(
            f"SELECT change, substr(occurred_at, 1, 10) AS day, COUNT(*) AS n"
            f" FROM {tables('item_changes')['item_changes']}"
            f" WHERE change IN ('created', 'finished') AND occurred_at >= ?"
            f" AND {_where(where[0])} GROUP BY change, substr(occurred_at, 1, 10)",
            [mondays[0], *where[1]],
        ):
            week = period_of(r["day"], "week")
            if week in tally[r["change"]]:
                tally[r["change"]][week] += r["n"]
    return shaped(
        widget,
        "bar",
        mondays,
        {kind: list(per.values()) for kind, per in tally.items()},
        totals={kind: sum(per.values()) for kind, per in tally.items()},
    )
