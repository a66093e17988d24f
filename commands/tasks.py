"""Handlers for task commands: the ticket handlers for what both kinds share, plus the
plan, dependencies, subtasks, recurrence and the ticket-to-task conversion."""

from __future__ import annotations

from collections import deque
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from commands.access import load_project, require_role
from commands.company_settings import require_kind_on
from commands.folders import load_folder
from commands.models import (
    AddDependency,
    Context,
    EstimatePoints,
    EstimateWork,
    MarkMilestone,
    OpenTask,
    PlanTask,
    RecordActuals,
    RecurrenceRule,
    RemoveDependency,
    RescheduleTask,
    SetConstraint,
    SetParent,
    SetProgress,
    SetRecurrence,
    StopRecurrence,
)
from commands.tickets import (
    CREATORS,
    TICKET_HANDLERS,
    TicketHandler,
    authorize,
    require_tasks_app,
)
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from commands.workflow.statuses import lifecycle_for
from domain.errors import DependencyCycleError, InvalidValueError
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import Constraint
from domain.planning.links import Link, LinkKind, find_cycle
from domain.planning.schedule import TaskPlan, schedule
from domain.project import INBOX_ID, Project
from domain.recurrence import Frequency, Recurrence
from domain.task import Task
from domain.ticket import Ticket


