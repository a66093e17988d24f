"""How a Microsoft Project plan maps onto a project here: which summary tasks become folders
and which parent tasks, which dates, links, lags and constraints each task keeps, and what
cannot be represented (each a warning, never dropped in silence).

- **The outline.** A project has folders (which nest), tasks, and one level of subtasks.
  A summary task with only plain tasks below it becomes a **parent task** with those as its
  subtasks; a summary task with a summary task below it becomes a **folder**, and the plain
  tasks right below it are tasks in that folder. A summary task with nothing below it is an
  (empty) folder. The project summary task (outline level 0) is the project itself.
- **The calendar.** The project calendar's working weekdays and its exceptions become the
  project's calendar (`domain.planning.calendar.WorkCalendar`): a non-working exception on a
  working weekday is a holiday, a working exception on another weekday an extra working day;
  working hours are not kept (plans here are in whole days).
- **Dates** are the file's days: a start on a day off moves to the working day after, a
  finish on one to the working day before, and a finish at midnight ends the day before.
  The duration is the working days from start to finish, by the calendar; a milestone
  lasts none. Nothing is rescheduled: the scheduler moves nothing until
  someone changes something.
- **Links** keep their kind; a lag becomes whole working days: working time by the file's
  minutes per day, elapsed time by calendar days (the calendar's working days a week), a percent by
  the predecessor's duration (`domain.msproject.links`). A link that is not whole days,
  names a task not in the file, or touches a summary task that became a folder is a
  warning; links that go round in a cycle make the plan refused.
- **Constraints** keep their kind and day.
- **Recurring tasks** with a pattern that maps to a rule (only MPP files hold one) become a
  series (`domain.msproject.series`); others keep their occurrences as subtasks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta

from domain.msproject.calendars import plan_calendar
from domain.msproject.links import PlannedLink, plan_links
from domain.msproject.plan import FilePlan, FileRecurrence, FileTask
from domain.msproject.series import Series, series_of
from domain.msproject.warnings import PlanWarning, warn
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import Constraint, ConstraintKind

MAX_TITLE = 500
MAX_FOLDER_NAME = 200
MAX_NOTES = 200_000


@dataclass(frozen=True, slots=True)
class PlannedFolder:
    uid: int  # the summary task's UID
    name: str
    parent_uid: int | None  # its folder's UID (None: the project's top level)
    guid: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedTask:
    uid: int
    title: str
    description: str
    folder_uid: int | None
    parent_uid: int | None  # the parent task's UID (a subtask)
    start: date | None
    finish: date | None
    milestone: bool
    work_hours: float | None
    percent_complete: int
    actual_start: date | None
    actual_finish: date | None
    constraint: Constraint
    recurrence: FileRecurrence | None = None  # the template of a series: its rule
    guid: str | None = None
    series_uid: int | None = None  # an occurrence of the series this template (UID) makes
    folds: tuple[int, str | None] | None = None  # a template: its first occurrence's UID, GUID


@dataclass
class MappedPlan:
    name: str
    folders: list[PlannedFolder] = field(default_factory=list)
    tasks: list[PlannedTask] = field(default_factory=list)  # parents before their subtasks
    links: list[PlannedLink] = field(default_factory=list)
    assignments: dict[int, list[int]] = field(default_factory=dict)  # task UID: resource UIDs
    warnings: list[PlanWarning] = field(default_factory=list)
    calendar: WorkCalendar = STANDARD


def map_plan(plan: FilePlan, counted_by: WorkCalendar | None = None) -> MappedPlan:
    """The plan as folders, tasks, subtasks and links here, with a warning for each thing
    that cannot be kept as the file has it. Its days count by its own calendar (which
    `calendar` holds), or by `counted_by` — the calendar of a project that keeps its own."""
    mapped = MappedPlan(name=plan_name(plan))
    mapped.calendar = plan_calendar(plan, mapped.warnings)
    days = counted_by or mapped.calendar
    tasks = _rows(plan, mapped.warnings)
    kinds = _outline(tasks)
    series = series_of(tasks, kinds)
    firsts = {found.first.uid: uid for uid, found in series.items()}  # the template's own day
    by_uid = {t.uid: t for t in tasks}
    for task in tasks:
        kind, container = kinds[task.uid]
        if task.uid in firsts:
            continue
        if kind == "subtask" and container in series:
            continue  # (With its template, by day.)
        if task.uid in series:
            for member in (task, *(by_uid[uid] for uid in series[task.uid].occurrences)):
                mapped.tasks.append(_in_series(member, series, kinds, plan, days, mapped))
            continue
        if kind == "folder":
            title = _title(task, mapped)
            if len(title) > MAX_FOLDER_NAME:
                title = title[:MAX_FOLDER_NAME]
                mapped.warnings.append(
                    warn(task, f"its name is cut to {MAX_FOLDER_NAME} characters")
                )
            mapped.folders.append(PlannedFolder(task.uid, title, container, task.guid))
            mapped.warnings += _folder_losses(task, plan)
            continue
        parent = container if kind == "subtask" else None
        folder = _folder_of(container, kinds) if kind == "subtask" else container
        mapped.tasks.append(_task(task, folder, parent, plan.minutes_per_day, days, mapped))
    links = plan_links(
        tasks, by_uid, kinds, plan.minutes_per_day, len(days.weekdays), mapped.warnings
    )
    mapped.links = _off_first_occurrences(links, firsts, by_uid, mapped.warnings)
    kept = {t.uid for t in mapped.tasks}
    for assignment in plan.assignments:
        uid = firsts.get(assignment.task_uid, assignment.task_uid)
        people = mapped.assignments.setdefault(uid, []) if uid in kept else []
        if uid in kept and assignment.resource_uid not in people:
            people.append(assignment.resource_uid)
    return mapped


def _in_series(
    task: FileTask, series: dict[int, Series], kinds: dict[int, tuple[str, int | None]],
    plan: FilePlan, days: WorkCalendar, mapped: MappedPlan,
) -> PlannedTask:  # fmt: skip
    """A series' template (`task` a recurring summary) or one of its later occurrences."""
    container = kinds[task.uid][1]
    if task.uid in series:
        planned = _task(series[task.uid].template, container, None, plan.minutes_per_day,
                        days, mapped)  # fmt: skip
        found = series[task.uid]
        return replace(planned, recurrence=found.pattern, folds=(found.first.uid, found.first.guid))
    folder = _folder_of(container, kinds)
    planned = _task(task, folder, None, plan.minutes_per_day, days, mapped)
    return replace(planned, series_uid=container)


