"""The one write of a plan import: folders, tasks (each with its index entry), subtasks,
assignees and links, as the import writes them (`commands.msproject.importer` checks the
importer's rights first).

Each folder and task is keyed by the project and the task's GUID — or, in a file without
GUIDs (Project 2003 and before), by the plan's name and the task's UID — so that the same
plan again adds nothing and a later version adds only what is new. What a later version
cannot change of what was imported before (a task now below a subtask, a link to a task
moved to another project since, a link that with one made by hand closes a cycle, a task
whose name in the file is not the one imported before under its key) is a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from commands.folders import CreateFolder, create_folder
from commands.models import Context
from commands.tasks import downstream
from commands.unit_of_work import UnitOfWork
from commands.workflow.statuses import lifecycle_for
from domain.errors import InvalidValueError, SubtaskLevelError, TaskLinkError
from domain.hierarchy import Folder
from domain.item_import import ImportedItem, imported_item_id
from domain.msproject.links import PlannedLink
from domain.msproject.mapping import MappedPlan, PlannedTask
from domain.msproject.series import rule_of
from domain.msproject.warnings import PlanWarning
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.links import Link, LinkKind, find_cycle
from domain.project import Project
from domain.task import Task
from domain.values import State

NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/msproject")
# The index entry of a series' first occurrence, which is its template (`_start_series`).
FOLDED = "series-first"


@dataclass
class Written:
    """What the write made (or would), and the warnings it adds to the mapping's."""

    created: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("tasks", "subtasks", "folders", "links", "assignments"), 0
        )
    )
    existing: int = 0
    created_project: bool = False
    project_name: str = ""
    recorded: bool = False  # an import of this file is recorded (now or before)
    warnings: list[PlanWarning] = field(default_factory=list)
    calendar: WorkCalendar = STANDARD  # the project's, by which the plan's days count


def task_key(project_id: UUID, plan: str, uid: int, guid: str | None) -> str:
    """A plan's task (or summary) in a project: by its GUID, else by the plan's name and
    its UID (two plans of one name without GUIDs are one plan)."""
    if guid:
        return f"msproject:{project_id}:guid:{guid.lower()}"
    return f"msproject:{project_id}:{plan}:{uid}"


def folder_id(project_id: UUID, key: str) -> UUID:
    return uuid5(NAMESPACE, f"folder|{project_id}|{key}")


class _Plan:
    """The write under way: what is kept, and each row's key."""

    def __init__(self, uow: UnitOfWork, project: Project, mapped: MappedPlan) -> None:
        self.uow, self.project, self.mapped = uow, project, mapped
        self.calendar = project.work_calendar  # (made once: a calendar may hold 20,000 days)
        self.folded: set[int] = set()  # UIDs of first occurrences: their series' template
        self.changed: dict[UUID, Any] = {}
        self.keys = {t.uid: task_key(project.id, mapped.name, t.uid, t.guid) for t in mapped.tasks}
        self.keys.update(
            (f.uid, task_key(project.id, mapped.name, f.uid, f.guid)) for f in mapped.folders
        )

    def keep(self, aggregates: Sequence[Any]) -> None:
        self.uow.keep(aggregates)
        self.changed.update((a.id, a) for a in aggregates)

    def folder(self, uid: int) -> UUID:
        return folder_id(self.project.id, self.keys[uid])


def write_plan(
    uow: UnitOfWork, ctx: Context, project: Project, mapped: MappedPlan,
    assignees: dict[int, list[UUID]], written: Written,
) -> list[Any]:  # fmt: skip
    """Everything the plan makes, as `ctx` (the import) writes it; the aggregates to save."""
    plan = _Plan(uow, project, mapped)
    for folder in mapped.folders:
        own = plan.folder(folder.uid)
        if uow.get(own, Folder) is not None:
            continue
        parent = plan.folder(folder.parent_uid) if folder.parent_uid else None
        cmd = CreateFolder(project_id=project.id, name=folder.name, parent_id=parent)
        plan.keep(create_folder(cmd, uow, ctx, own)[1:])  # (Not the project: it saves nothing.)
        written.created["folders"] += 1
    numbers, before = _imported_before(plan, written)
    counter = uow.counter()
    lifecycle = lifecycle_for(uow, "task", "task")
    made: dict[int, Task] = {}
    for planned in mapped.tasks:
        if planned.uid in numbers:
            continue
        series = None
        if planned.series_uid is not None:  # An occurrence: its template made, or before.
            series = made.get(planned.series_uid) or uow.task(numbers[planned.series_uid])
            if series.recurrence_from is None:  # Imported before as a parent task (XML).
                planned = replace(planned, parent_uid=planned.series_uid, series_uid=None)
                series = None
            elif not _takes(series, planned, written):
                continue
        task = _task(planned, plan, counter.issue("task", ctx.actor, ctx.correlation_id),
                     lifecycle, ctx, series.number if series else None)  # fmt: skip
        numbers[planned.uid], made[planned.uid] = task.number, task
        if planned.recurrence is not None:
            _start_series(task, planned, plan, ctx, written)
        if series is not None and planned.start is not None:
            series.record_occurrence(planned.start, task.number, ctx.actor, ctx.correlation_id)
            plan.keep([series])
        _place(task, planned, plan, numbers, ctx, written)
        for user_id in assignees.get(planned.uid, []):
            task.assign(user_id, ctx.actor, ctx.correlation_id)
            written.created["assignments"] += 1
        plan.keep([ImportedItem.record(
            key=plan.keys[planned.uid], number=task.number, kind="task",
            import_id=UUID(ctx.actor.ident), actor=ctx.actor.ref,
            correlation_id=ctx.correlation_id,
        )])  # fmt: skip
        written.created["tasks"] += 1
    _link(plan, numbers, bool(before), ctx, written)
    if written.created["tasks"]:
        plan.keep([counter])
    return list(plan.changed.values())


