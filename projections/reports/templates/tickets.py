"""The tickets report: tickets created and finished per period, by customer, project,
priority, channel or item type (from `item_changes`, the log's changes).

A ticket counts as created when it was opened and as finished each time it reached a
finished state (reopened and finished again counts again), in the project it was in then.
Priority, channel and item type are the ticket's now (a ticket converted to a task since
counts under its task's); a project in two customers' folders counts for each."""

from __future__ import annotations

from typing import Any

from domain.views.report import TEMPLATE_GROUPS
from projections.db import Tx
from projections.reports.templates.common import (
    NONE,
    Report,
    ReportRequest,
    TablesOf,
    chart,
    in_projects,
    names,
    period_of,
    periods,
)

GROUPS = TEMPLATE_GROUPS["tickets"]
MEASURES = ("created", "finished")
_KEYS = {
    "customer": "pc.customer_id",
    "project": "c.project_id",
    "priority": "f.priority",
    "channel": "f.channel",
    "item_type": "f.item_type",
}


Counts = dict[tuple[str, str | None], dict[str, int]]
NAMED = ("customer", "project")  # groups shown by name beside their id


def _counts(tx: Tx, tables: TablesOf, request: ReportRequest, group: str | None) -> Counts:
    """Created and finished per (period, group) (group None: one per period)."""
    found: Counts = {}
    scoped = in_projects(request, "c.project_id")
    if scoped is None or "ticket" not in request.kinds:
        return found
    where, params = scoped
    timesheets, flat = tables("timesheets"), tables("flat")
    key = _KEYS[group] if group else "NULL"
    joins = f" LEFT JOIN {flat['flat_items']} f ON f.id = c.shown_as" if group else ""
    if group == "customer":
        joins += (
            f" LEFT JOIN {timesheets['timesheet_project_customers']} pc"
            " ON pc.project_id = c.project_id"
        )
    since, until = request.moments
    rows = tx.all(
        f"SELECT c.change AS change, substr(c.occurred_at, 1, 10) AS day, {key} AS grp,"
        f" COUNT(*) AS n FROM {tables('item_changes')['item_changes']} c{joins}"
        " WHERE c.change IN ('created', 'finished') AND c.kind = 'ticket'"
        f" AND c.occurred_at >= ? AND c.occurred_at < ?"
        f"{''.join(f' AND {w}' for w in where)}"
        f" GROUP BY c.change, substr(c.occurred_at, 1, 10){f', {key}' if group else ''}",
        [since, until, *params],
    )
    for r in rows:
        at = (period_of(r["day"], request.period), r["grp"])
        counts = found.setdefault(at, dict.fromkeys(MEASURES, 0))
        counts[r["change"]] += r["n"]
    return found


def tickets(tx: Tx, tables: TablesOf, request: ReportRequest) -> Report:
    group = request.group_by
    found = _counts(tx, tables, request, group)
    # A project in two customers' folders is in two groups, but one ticket for the totals.
    overall = _counts(tx, tables, request, None) if group == "customer" else found
    labels = _labels(tx, tables, group, [g for _, g in found])
    named = group in NAMED
    columns = ["period", *([group] if group else []), *([f"{group}_name"] if named else [])]
    columns += MEASURES
    ordered = sorted(found, key=lambda k: (k[0], labels.get(k[1] or "", NONE).casefold()))
    rows_out = []
    for period, grp in ordered:
        row: dict[str, Any] = {"period": period}
        if group:
            row[group] = grp
        if named:
            row[f"{group}_name"] = labels.get(grp or "", NONE) if grp else NONE
        rows_out.append({**row, **found[(period, grp)]})
    every = periods(request.since, request.until, request.period)
    sums = {m: dict.fromkeys(every, 0) for m in MEASURES}
    for (period, _), counts in overall.items():
        for m in MEASURES:
            sums[m][period] = sums[m].get(period, 0) + counts[m]
    totals = {m: sum(sums[m].values()) for m in MEASURES}
    drawn = chart(
        "bar", "Tickets created and finished", every, {m: list(sums[m].values()) for m in MEASURES}
    )
    return Report(columns, rows_out, totals, drawn)


def _labels(tx: Tx, tables: TablesOf, group: str | None, keys: list[str | None]) -> dict[str, str]:
    """How each group is shown: a project's or customer's name; other values as they are."""
    if group in ("project", "customer"):
        return names(tx, tables("timesheets"), group, keys)
    return {k: k for k in keys if k}
