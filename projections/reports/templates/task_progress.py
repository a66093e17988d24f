"""The task progress report: each task whose planned or actual dates touch the range, its
progress and its schedule variance — planned against actual (from the `gantt` view) — or,
grouped by project, each project's totals.

A variance is in calendar days, late positive: the actual start less the planned start,
and the actual finish less the planned finish; a task not finished whose planned finish
has passed is late by the days since (as of today), one not yet due has no finish variance.
The period does not apply (a task is one row)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.views.report import TEMPLATE_GROUPS
from projections.db import Tx
from projections.reports.templates.common import (
    Report,
    ReportRequest,
    TablesOf,
    chart,
    in_projects,
    names,
)

GROUPS = TEMPLATE_GROUPS["task-progress"]
TASK_COLUMNS = [
    "number", "title", "project_id", "project_name", "status", "state", "percent_complete",
    "points",
    "planned_start", "planned_finish", "actual_start", "actual_finish",
    "start_variance_days", "finish_variance_days",
]  # fmt: skip
PROJECT_COLUMNS = [
    "project_id", "project_name", "tasks", "finished", "late", "mean_percent_complete",
    "mean_finish_variance_days",
]  # fmt: skip
MAX_BARS = 30


def _days(later: str | None, earlier: str | None) -> int | None:
    if later is None or earlier is None:
        return None
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def _task(row: dict[str, Any], today: date) -> dict[str, Any]:
    finish = _days(row["actual_finish"], row["finish"])
    if finish is None and row["state"] != "finished" and row["finish"]:
        overdue = (today - date.fromisoformat(row["finish"])).days
        finish = overdue if overdue > 0 else None
    return {
        "number": row["number"],
        "title": row["title"],
        "project_id": row["project_id"],
        "status": row["status"],
        "state": row["state"],
        "percent_complete": row["percent_complete"],
        "points": row["points"],
        "planned_start": row["start"],
        "planned_finish": row["finish"],
        "actual_start": row["actual_start"],
        "actual_finish": row["actual_finish"],
        "start_variance_days": _days(row["actual_start"], row["start"]),
        "finish_variance_days": finish,
    }


def task_progress(tx: Tx, tables: TablesOf, request: ReportRequest) -> Report:
    scoped = in_projects(request, "project_id")
    tasks: list[dict[str, Any]] = []
    if scoped is not None and "task" in request.kinds:
        where, params = scoped
        first, last = request.since.isoformat(), request.until.isoformat()
        rows = tx.all(
            "SELECT number, title, project_id, status, state, percent_complete, points, start,"
            f" finish, actual_start, actual_finish FROM {tables('gantt')['gantt_tasks']}"
            " WHERE ((start IS NOT NULL AND start <= ? AND finish >= ?)"
            " OR (actual_start IS NOT NULL AND actual_start <= ?"
            " AND COALESCE(actual_finish, actual_start) >= ?))"
            f"{''.join(f' AND {w}' for w in where)} ORDER BY number",
            [last, first, last, first, *params],
        )
        tasks = [_task(r, request.today) for r in rows]
    labels = names(tx, tables("timesheets"), "project", [t["project_id"] for t in tasks])
    for task in tasks:
        task["project_name"] = labels.get(task["project_id"], task["project_id"])
    late = [t for t in tasks if (t["finish_variance_days"] or 0) > 0]
    totals = {
        "tasks": len(tasks),
        "finished": sum(1 for t in tasks if t["state"] == "finished"),
        "late": len(late),
    }
    if request.group_by == "project":
        rows_out = _per_project(tasks)
        drawn = chart(
            "horizontal_bar",
            "Late tasks per project",
            [r["project_name"] for r in rows_out],
            {"late": [r["late"] for r in rows_out], "finished": [r["finished"] for r in rows_out]},
        )
        return Report(PROJECT_COLUMNS, rows_out, totals, drawn)
    worst = sorted(late, key=lambda t: (-t["finish_variance_days"], t["number"]))[:MAX_BARS]
    drawn = chart(
        "horizontal_bar",
        "Days late (the latest tasks)",
        [f"#{t['number']} {t['title']}" for t in worst],
        {"days late": [t["finish_variance_days"] for t in worst]},
    )
    return Report(TASK_COLUMNS, tasks, totals, drawn)


def _per_project(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        grouped.setdefault(task["project_id"], []).append(task)
    rows = []
    for project, its in grouped.items():
        variances = [
            t["finish_variance_days"] for t in its if t["finish_variance_days"] is not None
        ]
        rows.append(
            {
                "project_id": project,
                "project_name": its[0]["project_name"],
                "tasks": len(its),
                "finished": sum(1 for t in its if t["state"] == "finished"),
                "late": sum(1 for t in its if (t["finish_variance_days"] or 0) > 0),
                "mean_percent_complete": round(
                    sum(t["percent_complete"] for t in its) / len(its), 1
                ),
                "mean_finish_variance_days": round(sum(variances) / len(variances), 1)
                if variances
                else None,
            }
        )
    return sorted(rows, key=lambda r: (r["project_name"].casefold(), r["project_id"]))
