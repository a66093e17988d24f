"""Widgets of the work: time logged per person per week (the `timesheets` view), the tasks
past their planned finish, and a project's burn-down by agile points (the `gantt` view,
with the finishes and reopenings of `item_changes`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from projections.db import Tx
from projections.reports.dashboard.common import TablesOf, WidgetScope, scoped, shaped
from projections.reports.shape import distinct_names, weeks
from projections.timesheet_query import EntryFilter, ReportQuery, report

MAX_OVERDUE = 20  # the tasks listed (all are counted)
MAX_DAYS = 366  # a burn-down's longest span


def time_logged(
    tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope
) -> dict[str, Any]:
    """Hours logged per week by each person whose entries the caller sees (withdrawn
    entries never count), one series per person, by name."""
    mondays = weeks(scope.today, widget["weeks"])
    project = widget.get("project_id")
    query = ReportQuery(
        EntryFilter(scope.entries, project=project, since=mondays[0], until=scope.today),
        ("week", "user"),
    )
    labels = [m.isoformat() for m in mondays]
    if not scope.timesheets:
        return shaped(
            widget, "stacked_bar", labels, {}, user_ids=[], total_hours=0.0,
            switched_off="timesheets app",
        )  # fmt: skip
    groups = report(tx, tables("timesheets"), query, limit=len(mondays) * 10_000)["groups"]
    hours: dict[str, dict[str, float]] = {}
    names: dict[str, str] = {}
    for g in groups:
        hours.setdefault(g["user_id"], {})[g["week_start"]] = g["hours"]
        names[g["user_id"]] = g.get("user_name") or g["user_id"]
    people = sorted(hours, key=lambda u: (names[u].casefold(), u))
    shown = distinct_names([names[u] for u in people], people)
    return shaped(
        widget,
        "stacked_bar",
        labels,
        {
            name: [hours[u].get(week, 0.0) for week in labels]
            for name, u in zip(shown, people, strict=True)
        },
        user_ids=people,
        total_hours=round(sum(sum(h.values()) for h in hours.values()), 2),
    )


def overdue_tasks(
    tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope
) -> dict[str, Any]:
    """The unfinished tasks whose planned finish is before today: how many, and the
    `MAX_OVERDUE` most overdue with the calendar days they are late."""
    where = scoped(scope, {**widget, "kinds": ["task"]}, None, "project_id")
    rows: list[dict[str, Any]] = []
    count = 0
    if where is not None and "task" in scope.kinds:
        conditions = " AND ".join(["finish < ?", "state <> 'finished'", *where[0]])
        params = [scope.today.isoformat(), *where[1]]
        gantt = tables("gantt")["gantt_tasks"]
        found = tx.one(f"SELECT COUNT(*) AS n FROM {gantt} WHERE {conditions}", params)
        count = found["n"] if found else 0
        rows = tx.all(
            f"SELECT number, title, project_id, finish, status FROM {gantt}"
            f" WHERE {conditions} ORDER BY finish, number LIMIT ?",
            [*params, MAX_OVERDUE],
        )
    tasks = [
        {**r, "days_overdue": (scope.today - date.fromisoformat(r["finish"])).days} for r in rows
    ]
    return shaped(
        widget,
        "horizontal_bar",
        [f"#{t['number']} {t['title']}" for t in tasks],
        {"days overdue": [t["days_overdue"] for t in tasks]},
        count=count,
        tasks=tasks,
    )


def burn_down(
    tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope
) -> dict[str, Any]:
    """The project's points still open at the end of each day, from its first planned start
    to its last planned finish (or today, if later; at most a year, the one around today),
    beside the ideal line
    from every point open to none. A task counts by its points now; a finished task's
    points are burnt on the day it was finished, and come back if it is reopened."""
    where = scoped(scope, {**widget, "kinds": ["task"]}, None, "project_id")
    tasks: list[dict[str, Any]] = []
    gantt = tables("gantt")["gantt_tasks"]
    if where is not None and "task" in scope.kinds:
        tasks = tx.all(
            f"SELECT number, points, start, finish FROM {gantt} WHERE {' AND '.join(where[0])}",
            where[1],
        )
    points = {t["number"]: float(t["points"] or 0) for t in tasks}
    total = sum(points.values())
    starts = [t["start"] for t in tasks if t["start"]]
    finishes = [t["finish"] for t in tasks if t["finish"]]
    plan_start = date.fromisoformat(min(starts)) if starts else scope.today - timedelta(days=27)
    planned_end = date.fromisoformat(max(finishes)) if finishes else scope.today
    first, last = plan_start, max(planned_end, scope.today)
    if (last - first).days >= MAX_DAYS:  # The year up to today, or to the planned end.
        last = max(min(planned_end, scope.today + timedelta(days=MAX_DAYS // 2)), scope.today)
        first = max(first, last - timedelta(days=MAX_DAYS - 1))
    changes: list[dict[str, Any]] = []
    if tasks:
        changes = tx.all(
            f"SELECT number, change, substr(occurred_at, 1, 10) AS day"
            f" FROM {tables('item_changes')['item_changes']}"
            f" WHERE change IN ('finished', 'reopened') AND number IN"
            f" (SELECT number FROM {gantt} WHERE {' AND '.join(where[0] if where else [])})"
            " ORDER BY position",
            where[1] if where else [],
        )
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    finished: set[int] = set()
    remaining: list[float | None] = []
    at = 0
    for day in days:
        if day > scope.today:
            remaining.append(None)
            continue
        while at < len(changes) and changes[at]["day"] <= day.isoformat():
            change = changes[at]
            (finished.add if change["change"] == "finished" else finished.discard)(change["number"])
            at += 1
        remaining.append(round(total - sum(points.get(n, 0.0) for n in finished), 2))
    span = max(planned_end - plan_start, timedelta(days=1)).days
    ideal = [
        round(min(max(total * (1 - (d - plan_start).days / span), 0.0), total), 2) for d in days
    ]
    return shaped(
        widget,
        "line",
        [d.isoformat() for d in days],
        {"remaining": remaining, "ideal": ideal},
        total_points=round(total, 2),
    )