def open_task(cmd: OpenTask, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """A new task with the next item number, in a project (the Inbox by default)."""
    require_kind_on(uow, "task")
    require_tasks_app(acting_user(uow, ctx))
    project = load_project(uow, cmd.project_id or INBOX_ID, ctx)
    require_role(uow, ctx, project, CREATORS, "create items here")
    folder = load_folder(uow, cmd.folder_id, project.id) if cmd.folder_id else None
    parent = uow.task(cmd.parent) if cmd.parent else None
    if parent is not None:
        authorize(parent, cmd, uow, ctx)  # The parent records its new subtask.
    counter = uow.counter()
    task = Task.plan(
        number=counter.issue("task", ctx.actor, ctx.correlation_id),
        title=cmd.title,
        description=cmd.description,
        priority=cmd.priority.value,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        project_id=project.id,
        folder_id=cmd.folder_id,
        requester_email=cmd.requester_email,
        start=cmd.start,
        finish=cmd.finish,
        duration_days=cmd.duration_days,
        work_hours=cmd.work_hours,
        points=cmd.points,
        milestone=cmd.milestone,
        constraint=_constraint(cmd.constraint, cmd.constraint_on),
        lifecycle=lifecycle_for(uow, "task", "task"),
        calendar=project.work_calendar,
    )
    if parent is not None:
        task.make_subtask_of(parent, ctx.actor, ctx.correlation_id)
    if cmd.recurrence is not None:
        task.set_recurrence(
            recurrence(cmd.recurrence, task), today(), ctx.actor, ctx.correlation_id
        )
    if folder is not None:
        folder.file_item(task.number, ctx.actor, ctx.correlation_id)
    extra = [a for a in (folder, parent) if a is not None]
    return [counter, project, *extra, *reschedule_from(task, uow, ctx, project.work_calendar), task]


def convert_ticket(ticket: Ticket, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """Turn a ticket into a task, in one atomic write of both streams (and the counter
    and folder): the task gets the next number and carries the ticket's fields, people,
    requester, place and message visibilities; the ticket's stream ends with the
    conversion. Its messages and attachments stay in its stream, which the task's history
    and views read as the task's beginning."""
    authorize(ticket, ConvertTicket(), uow, ctx)
    require_kind_on(uow, "task")
    require_tasks_app(acting_user(uow, ctx))
    counter = uow.counter()
    opened = uow.first_event(ticket.id)
    # The task type's default status of the state the ticket is in.
    lifecycle = lifecycle_for(uow, "task", "task")
    status = lifecycle.default(ticket.state)
    task = Task.plan(
        number=counter.issue("task", ctx.actor, ctx.correlation_id),
        title=ticket.title,
        description=ticket.description,
        priority=ticket.priority,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        project_id=UUID(ticket.project_id),
        folder_id=UUID(ticket.folder_id) if ticket.folder_id else None,
        requester_email=getattr(opened, "requester_email", None),
        status=status.name,
        lifecycle=lifecycle,
        converted_from=ticket.number,
        carried={
            "created_by": ticket.created_by,
            "team_id": ticket.team_id,
            "assignees": list(ticket.assignees),
            "followers": list(ticket.followers),
            "message_visibility": dict(ticket.message_visibility),
            "logged": {k: list(v) for k, v in ticket.logged.items()},
        },
    )
    ticket.convert_to_task(task.id, task.number, ctx.actor, ctx.correlation_id)
    folder = load_folder(uow, UUID(ticket.folder_id)) if ticket.folder_id else None
    if folder is not None:
        folder.unfile_item(ticket.number, ctx.actor, ctx.correlation_id)
        folder.file_item(task.number, ctx.actor, ctx.correlation_id)
    return [counter, ticket, *([folder] if folder else []), task]


def clone_task(source: Task, rule: RecurrenceRule, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """A new task like `source` (fields, place, plan, people) that is the template of a
    new series with `rule` ("clone as recurring")."""
    project = load_project(uow, UUID(source.project_id), ctx)
    require_role(uow, ctx, project, CREATORS, "create items here")
    counter = uow.counter()
    task = Task.plan(
        number=counter.issue("task", ctx.actor, ctx.correlation_id),
        **copy_fields(source),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        carried={"assignees": list(source.assignees), "followers": list(source.followers)},
        lifecycle=lifecycle_for(uow, "task", "task"),
        calendar=project.work_calendar,
    )
    task.set_recurrence(recurrence(rule, task), today(), ctx.actor, ctx.correlation_id)
    folder = load_folder(uow, UUID(source.folder_id)) if source.folder_id else None
    if folder is not None:
        folder.file_item(task.number, ctx.actor, ctx.correlation_id)
    return [counter, *([folder] if folder else []), task]


def copy_fields(source: Task, start: date | None = None) -> dict[str, Any]:
    """What a copy of `source` (a clone, or a series' occurrence starting on `start`)
    takes from it."""
    return {
        "title": source.title,
        "description": source.description,
        "priority": source.priority,
        "project_id": UUID(source.project_id),
        "folder_id": UUID(source.folder_id) if source.folder_id else None,
        "requester_email": source.requester_email,
        "start": start or source.start_date,
        "duration_days": source.duration_days if source.start else None,
        "work_hours": source.work_hours,
        "points": source.points,
        "milestone": source.milestone,
    }


class ConvertTicket:
    """The permission a conversion needs: that of editing the ticket."""


def _constraint(kind: str | None, on: date | None) -> Constraint | None:
    return Constraint.parse(kind, on) if kind else None


def today() -> date:
    """The day a recurrence rule set now takes effect (UTC)."""
    return datetime.now(UTC).date()


def recurrence(rule: RecurrenceRule, task: Task) -> Recurrence:
    """The domain's rule from the command's; it starts on the task's start by default."""
    starts = rule.starts or task.start_date
    if starts is None:
        raise InvalidValueError("recurrence.starts", "a recurring task needs a start date")
    return Recurrence(
        frequency=Frequency(rule.frequency),
        starts=starts,
        interval=rule.interval,
        weekdays=tuple(d.upper() for d in rule.weekdays),
        month_days=tuple(rule.month_days),
        count=rule.count,
        until=rule.until,
    )


# --- the plan -------------------------------------------------------------------


def plan_task(task: Task, cmd: PlanTask, uow: UnitOfWork, ctx: Context) -> list[Any]:
    given = cmd.model_fields_set
    start = cmd.start if "start" in given else task.start_date
    if "start" in given and cmd.start is None:
        finish, days = None, None  # Unscheduled.
    elif "finish" in given:
        finish, days = cmd.finish, cmd.duration_days if "duration_days" in given else None
    else:
        finish = None
        days = cmd.duration_days if "duration_days" in given else task.duration_days
    calendar = calendar_of(task, uow)
    task.schedule(start, finish, days, "planned", ctx.actor, ctx.correlation_id, calendar)
    task.pin_typed("start" in given, "finish" in given, ctx.actor, ctx.correlation_id)
    return reschedule_from(task, uow, ctx, calendar)


def reschedule_task(task: Task, cmd: RescheduleTask, uow: UnitOfWork, ctx: Context) -> list[Any]:
    calendar = calendar_of(task, uow)
    task.reschedule(cmd.start, cmd.finish, ctx.actor, ctx.correlation_id, calendar)
    return reschedule_from(task, uow, ctx, calendar)


def set_constraint(task: Task, cmd: SetConstraint, uow: UnitOfWork, ctx: Context) -> list[Any]:
    task.set_constraint(
        Constraint.parse(cmd.constraint, cmd.constraint_on), ctx.actor, ctx.correlation_id
    )
    return reschedule_from(task, uow, ctx)


def estimate_work(task: Task, cmd: EstimateWork, uow: UnitOfWork, ctx: Context) -> None:
    task.estimate_work(cmd.work_hours, ctx.actor, ctx.correlation_id)


def estimate_points(task: Task, cmd: EstimatePoints, uow: UnitOfWork, ctx: Context) -> None:
    task.estimate_points(cmd.points, ctx.actor, ctx.correlation_id)


def set_progress(task: Task, cmd: SetProgress, uow: UnitOfWork, ctx: Context) -> None:
    task.set_progress(cmd.percent_complete, ctx.actor, ctx.correlation_id)


def record_actuals(task: Task, cmd: RecordActuals, uow: UnitOfWork, ctx: Context) -> None:
    task.record_actuals(cmd.actual_start, cmd.actual_finish, ctx.actor, ctx.correlation_id)


def mark_milestone(task: Task, cmd: MarkMilestone, uow: UnitOfWork, ctx: Context) -> list[Any]:
    calendar = calendar_of(task, uow)
    task.mark_milestone(cmd.milestone, ctx.actor, ctx.correlation_id, calendar)
    return reschedule_from(task, uow, ctx, calendar)


# --- dependencies and subtasks ----------------------------------------------------


def add_dependency(task: Task, cmd: AddDependency, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """`task` follows `cmd.predecessor`; a link that would close a cycle is refused."""
    predecessor = uow.task(cmd.predecessor)
    authorize(predecessor, cmd, uow, ctx)  # The predecessor records its new successor.
    kind = LinkKind.parse(cmd.kind)
    new = Link(predecessor.number, task.number, kind, cmd.lag_days)
    cycle = find_cycle(_links_downstream(task, uow), new)
    if cycle is not None:
        raise DependencyCycleError(cycle)
    task.depend_on(predecessor, kind, cmd.lag_days, ctx.actor, ctx.correlation_id)
    return [predecessor, *reschedule_from(task, uow, ctx)]


def remove_dependency(
    task: Task, cmd: RemoveDependency, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    predecessor = uow.task(cmd.predecessor)
    authorize(predecessor, cmd, uow, ctx)
    task.drop_dependency(predecessor, ctx.actor, ctx.correlation_id)
    return [predecessor, *reschedule_from(task, uow, ctx)]


def set_parent(task: Task, cmd: SetParent, uow: UnitOfWork, ctx: Context) -> list[Any]:
    parent = uow.task(cmd.parent) if cmd.parent else None
    old = uow.task(task.parent) if task.parent and task.parent != cmd.parent else None
    for other in (parent, old):  # Both record the change.
        if other is not None:
            authorize(other, cmd, uow, ctx)
    task.make_subtask_of(parent, ctx.actor, ctx.correlation_id)
    if old is not None:
        old.release_subtask(task.number, ctx.actor, ctx.correlation_id)
    return [a for a in (parent, old) if a is not None]


# --- recurrence ---------------------------------------------------------------------


def set_recurrence(task: Task, cmd: SetRecurrence, uow: UnitOfWork, ctx: Context) -> None:
    task.set_recurrence(recurrence(cmd.rule, task), today(), ctx.actor, ctx.correlation_id)


def stop_recurrence(task: Task, cmd: StopRecurrence, uow: UnitOfWork, ctx: Context) -> None:
    task.stop_recurrence(ctx.actor, ctx.correlation_id)


# --- scheduling -------------------------------------------------------------------


def calendar_of(task: Task, uow: UnitOfWork) -> WorkCalendar:
    """The working days `task` is planned by: its project's calendar (links join tasks of
    one project only, so one calendar serves every task a change moves)."""
    project = uow.get(UUID(task.project_id), Project)
    return project.work_calendar if project is not None else STANDARD


def downstream(task: Task, uow: UnitOfWork) -> dict[int, Task]:
    """`task` and every task that (transitively) follows it, by number."""
    found: dict[int, Task] = {task.number: task}
    queue = deque([task])
    while queue:
        for number in sorted(int(n) for n in queue.popleft().successors):
            if number not in found:
                found[number] = uow.task(number)
                queue.append(found[number])
    return found


def _links_downstream(task: Task, uow: UnitOfWork) -> list[Link]:
    """Every link among `task` and the tasks that (transitively) follow it."""
    return [
        Link(member.number, int(number), LinkKind(kind), lag)
        for member in downstream(task, uow).values()
        for number, (kind, lag) in sorted(member.successors.items())
    ]


def reschedule_from(
    task: Task, uow: UnitOfWork, ctx: Context, calendar: WorkCalendar | None = None
) -> list[Any]:
    """After `task`'s dates, constraint or links changed: a forward pass over it and every
    task that follows it, honouring constraints and lags. Tasks whose dates move record
    it (cause "dependency"); returns those other than `task` (saved in the same write)."""
    closure = downstream(task, uow)
    calendar = calendar or calendar_of(task, uow)  # (the caller's, when it has it)
    outside: dict[int, Task] = {}
    for member in closure.values():
        for key in member.predecessors:
            if int(key) not in closure:
                outside[int(key)] = uow.task(int(key))
    everyone = {**closure, **outside}
    plans = {n: _plan(t) for n, t in everyone.items()}
    links = [
        Link(int(p), t.number, LinkKind(kind), lag)
        for t in closure.values()
        for p, (kind, lag) in t.predecessors.items()
    ]
    try:
        results = schedule(plans, links, fixed=set(outside), calendar=calendar)
    except (OverflowError, ValueError):
        raise InvalidValueError("start", "this plan would run past the year 9999") from None
    moved: list[Any] = []
    for number, result in results.items():
        found = closure.get(number)
        if found is None or (result.start, result.finish) == (
            found.start_date,
            found.finish_date,
        ):
            continue
        member = found
        member.schedule(
            result.start,
            result.finish,
            None,
            "dependency" if member is not task else "planned",
            ctx.actor,
            ctx.correlation_id,
            calendar,
        )
        if member is not task:
            moved.append(member)
    return moved


def _plan(task: Task) -> TaskPlan:
    return TaskPlan(
        number=task.number,
        start=task.start_date,
        duration_days=task.duration_days or 0,
        constraint=task.constraint_value,
        milestone=task.milestone,
    )


TASK_HANDLERS: dict[type[Any], TicketHandler] = {
    **TICKET_HANDLERS,
    PlanTask: plan_task,
    RescheduleTask: reschedule_task,
    SetConstraint: set_constraint,
    EstimateWork: estimate_work,
    EstimatePoints: estimate_points,
    SetProgress: set_progress,
    RecordActuals: record_actuals,
    MarkMilestone: mark_milestone,
    AddDependency: add_dependency,
    RemoveDependency: remove_dependency,
    SetParent: set_parent,
    SetRecurrence: set_recurrence,
    StopRecurrence: stop_recurrence,
}