def _imported_before(plan: _Plan, written: Written) -> tuple[dict[int, int], set[int]]:
    """The tasks an earlier import of the plan made (UID -> number), with a warning for one
    whose name in the file is not its name then (another plan of the same name?)."""
    mapped = plan.mapped
    ids = [imported_item_id(plan.keys[t.uid]) for t in mapped.tasks]
    found = plan.uow.get_many(ids, ImportedItem)
    numbers: dict[int, int] = {}
    for planned, index in zip(mapped.tasks, ids, strict=True):
        if index not in found:
            continue
        numbers[planned.uid] = found[index].number
        if found[index].kind == FOLDED:  # (The file as XML: the first occurrence a subtask.)
            plan.folded.add(planned.uid)
            continue
        made = plan.uow.task(found[index].number)
        if made.title != planned.title:
            written.warnings.append(PlanWarning(
                f"its UID was imported before as #{made.number} {made.title!r}: not imported"
                " again (another plan of the same name? import it into another project, or"
                " name it otherwise)", planned.uid, planned.title,
            ))  # fmt: skip
    written.existing = len(set(numbers.values()))
    return numbers, set(numbers.values())


def _place(
    task: Task, planned: PlannedTask, plan: _Plan, numbers: dict[int, int], ctx: Context,
    written: Written,
) -> None:  # fmt: skip
    """File the new task in its folder and under its parent task."""
    plan.keep([task])
    if planned.folder_uid is not None:
        holder = plan.uow.get(plan.folder(planned.folder_uid), Folder)
        assert holder is not None  # (Made above, or before.)
        holder.file_item(task.number, ctx.actor, ctx.correlation_id)
        plan.keep([holder])
    if planned.parent_uid is None:
        return
    above = plan.uow.task(numbers[planned.parent_uid])
    try:
        task.make_subtask_of(above, ctx.actor, ctx.correlation_id)
    except (SubtaskLevelError, TaskLinkError) as refused:
        written.warnings.append(PlanWarning(
            f"it is not a subtask of #{above.number} {above.title!r} (imported before):"
            f" {refused}", planned.uid, planned.title,
        ))  # fmt: skip
        return
    plan.keep([above])
    written.created["subtasks"] += 1


def _link(
    plan: _Plan, numbers: dict[int, int], some_before: bool, ctx: Context, written: Written
) -> None:
    """The plan's links. The mapping refused a plan whose own links make a cycle; with
    tasks imported before, a link could close one through links made by hand since, so
    each is checked against the project's links as they stand (those added here too)."""
    titles = {t.uid: t.title for t in plan.mapped.tasks}
    for link in plan.mapped.links:
        ends = (link.predecessor_uid, link.successor_uid)
        if any(uid not in numbers or uid in plan.folded for uid in ends):
            _link_not_kept(link, titles, numbers, written)
            continue
        after, first = numbers[link.successor_uid], numbers[link.predecessor_uid]
        task, predecessor = plan.uow.task(after), plan.uow.task(first)
        if str(first) in task.predecessors:
            continue
        said = f"its link from #{first} {predecessor.title!r} is not kept"
        if some_before and _closes_cycle(task, first, plan.uow):
            written.warnings.append(PlanWarning(
                f"{said}: with the links made since the last import it closes a cycle",
                link.successor_uid, task.title,
            ))  # fmt: skip
            continue
        try:
            task.depend_on(predecessor, link.kind, link.lag_days, ctx.actor, ctx.correlation_id)
        except TaskLinkError as refused:
            written.warnings.append(
                PlanWarning(f"{said}: {refused}", link.successor_uid, task.title)
            )
            continue
        plan.keep([task, predecessor])
        written.created["links"] += 1


