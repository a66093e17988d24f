"""Gantt queries: a project's bars and links from the `gantt` view, the tasks a baseline
folds, and `chart`, what the Gantt shows: tasks in WBS order, dependencies, each task's slack
and the critical path, computed at read time (one changed date can move every task's slack).

The JSON answer reads `chart_rows` and `chart_document`: the offsets and JSON each bar
stored, one linear forward and backward pass, and each task's stored JSON finished with its
slack; `chart` (dicts, from `GanttBar`s) serves the SVG, baselines, tests and projects with a
calendar of their own (whose offsets it computes from the dates), through the same passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from operator import itemgetter, sub
from typing import Any
from uuid import UUID

from orjson import Fragment

from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.network import link_offset, passes
from projections.base import Tables, current_tables
from projections.db import Row, Tx, ViewDatabase
from projections.flat import current_projects
from projections.gantt import GanttBar, GanttLink, fold_plan, offsets_of, project_calendar


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


def chart_rows(
    tx: Tx, t: Tables, project_id: str, dated: bool = False
) -> tuple[list[Row], list[Row]]:
    """What a chart of the project reads, in the order it shows it: each task's stored
    offsets and JSON (parents followed by their subtasks), and the dependencies recorded on
    its tasks (by successor, then predecessor) in the very shape the chart shows them. With
    `dated`, each task's start and constraint too (a calendar of the project's own counts
    its offsets from them)."""
    tasks = t["gantt_tasks"]
    days = ", start, constraint_kind, constraint_on" if dated else ""
    rows = tx.all(
        "SELECT number, start_day, span_days, bound_kind, bound_day, chart_head, updated_at"
        f"{days} FROM {tasks} WHERE project_id = ?"
        " ORDER BY COALESCE(parent, number), parent IS NOT NULL, number",
        (project_id,),
    )
    links = tx.all(
        f"SELECT l.predecessor, l.successor, l.kind, l.lag_days FROM {t['gantt_links']} l"
        f" JOIN {tasks} b ON b.id = l.successor_id WHERE b.project_id = ?"
        " ORDER BY l.successor, l.predecessor",
        (project_id,),
    )
    return rows, links


_OFFSETS = itemgetter("number", "start_day", "span_days", "bound_kind", "bound_day")
_LINK = itemgetter("predecessor", "successor", "kind", "lag_days")


def chart_document(
    rows: list[Row], links: list[Row], calendar: WorkCalendar = STANDARD
) -> dict[str, Any]:
    """`chart` from `chart_rows`, its tasks JSON already (one `orjson.Fragment`): the
    stored head of each, then `critical`, `slack_days` and `updated_at`. Equal to `chart` once
    serialised; per task, a few integers and one string — and, by a calendar of the
    project's own, its offsets counted from its days (rows read `dated`)."""
    shown = {r["number"] for r in rows}
    kept = [k for k in links if k["predecessor"] in shown and k["successor"] in shown]
    if calendar.standard:
        offsets = list(map(_OFFSETS, rows))
    else:
        offsets = [
            (r["number"], *offsets_of(r["start"], r["span_days"], r["constraint_kind"],
                                      r["constraint_on"], calendar))
            for r in rows
        ]  # fmt: skip
    slack, critical, finish = _critical_path(offsets, list(map(_LINK, kept)), calendar)
    tasks = []
    for r, days in zip(rows, slack, strict=True):
        if days is None:
            middle = 'false,"slack_days":null'
        else:
            middle = f'{"true" if days <= 0 else "false"},"slack_days":{days}'
        tasks.append(f'{r["chart_head"]}{middle},"updated_at":"{r["updated_at"]}"}}')
    return {
        "tasks": Fragment(f"[{','.join(tasks)}]"),
        "dependencies": kept,
        "critical_path": critical,
        "finish": finish,
    }


def _wbs_order(bar: GanttBar) -> tuple[int, int, int]:
    """Each parent task, then its subtasks, by number (as `chart_rows` sorts them)."""
    return (bar.parent or bar.number, bar.parent is not None, bar.number)


