"""Gantt queries: a project's bars and links from the `gantt` view, the tasks a baseline
folds, and `chart`, what the Gantt shows: tasks in WBS order, dependencies, each task's slack
and the critical path, computed at read time (one changed date can move every task's slack).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from domain.planning.constraints import Constraint
from domain.planning.links import Link, LinkKind
from domain.planning.schedule import TaskPlan, critical_path
from projections.base import Tables, current_tables
from projections.db import Tx, ViewDatabase
from projections.flat import current_projects
from projections.gantt import GanttBar, GanttLink, fold_plan


def project_rows(tx: Tx, t: Tables, project_id: str) -> tuple[list[GanttBar], list[GanttLink]]:
    """The bars of a project's tasks and the dependencies recorded on them."""
    bars = tx.all(f"SELECT * FROM {t['gantt_tasks']} WHERE project_id = ?", (project_id,))
    links = tx.all(
        f"SELECT l.predecessor, l.successor, l.kind, l.lag_days FROM {t['gantt_links']} l"
        f" JOIN {t['gantt_tasks']} b ON b.id = l.successor_id WHERE b.project_id = ?",
        (project_id,),
    )
    return [GanttBar.from_row(r) for r in bars], [GanttLink.from_row(r) for r in links]


def placed_task_ids(tx: Tx, t: Tables, project_id: str) -> list[str]:
    """Every task that has ever been in the project (a baseline folds their streams)."""
    rows = tx.all(
        f"SELECT task_id FROM {t['gantt_placements']} WHERE project_id = ? ORDER BY task_id",
        (project_id,),
    )
    return [r["task_id"] for r in rows]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _span(start: str | None, finish: str | None) -> dict[str, str | None]:
    return {"start": start, "finish": finish}


@lru_cache(maxsize=1024)
def _constraint(kind: str, on: str | None) -> Constraint:
    # Most tasks share a handful of constraints: parse each once, not once per task per read.
    return Constraint.parse(kind, _day(on))


def _plan_of(bar: GanttBar) -> TaskPlan:
    return TaskPlan(
        number=bar.number,
        start=_day(bar.start),
        duration_days=bar.duration_days or 0,
        constraint=_constraint(bar.constraint_kind, bar.constraint_on),
        milestone=bar.milestone,
    )


def _wbs_order(bar: GanttBar) -> tuple[int, int, int]:
    """Each parent task, then its subtasks, by number."""
    return (bar.parent or bar.number, bar.parent is not None, bar.number)


def chart(bars: Iterable[GanttBar], links: Iterable[GanttLink]) -> dict[str, Any]:
    """What the Gantt shows: tasks (parents followed by their subtasks), the dependencies
    between them, each task's slack, and the critical path (by scheduled start)."""
    shown = sorted(bars, key=_wbs_order)
    numbers = {bar.number for bar in shown}
    kept = sorted(
        (link for link in links if link.predecessor in numbers and link.successor in numbers),
        key=lambda link: (link.successor, link.predecessor),
    )
    path = critical_path(
        {bar.number: _plan_of(bar) for bar in shown},
        [Link(k.predecessor, k.successor, LinkKind(k.kind), k.lag_days) for k in kept],
    )
    critical = sorted(
        path.critical, key=lambda n: (path.schedule[n].start, path.schedule[n].finish, n)
    )
    return {
        "tasks": [
            {
                "number": bar.number,
                "parent": bar.parent,
                "title": bar.title,
                "status": bar.status,
                "state": bar.state,
                "planned": _span(bar.start, bar.finish),
                "duration_days": bar.duration_days,
                "actual": _span(bar.actual_start, bar.actual_finish),
                "milestone": bar.milestone,
                "percent_complete": bar.percent_complete,
                "points": bar.points,
                "work_hours": bar.work_hours,
                "constraint": {"kind": bar.constraint_kind, "on": bar.constraint_on},
                "assignees": bar.assignees,
                "converted_from_ticket": bar.converted_from,
                "critical": bar.number in path.critical,
                "slack_days": path.slack.get(bar.number),
                "updated_at": bar.updated_at,
            }
            for bar in shown
        ],
        "dependencies": [
            {
                "predecessor": k.predecessor,
                "successor": k.successor,
                "kind": k.kind,
                "lag_days": k.lag_days,
            }
            for k in kept
        ],
        "critical_path": critical,
        "finish": path.finish.isoformat() if path.finish else None,
    }


# Events of one aggregate, in order, up to a moment (the write side's `stream`).
Stream = Callable[..., Iterable[Any]]


def project_chart(
    views: ViewDatabase,
    project_id: str,
    sees: Callable[[str], bool],
    as_of: datetime | None,
    stream: Stream,
) -> dict[str, Any]:
    """The project's chart now, from the view; or as of a moment, folded from the events of
    every task ever placed in it (one moved away since was still here then) up to that moment.
    As every as-of read, it is scoped by where each task is now: one moved since into a
    project the caller cannot see (`sees`) stays out of their baseline."""
    with views.read() as tx:
        t = current_tables(tx, "gantt")
        if as_of is None:
            bars, links = project_rows(tx, t, project_id)
            return {"project_id": project_id, "as_of": None, **chart(bars, links)}
        placed = placed_task_ids(tx, t, project_id)
        now_in = current_projects(tx, current_tables(tx, "flat"), placed)
    ids = [i for i in placed if i in now_in and sees(now_in[i])]
    streams = (stream(UUID(task_id), until=as_of) for task_id in ids)
    plan = fold_plan(event for events in streams for event in events)
    bars, links = plan.in_project(project_id)
    return {"project_id": project_id, "as_of": as_of, **chart(bars, links)}