def _link_not_kept(
    link: PlannedLink, titles: dict[int, str], numbers: dict[int, int], written: Written
) -> None:
    """A link with an end not imported, or an end that is a series' first occurrence."""
    before = titles.get(link.predecessor_uid, f"task UID {link.predecessor_uid}")
    why = next(
        (f"{titles.get(uid, uid)!r} was not imported" for uid in
         (link.predecessor_uid, link.successor_uid) if uid not in numbers),
        "it joins the first occurrence of a recurring task, which is the series' template here",
    )  # fmt: skip
    written.warnings.append(PlanWarning(
        f"its link from {before!r} is not kept: {why}", link.successor_uid,
        titles.get(link.successor_uid, ""),
    ))  # fmt: skip


def _takes(series: Task, planned: PlannedTask, written: Written) -> bool:
    """Whether the series takes this occurrence: its day is still open (else it has it, or
    has stopped, and a task of that day is not made again)."""
    first = series.first_open_day()
    if first is not None and planned.start is not None and planned.start >= first:
        return True
    last = None if first is None else first - timedelta(days=1)
    why = "has stopped" if last is None else f"already has its occurrences up to {last}"
    written.warnings.append(PlanWarning(
        f"it is not imported: the series #{series.number} {series.title!r} {why}",
        planned.uid, planned.title,
    ))  # fmt: skip
    return False


def _start_series(
    task: Task, planned: PlannedTask, plan: _Plan, ctx: Context, written: Written
) -> None:
    """A new template: its rule (from the first occurrence's day on), and the first
    occurrence's key, which is the template (`domain.msproject.series`)."""
    rule = rule_of(planned.recurrence) if planned.recurrence is not None else None
    assert rule is not None  # (The mapping made only series whose rule is one.)
    task.set_recurrence(rule, rule.starts, ctx.actor, ctx.correlation_id)
    if planned.folds is None:
        return
    key = task_key(plan.project.id, plan.mapped.name, *planned.folds)
    found = plan.uow.get(imported_item_id(key), ImportedItem)
    if found is not None:  # (Another plan of the same name, without GUIDs.)
        written.warnings.append(PlanWarning(
            f"its first occurrence's UID was imported before as #{found.number}: it is not"
            " the template's too", planned.uid, planned.title,
        ))  # fmt: skip
        return
    plan.keep([ImportedItem.record(
        key=key, number=task.number, kind=FOLDED, import_id=UUID(ctx.actor.ident),
        actor=ctx.actor.ref, correlation_id=ctx.correlation_id,
    )])  # fmt: skip


def _task(
    planned: PlannedTask, plan: _Plan, number: int, lifecycle: Any, ctx: Context,
    series: int | None = None,
) -> Task:  # fmt: skip
    status = None
    if planned.percent_complete == 100:
        status = lifecycle.default(State.FINISHED).name
    elif planned.percent_complete > 0 or planned.actual_start:
        status = lifecycle.default(State.IN_PROGRESS).name
    try:
        task = Task.plan(
            number=number, title=planned.title, description=planned.description,
            actor=ctx.actor, correlation_id=ctx.correlation_id, project_id=plan.project.id,
            folder_id=plan.folder(planned.folder_uid) if planned.folder_uid else None,
            start=planned.start, finish=planned.finish, work_hours=planned.work_hours,
            milestone=planned.milestone, constraint=planned.constraint, status=status,
            lifecycle=lifecycle, calendar=plan.calendar, series_number=series,
            occurrence_date=planned.start if series is not None else None,
        )  # fmt: skip
        if planned.percent_complete:
            task.set_progress(planned.percent_complete, ctx.actor, ctx.correlation_id)
        if planned.actual_start:
            task.record_actuals(
                planned.actual_start, planned.actual_finish, ctx.actor, ctx.correlation_id
            )
    except InvalidValueError as error:
        raise InvalidValueError(error.field, f"task UID {planned.uid}: {error}") from None
    return task


def _closes_cycle(task: Task, predecessor: int, uow: UnitOfWork) -> bool:
    links = [
        Link(member.number, int(number), LinkKind(kind), lag)
        for member in downstream(task, uow).values()
        for number, (kind, lag) in member.successors.items()
    ]
    return find_cycle(links, Link(predecessor, task.number)) is not None