def _off_first_occurrences(
    links: list[PlannedLink], firsts: dict[int, int], by_uid: dict[int, FileTask],
    warnings: list[PlanWarning],
) -> list[PlannedLink]:  # fmt: skip
    """A series' first occurrence is its template: a link to or from it is not kept (on the
    template it could close a cycle the file does not have)."""
    kept = []
    for link in links:
        first = next((u for u in (link.predecessor_uid, link.successor_uid) if u in firsts), None)
        if first is None:
            kept.append(link)
            continue
        other = by_uid[link.predecessor_uid]
        warnings.append(warn(by_uid[link.successor_uid], (
            f"its link from {other.name!r} is not kept: it joins the first occurrence of a"
            " recurring task, which is the series' template here"
        )))  # fmt: skip
    return kept


def _rows(plan: FilePlan, warnings: list[PlanWarning]) -> list[FileTask]:
    """The plan's tasks to map: not the project summary task (UID 0), nor blank rows; a
    task below the top level (outline level 0 but not UID 0) is taken at the top, with a
    warning."""
    rows = []
    for task in plan.tasks:
        if task.null or (task.uid == 0 and task.outline_level <= 0):
            continue
        if task.outline_level <= 0:
            warnings.append(
                warn(task, "its outline level is 0 (the project's own): here at the top")
            )
            task = replace(task, outline_level=1)
        rows.append(task)
    return rows