def chart(
    bars: Iterable[GanttBar], links: Iterable[GanttLink], calendar: WorkCalendar = STANDARD
) -> dict[str, Any]:
    """What the Gantt shows: tasks (parents followed by their subtasks), the dependencies
    between them, each task's slack in working days of `calendar` (the project's), and the
    critical path (by scheduled start)."""
    shown = sorted(bars, key=_wbs_order)
    numbers = {bar.number for bar in shown}
    kept = sorted(
        (link for link in links if link.predecessor in numbers and link.successor in numbers),
        key=lambda link: (link.successor, link.predecessor),
    )
    slack, critical, finish = _critical_path(
        [(bar.number, *bar.offsets(calendar)) for bar in shown],
        [(k.predecessor, k.successor, k.kind, k.lag_days) for k in kept],
        calendar,
    )
    tasks = []
    for bar, days in zip(shown, slack, strict=True):
        critical_bar = days is not None and days <= 0
        tasks.append(
            {
                **bar.chart_fields(),
                "critical": critical_bar,
                "slack_days": days,
                "updated_at": bar.updated_at,
            }
        )
    return {
        "tasks": tasks,
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
        "finish": finish,
    }


def _critical_path(
    tasks: list[tuple[int, int | None, int, int, int]],
    links: list[tuple[int, int, str, int]],
    calendar: WorkCalendar = STANDARD,
) -> tuple[list[int | None], list[int], str | None]:
    """Each task's slack (None if undated), the critical tasks by scheduled start (then
    finish, then number) and the plan's finish, from tasks as (number, start, span, bound,
    bound day) in working days and links as (predecessor, successor, kind, lag): one
    forward and one backward pass (`domain.planning.network.passes`); undated tasks and
    their links are left out."""
    slack: list[int | None] = [None] * len(tasks)
    shown = [k for k, task in enumerate(tasks) if task[1] is not None]
    if not shown:
        return slack, [], None
    dated = [tasks[k] for k in shown]
    numbers, starts, spans, bounds, days = (list(column) for column in zip(*dated, strict=True))
    at = dict(zip(numbers, range(len(numbers)), strict=True))
    network = []
    for before, after, kind, lag in links:
        i, j = at.get(before), at.get(after)
        if i is not None and j is not None:
            network.append((i, j, link_offset(kind, lag, spans[i], spans[j])))
    done = passes(numbers, starts, spans, bounds, days, network)
    assert done.end is not None  # there are dated tasks
    start, late = done.start, done.late
    for k, days_left in zip(shown, map(sub, late, start), strict=True):
        slack[k] = days_left
    critical = sorted(
        (i for i in range(len(numbers)) if late[i] <= start[i]),
        key=lambda i: (start[i], spans[i], numbers[i]),
    )
    return slack, [numbers[i] for i in critical], calendar.at(done.end).isoformat()


# Events of one aggregate, in order, up to a moment (the write side's `stream`).
Stream = Callable[..., Iterable[Any]]


def project_chart(
    views: ViewDatabase,
    project_id: str,
    sees: Callable[[str], bool],
    as_of: datetime | None,
    stream: Stream,
    *,
    serialised: bool = False,
) -> dict[str, Any]:
    """The project's chart now, from the view; or as of a moment, folded from the events of
    every task ever placed in it (one moved away since was still here then) up to that moment.
    As every as-of read, it is scoped by where each task is now: one moved since into a
    project the caller cannot see (`sees`) stays out of their baseline. With `serialised`,
    the chart now comes from the stored JSON (`chart_document`): the same once serialised,
    for a JSON answer. A project with its own calendar has its offsets computed from the
    dates (a baseline too, by the calendar it has now)."""
    with views.read() as tx:
        t = current_tables(tx, "gantt")
        calendar = project_calendar(tx, t, project_id)
        if as_of is None and serialised:
            rows, kept = chart_rows(tx, t, project_id, dated=not calendar.standard)
            document = chart_document(rows, kept, calendar)
            return {"project_id": project_id, "as_of": None, **document}
        if as_of is None:
            bars, links = project_rows(tx, t, project_id)
            return {"project_id": project_id, "as_of": None, **chart(bars, links, calendar)}
        placed = placed_task_ids(tx, t, project_id)
        now_in = current_projects(tx, current_tables(tx, "flat"), placed)
    ids = [i for i in placed if i in now_in and sees(now_in[i])]
    streams = (stream(UUID(task_id), until=as_of) for task_id in ids)
    plan = fold_plan(event for events in streams for event in events)
    bars, links = plan.in_project(project_id)
    return {"project_id": project_id, "as_of": as_of, **chart(bars, links, calendar)}
