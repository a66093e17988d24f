"""A project as a Microsoft Project plan: the mapping of the import, the other way round.

Folders become summary tasks (their subfolders and tasks below them), a parent task a
summary task with its subtasks below it, each task keeps its item number as its UID, its
dates (a working day runs 08:00 to 17:00), duration, work, percent complete, milestone,
constraint and links (lags in working days), and its assignees are the plan's resources.
The calendar is the project's: its working weekdays, each holiday a non-working exception and
each extra working day a working one (runs of days in one exception). A folder that holds
only plain tasks comes back from an import of the file as a parent task (an outline cannot
tell them apart).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from domain.msproject.plan import (
    MINUTES_PER_DAY,
    CalendarException,
    FileAssignment,
    FileCalendar,
    FileLink,
    FilePlan,
    FileResource,
    FileTask,
)
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind

DAY_STARTS, DAY_ENDS = time(8), time(17)
START_KINDS = {
    ConstraintKind.MUST_START_ON,
    ConstraintKind.START_NO_EARLIER_THAN,
    ConstraintKind.START_NO_LATER_THAN,
}


@dataclass(frozen=True)
class ExportFolder:
    id: str
    name: str
    parent_id: str | None


@dataclass(frozen=True)
class ExportTask:
    number: int
    title: str
    folder_id: str | None
    parent: int | None
    start: date | None
    finish: date | None
    duration_days: int | None
    milestone: bool
    percent_complete: int
    work_hours: float | None
    constraint: ConstraintKind
    constraint_on: date | None
    actual_start: date | None
    actual_finish: date | None
    assignees: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class ExportLink:
    predecessor: int
    successor: int
    kind: LinkKind
    lag_days: int


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str


def project_plan(
    name: str,
    folders: Sequence[ExportFolder],
    tasks: Sequence[ExportTask],
    links: Iterable[ExportLink],
    people: Sequence[Person],
    calendar: WorkCalendar = STANDARD,
) -> FilePlan:
    """The project as a plan file holds it, with `calendar` (the project's)."""
    known = {f.id for f in folders}
    subfolders: dict[str | None, list[ExportFolder]] = defaultdict(list)
    for folder in sorted(folders, key=lambda f: (f.name.lower(), f.id)):
        subfolders[folder.parent_id if folder.parent_id in known else None].append(folder)
    numbers = {t.number for t in tasks}
    in_folder: dict[str | None, list[ExportTask]] = defaultdict(list)
    below: dict[int, list[ExportTask]] = defaultdict(list)
    for task in sorted(tasks, key=lambda t: t.number):
        if task.parent is not None and task.parent in numbers:
            below[task.parent].append(task)
        else:
            in_folder[task.folder_id if task.folder_id in known else None].append(task)
    predecessors: dict[int, list[FileLink]] = defaultdict(list)
    for link in links:
        if link.predecessor in numbers and link.successor in numbers:
            predecessors[link.successor].append(
                FileLink(link.predecessor, link.kind, float(link.lag_days * MINUTES_PER_DAY))
            )
    outline = _Outline(max(numbers, default=0), predecessors, below)
    outline.folder(None, subfolders, in_folder, level=1, prefix="")
    index = {p.id: n for n, p in enumerate(people, start=1)}
    return FilePlan(
        name=name,
        start=min((t.start for t in outline.tasks if t.start), default=None),
        calendar_uid=1,
        calendars=(file_calendar(calendar),),
        tasks=tuple(outline.tasks),
        resources=tuple(FileResource(index[p.id], p.name, p.email) for p in people),
        assignments=tuple(
            FileAssignment(t.number, index[a])
            for t in sorted(tasks, key=lambda t: t.number)
            for a in t.assignees
            if a in index
        ),
    )


def file_calendar(calendar: WorkCalendar) -> FileCalendar:
    """The project's calendar as the plan's base calendar: consecutive days off (or worked)
    are one exception."""
    exceptions = [
        CalendarException(first, last, working)
        for days, working in ((calendar.holidays, False), (calendar.extra_days, True))
        for first, last in _runs(days)
    ]
    return FileCalendar(
        uid=1,
        name="Standard",
        working_weekdays=calendar.weekdays,
        exceptions=tuple(sorted(exceptions, key=lambda e: e.starts)),
    )


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


class _Outline:
    """Walks folders and tasks depth first, numbering the outline as it goes."""

    def __init__(
        self,
        last_number: int,
        predecessors: dict[int, list[FileLink]],
        below: dict[int, list[ExportTask]],
    ) -> None:
        self.next_uid = last_number + 1  # Folders' UIDs come after every item number.
        self.predecessors = predecessors
        self.below = below
        self.tasks: list[FileTask] = []

    def folder(
        self,
        folder_id: str | None,
        subfolders: dict[str | None, list[ExportFolder]],
        in_folder: dict[str | None, list[ExportTask]],
        level: int,
        prefix: str,
    ) -> None:
        position = 0
        for sub in subfolders.get(folder_id, []):
            position += 1
            number = f"{prefix}{position}"
            uid, self.next_uid = self.next_uid, self.next_uid + 1
            self.tasks.append(
                FileTask(
                    uid=uid, id=len(self.tasks) + 1, name=sub.name, outline_level=level,
                    summary=True, outline_number=number,
                )
            )  # fmt: skip
            self.folder(sub.id, subfolders, in_folder, level + 1, f"{number}.")
        for task in in_folder.get(folder_id, []):
            position += 1
            number = f"{prefix}{position}"
            children = self.below.get(task.number, [])
            self.tasks.append(self.task(task, level, number, summary=bool(children)))
            for n, child in enumerate(children, start=1):
                self.tasks.append(self.task(child, level + 1, f"{number}.{n}", summary=False))

    def task(self, task: ExportTask, level: int, number: str, summary: bool) -> FileTask:
        start = datetime.combine(task.start, DAY_STARTS) if task.start else None
        finish = None
        if task.finish:
            finish = datetime.combine(task.finish, DAY_STARTS if task.milestone else DAY_ENDS)
        on = task.constraint_on
        constraint_date = None
        if on is not None:
            constraint_date = datetime.combine(
                on, DAY_STARTS if task.constraint in START_KINDS else DAY_ENDS
            )
        days = 0 if task.milestone else task.duration_days
        return FileTask(
            uid=task.number,
            id=len(self.tasks) + 1,
            name=task.title,
            outline_level=level,
            outline_number=number,
            summary=summary,
            milestone=task.milestone,
            notes=task.description,
            start=start,
            finish=finish,
            duration_minutes=days * MINUTES_PER_DAY if days is not None else None,
            work_minutes=round(task.work_hours * 60) if task.work_hours is not None else None,
            percent_complete=task.percent_complete,
            actual_start=datetime.combine(task.actual_start, DAY_STARTS)
            if task.actual_start
            else None,
            actual_finish=datetime.combine(task.actual_finish, DAY_ENDS)
            if task.actual_finish
            else None,
            constraint=task.constraint,
            constraint_date=constraint_date,
            predecessors=tuple(self.predecessors.get(task.number, ())),
        )