def _folder_losses(task: FileTask, plan: FilePlan) -> list[PlanWarning]:
    """What a summary task that became a folder holds that a folder cannot."""
    lost = []
    if task.predecessors:
        lost.append("its links")
    if task.notes.strip():
        lost.append("its notes")
    if task.constraint != ConstraintKind.AS_SOON_AS_POSSIBLE:
        lost.append(f"its constraint ({task.constraint.value})")
    if any(a.task_uid == task.uid for a in plan.assignments):
        lost.append("its assignments")
    if not lost:
        return []
    return [warn(task, f"{', '.join(lost)} are not kept: it became a folder (summary task)")]


def plan_name(plan: FilePlan) -> str:
    """The plan's title, else its name less a file extension (Project names a plan by its
    file: "Office move.mpp")."""
    title = " ".join(plan.extra.get("Title", "").split())
    if title:
        return title[:200]
    name = " ".join(plan.name.split())
    stem, dot, extension = name.rpartition(".")
    if dot and stem and extension.lower() in ("xml", "mpp", "mpt"):
        name = stem
    return name[:200] or "Imported plan"


# -- the outline ----------------------------------------------------------------------


def _outline(tasks: Sequence[FileTask]) -> dict[int, tuple[str, int | None]]:
    """Each task's kind — "folder", "task" or "subtask" — and its container: the folder's
    parent folder, the task's folder, or the subtask's parent task (UIDs; None: the top)."""
    parent_of: dict[int, int | None] = {}
    children: dict[int | None, list[int]] = defaultdict(list)
    stack: list[FileTask] = []
    for task in tasks:
        while stack and stack[-1].outline_level >= task.outline_level:
            stack.pop()
        parent_of[task.uid] = stack[-1].uid if stack else None
        children[parent_of[task.uid]].append(task.uid)
        stack.append(task)
    # A summary with nothing below it (an empty folder, exported) is a folder too.
    empty = {t.uid for t in tasks if t.summary and not children.get(t.uid)}
    kinds: dict[int, tuple[str, int | None]] = {}
    for task in tasks:  # In outline order: a container is decided before what it holds.
        parent = parent_of[task.uid]
        below = children.get(task.uid, [])
        if task.uid in empty or any(children.get(uid) or uid in empty for uid in below):
            kind = "folder"
        else:
            kind = "task"  # a parent task when something is below it
        if parent is not None and kinds[parent][0] == "task":
            kind = "subtask"  # Below a parent task (whose children are all plain).
        kinds[task.uid] = (kind, parent)
    return kinds


def _folder_of(uid: int | None, kinds: dict[int, tuple[str, int | None]]) -> int | None:
    """The folder a task (by UID) is in: its own container when that is a folder."""
    if uid is None:
        return None
    kind, container = kinds[uid]
    return container if kind != "folder" else uid


# -- tasks ------------------------------------------------------------------------------


def _title(task: FileTask, mapped: MappedPlan) -> str:
    title = " ".join(task.name.split())
    if not title:
        title = f"Task {task.id}"
        mapped.warnings.append(warn(task, f"it has no name: it is called {title!r}"))
    if len(title) > MAX_TITLE:
        title = title[:MAX_TITLE]
        mapped.warnings.append(warn(task, f"its name is cut to {MAX_TITLE} characters"))
    return title


