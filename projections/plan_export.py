"""What exporting a project as a plan reads: its folders (the hierarchy view), its tasks,
links and calendar (the Gantt view), their descriptions (the flat view) and the people
assigned to them (the users directory)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.planning.calendar import WorkCalendar
from projections.base import current_tables
from projections.db import Tx
from projections.gantt import GanttBar, GanttLink, project_calendar
from projections.gantt_query import project_rows


@dataclass(frozen=True)
class PlanRows:
    folders: list[dict[str, Any]]  # id, name, parent_id
    bars: list[GanttBar]
    links: list[GanttLink]
    people: list[dict[str, Any]]  # id, name, email: everyone assigned to a task
    notes: dict[int, str]  # each task's description, by number (the flat view)
    calendar: WorkCalendar


def plan_rows(tx: Tx, project_id: str) -> PlanRows:
    folders = tx.all(
        f"SELECT id, name, parent_id FROM {current_tables(tx, 'hierarchy')['hierarchy_folders']}"
        " WHERE project_id = ? ORDER BY id",
        (project_id,),
    )
    gantt = current_tables(tx, "gantt")
    bars, links = project_rows(tx, gantt, project_id)
    ids = sorted({a for bar in bars for a in bar.assignees})
    people: list[dict[str, Any]] = []
    if ids:
        users = current_tables(tx, "users")["users_directory"]
        marks = ",".join("?" * len(ids))
        people = tx.all(
            f"SELECT id, name, email FROM {users} WHERE id IN ({marks}) ORDER BY email",
            tuple(ids),
        )
    flat = current_tables(tx, "flat")["flat_items"]
    notes = {
        row["number"]: row["description"]
        for row in tx.all(
            f"SELECT number, description FROM {flat} WHERE project_id = ? AND kind = 'task'",
            (project_id,),
        )
    }
    return PlanRows(folders, bars, links, people, notes, project_calendar(tx, gantt, project_id))
