"""The user activity report: what each person did, per period, from the log — the items
they created, changed, moved, finished, reopened and converted (from `item_changes`, each
change of an item's tracked fields by a staff user) and the hours they logged (from the
`timesheets` view; withdrawn entries never count; none while the timesheets app is off).

A change counts in the project the item was in then; the caller sees the changes to the
items of their projects, and the time entries they may see (their own, those of the
projects they lead; everybody's for admins)."""

from __future__ import annotations

from typing import Any

from domain.changes import CHANGE_KINDS
from domain.views.report import TEMPLATE_GROUPS
from projections.db import Tx
from projections.reports.shape import distinct_names
from projections.reports.templates.common import (
    Report,
    ReportRequest,
    TablesOf,
    chart,
    in_projects,
    names,
    period_of,
)
from projections.timesheet_query import EntryFilter

GROUPS = TEMPLATE_GROUPS["user-activity"]
MEASURES = (*CHANGE_KINDS, "hours_logged")
USER = "user:"


def user_activity(tx: Tx, tables: TablesOf, request: ReportRequest) -> Report:
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(period: str, user: str) -> dict[str, Any]:
        return found.setdefault((period, user), {m: 0 for m in MEASURES})

    scoped = in_projects(request, "project_id")
    kinds = sorted(request.kinds)
    if scoped is not None and kinds:
        where, params = scoped
        since, until = request.moments
        for r in tx.all(
            "SELECT actor, change, substr(occurred_at, 1, 10) AS day, COUNT(*) AS n"
            f" FROM {tables('item_changes')['item_changes']}"
            f" WHERE occurred_at >= ? AND occurred_at < ? AND actor LIKE 'user:%'"
            f" AND kind IN ({','.join('?' * len(kinds))})"
            f"{''.join(f' AND {w}' for w in where)}"
            " GROUP BY actor, change, substr(occurred_at, 1, 10)",
            [since, until, *kinds, *params],
        ):
            cell(period_of(r["day"], request.period), r["actor"][len(USER) :])[r["change"]] += r[
                "n"
            ]
    timesheets = tables("timesheets")
    logged: dict[tuple[str, str], int] = {}
    if request.timesheets and request.projects != frozenset():
        entries = EntryFilter(
            request.entries, project=request.project, since=request.since, until=request.until
        )
        conditions, values = entries.where(timesheets)
        for r in tx.all(
            f"SELECT e.user_id, e.work_date, SUM(e.minutes) AS minutes"
            f" FROM {timesheets['timesheet_entries']} e WHERE {' AND '.join(conditions)}"
            " AND e.state <> 'withdrawn' GROUP BY e.user_id, e.work_date",
            values,
        ):
            at = (period_of(r["work_date"], request.period), r["user_id"])
            cell(*at)
            logged[at] = logged.get(at, 0) + int(r["minutes"])
    for at, minutes in logged.items():  # Hours rounded once, from the minutes.
        found[at]["hours_logged"] = round(minutes / 60, 2)
    measures = [m for m in MEASURES if request.timesheets or m != "hours_logged"]
    labels = names(tx, timesheets, "user", [user for _, user in found])
    rows = [
        {
            "period": period,
            "user_id": user,
            "user_name": labels.get(user, user),
            **{m: found[(period, user)][m] for m in measures},
        }
        for period, user in sorted(found, key=lambda k: (k[0], labels.get(k[1], k[1]).casefold()))
    ]
    per_user: dict[str, dict[str, Any]] = {}
    for row in rows:
        into = per_user.setdefault(row["user_id"], {m: 0 for m in measures})
        for m in measures:
            into[m] += row[m]
    totals = {m: sum(r[m] for r in rows) for m in measures if m != "hours_logged"}
    if request.timesheets:
        totals["hours_logged"] = round(sum(logged.values()) / 60, 2)
    people: list[str] = sorted(per_user, key=lambda u: (labels.get(u) or u).casefold())
    drawn = chart(
        "stacked_bar",
        "What each person did",
        distinct_names([labels.get(u, u) for u in people], people),
        {m: [per_user[p][m] for p in people] for m in CHANGE_KINDS},
    )
    return Report(["period", "user_id", "user_name", *measures], rows, totals, drawn)