def _task(
    task: FileTask, folder: int | None, parent: int | None, minutes_per_day: int,
    calendar: WorkCalendar, mapped: MappedPlan,
) -> PlannedTask:  # fmt: skip
    warnings = mapped.warnings
    start, finish = _days(task, minutes_per_day, calendar, warnings)
    notes = task.notes
    if len(notes) > MAX_NOTES:
        notes = notes[:MAX_NOTES]
        warnings.append(warn(task, f"its notes are cut to {MAX_NOTES} characters"))
    if not task.active:
        warnings.append(warn(task, "it is inactive in the file: here it is a plain task"))
    if task.recurring:
        warnings.append(
            warn(
                task,
                "it is a recurring task whose pattern the file does not hold (MS Project XML"
                " holds none: an MPP file does) or that has no rule here: its occurrences are"
                " its subtasks here",
            )
        )
    actual_start = task.actual_start.date() if task.actual_start else None
    actual_finish = task.actual_finish.date() if task.actual_finish else None
    if actual_finish and not actual_start:
        actual_finish = None
        warnings.append(warn(task, "its actual finish without an actual start is not kept"))
    if actual_start and actual_finish and actual_finish < actual_start:
        actual_finish = None
        warnings.append(warn(task, "its actual finish before its actual start is not kept"))
    return PlannedTask(
        uid=task.uid,
        title=_title(task, mapped),
        description=notes,
        folder_uid=folder,
        parent_uid=parent,
        start=start,
        finish=finish,
        milestone=task.milestone and start is not None,
        work_hours=round(task.work_minutes / 60, 2) if task.work_minutes else None,
        percent_complete=_percent(task, mapped.warnings),
        actual_start=actual_start,
        actual_finish=actual_finish,
        constraint=_constraint(task, warnings),
        recurrence=None,  # (A series' template has its rule: `_in_series`.)
        guid=task.guid,
    )


def _days(
    task: FileTask, minutes_per_day: int, calendar: WorkCalendar, warnings: list[PlanWarning]
) -> tuple[date | None, date | None]:
    """The task's first and last day here (None, None: unscheduled)."""
    if task.start is None:
        if task.finish is not None:
            warnings.append(
                warn(task, f"its finish {task.finish.date()} without a start is not kept")
            )
        return None, None
    start = task.start.date()
    end = task.finish or task.start
    finish = end.date()
    if end.time() == time(0) and end > task.start:
        finish -= timedelta(days=1)  # Finishing at midnight: the day before was the last.
    if task.milestone and task.duration_minutes:
        days = task.duration_minutes / minutes_per_day
        warnings.append(
            warn(
                task,
                f"it is a milestone lasting {days:g} working days in the file: here a"
                f" milestone on {start}, lasting none",
            )
        )
    if finish < start:
        warnings.append(
            warn(task, f"its finish {finish} is before its start: here it ends on {start}")
        )
    if task.milestone or finish < start:
        finish = start
    first = calendar.next_working(start)
    kept = (first, max(calendar.previous_working(finish), first))
    if kept != (start, finish):
        warnings.append(
            warn(task, f"{start} to {finish} falls on a day off: here {kept[0]} to {kept[1]}")
        )
    if task.duration_minutes is not None and not task.milestone:
        said, here = task.duration_minutes / minutes_per_day, calendar.between(*kept) + 1
        if task.duration_elapsed:
            days = task.duration_minutes / (24 * 60)
            warnings.append(
                warn(
                    task,
                    f"it lasts {days:g} elapsed days in the file: here {here} working"
                    f" days (from {kept[0]} to {kept[1]})",
                )
            )
        elif abs(said - here) >= 0.01:
            warnings.append(
                warn(
                    task,
                    f"it lasts {said:g} working days in the file: here {here}"
                    f" (the working days from {kept[0]} to {kept[1]})",
                )
            )
    return kept


def _percent(task: FileTask, warnings: list[PlanWarning]) -> int:
    kept = min(max(task.percent_complete, 0), 100)
    if kept != task.percent_complete:
        warnings.append(
            warn(task, f"its percent complete {task.percent_complete} is not 0 to 100: here {kept}")
        )
    return kept


def _constraint(task: FileTask, warnings: list[PlanWarning]) -> Constraint:
    kind = task.constraint
    if not kind.needs_date:
        return Constraint(kind)
    if task.constraint_date is None:
        warnings.append(warn(task, f"its constraint {kind.value} has no date: not kept"))
        return Constraint(ConstraintKind.AS_SOON_AS_POSSIBLE)
    return Constraint(kind, task.constraint_date.date())
