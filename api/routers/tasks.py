"""Tasks: create, read (now or as of a moment), change, plan, link, recur; and the
conversion of a ticket into a task."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from api.deps import Ctx, ExpectedVersion, ProjectScope, ServicesDep, fresh
from api.params import HISTORY_HEADERS, Filters, History, Moment
from api.responses import OrjsonResponse, documented, reply
from api.routers.planning import TaskScope
from api.routers.tickets import Number, answer_write, history_page, item_commands
from api.routers.views import flat_page
from api.schemas import (
    CloneAsRecurring,
    DependencyCreate,
    FlatPage,
    HistoryEntry,
    RecurrenceIn,
    Reschedule,
    TaskCreate,
    TaskOut,
    TaskPatch,
)
from api.tags import Tag
from commands.errors import TaskNotFoundError
from commands.models import (
    AddDependency,
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
    TaskCommand,
)
from domain.item_numbers import MAX_ITEM_NUMBER
from projections.base import current_tables
from projections.item_access import visible_item
from projections.sla.view import summary_of_item
from projections.ticket_detail import fold, get_ticket

router = APIRouter(prefix="/api/v1/tasks", tags=[Tag.TASKS])
conversion = APIRouter(prefix="/api/v1/tickets", tags=[Tag.TASKS])
TaskNumber = Annotated[
    int, Path(ge=1, le=MAX_ITEM_NUMBER, description="The task's item number.", examples=[1043])
]
WRITE = {200: {"model": TaskOut}, **documented(401, 404, 409, 412, 422)}


def _location(number: int | None) -> str:
    return f"/api/v1/tasks/{number}"


@router.post(
    "",
    status_code=201,
    summary="Create a task",
    responses={201: {"model": TaskOut}, **documented(401, 403, 404, 409, 422)},
)
def create_task(body: TaskCreate, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """Create a task with the next item number: its plan (start with finish or duration in
    working days, a constraint, work, points, milestone), its place, optionally a parent
    task (one level of subtasks) and a recurrence."""
    fields = body.model_dump(exclude={"recurrence"})
    recurrence = RecurrenceRule(**body.recurrence.model_dump()) if body.recurrence else None
    result = svc.commands.open_task(OpenTask(**fields, recurrence=recurrence), ctx)
    return answer_write(svc, response, result, 201, Location=_location(result.number))


@router.get(
    "",
    summary="List tasks",
    responses={200: {"model": FlatPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("flat", "access"))],
)
def list_tasks(
    svc: ServicesDep, scope: TaskScope, response: Response, filters: Filters
) -> OrjsonResponse:
    """The tasks you may see (converted tickets among them), with the flat view's filters
    and sort, a page at a time; pass `next_cursor` back as `cursor`."""
    return flat_page(svc, response, filters.query(scope, "task"))


@router.get(
    "/{number}",
    summary="Read a task",
    responses={200: {"model": TaskOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("ticket_detail", "access", "sla"))],
)
def read_task(
    number: TaskNumber,
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    as_of: Annotated[
        Moment | None,
        Query(description="RFC 3339 moment: the task as it was then (404 before it existed)."),
    ] = None,
) -> OrjsonResponse:
    """Read a task with its plan, links, people, conversation and attachments, now or as of
    a moment (a task converted from a ticket existed, as that ticket, before it)."""
    with svc.views.read() as tx:
        doc = visible_item(
            get_ticket(tx, current_tables(tx, "ticket_detail"), number), number, scope, "task"
        )
        doc["sla"] = summary_of_item(tx, current_tables(tx, "sla"), doc["id"])
    if as_of is None:
        return reply(response, doc, ETag=f'"{doc["version"]}"')
    then = fold(svc.commands.task_events(number, as_of))
    if then is None:
        raise TaskNotFoundError(number)
    then["sla"] = svc.sla_items.summary_as_of(UUID(then["id"]), as_of)
    return reply(response, then, ETag=f'"{then["version"]}"')


@router.patch("/{number}", summary="Change a task", responses=WRITE)
def change_task(
    number: TaskNumber,
    body: TaskPatch,
    svc: ServicesDep,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Change any field: one event per changed field, none if nothing changed. Changing
    dates, the constraint or the milestone mark moves the tasks that follow this one (in
    the same write). With If-Match, a stale version gets 412."""
    result = svc.commands.change_task(number, _patch_commands(svc, body, ctx), ctx, version)
    return answer_write(svc, response, result)


def _patch_commands(svc: ServicesDep, body: TaskPatch, ctx: Ctx) -> list[TaskCommand]:
    given = body.model_fields_set
    commands: list[TaskCommand] = item_commands(svc, body, ctx)
    if body.milestone is not None:
        commands.append(MarkMilestone(milestone=body.milestone))
    dates = given & {"start", "finish", "duration_days"}
    if dates:
        commands.append(PlanTask(**{field: getattr(body, field) for field in dates}))
    if body.constraint is not None:
        commands.append(SetConstraint(constraint=body.constraint, constraint_on=body.constraint_on))
    if "work_hours" in given:
        commands.append(EstimateWork(work_hours=body.work_hours))
    if "points" in given:
        commands.append(EstimatePoints(points=body.points))
    if body.percent_complete is not None:
        commands.append(SetProgress(percent_complete=body.percent_complete))
    if given & {"actual_start", "actual_finish"}:
        commands.append(
            RecordActuals(actual_start=body.actual_start, actual_finish=body.actual_finish)
        )
    if body.parent is not None:
        commands.append(SetParent(parent=body.parent or None))
    return commands


@router.post("/{number}/reschedule", summary="Reschedule (drag a Gantt bar)", responses=WRITE)
def reschedule(
    number: TaskNumber, body: Reschedule, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """What dragging the task's bar does: it starts on `start` (keeping its duration, or
    finishing on `finish`), the plan records the matching constraint (start no earlier
    than), and the tasks that follow move with it."""
    cmd = RescheduleTask(start=body.start, finish=body.finish)
    return answer_write(svc, response, svc.commands.change_task(number, [cmd], ctx))


@router.post(
    "/{number}/dependencies",
    status_code=201,
    summary="Add a dependency",
    responses={201: {"model": TaskOut}, **documented(401, 404, 409, 422)},
)
def add_dependency(
    number: TaskNumber, body: DependencyCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """This task follows `predecessor` (finish-to-start, start-to-start, finish-to-finish
    or start-to-finish, with a lag in working days); it and its successors are rescheduled.
    A link that would close a cycle is refused with 409, naming the cycle."""
    cmd = AddDependency(predecessor=body.predecessor, kind=body.kind, lag_days=body.lag_days)
    return answer_write(svc, response, svc.commands.change_task(number, [cmd], ctx), 201)


@router.delete(
    "/{number}/dependencies/{predecessor}", summary="Remove a dependency", responses=WRITE
)
def remove_dependency(
    number: TaskNumber,
    predecessor: Annotated[
        int, Path(ge=1, le=MAX_ITEM_NUMBER, description="The predecessor's number.")
    ],
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """This task no longer follows `predecessor` (nothing changes if it did not)."""
    cmd = RemoveDependency(predecessor=predecessor)
    return answer_write(svc, response, svc.commands.change_task(number, [cmd], ctx))


@router.delete(
    "/{number}/dependencies",
    summary="Remove a dependency (by query)",
    responses=WRITE,
)
def remove_dependency_by_query(
    number: TaskNumber,
    predecessor: Annotated[int, Query(ge=1, description="The predecessor's number.")],
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """The same as `DELETE /tasks/{number}/dependencies/{predecessor}`."""
    return remove_dependency(number, predecessor, svc, ctx, response)


@router.put("/{number}/recurrence", summary="Make the task recur", responses=WRITE)
def set_recurrence(
    number: TaskNumber, body: RecurrenceIn, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Make this task the template of a series (RFC 5545 rule: daily, weekly, monthly or
    yearly; an interval; weekdays or month days; a count or an end date). A worker creates
    each occurrence once, on its date. Changing the rule affects future occurrences only."""
    cmd = SetRecurrence(rule=RecurrenceRule(**body.model_dump()))
    return answer_write(svc, response, svc.commands.change_task(number, [cmd], ctx))


@router.delete("/{number}/recurrence", summary="Stop the series", responses=WRITE)
def stop_recurrence(
    number: TaskNumber, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """No further occurrences are created; those already created stay."""
    return answer_write(svc, response, svc.commands.change_task(number, [StopRecurrence()], ctx))


@router.post(
    "/{number}/clone",
    status_code=201,
    summary="Clone as recurring",
    responses={201: {"model": TaskOut}, **documented(401, 404, 409, 422)},
)
def clone_as_recurring(
    number: TaskNumber, body: CloneAsRecurring, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A new task like this one (title, description, priority, place, plan, people) that
    is the template of a new series with the given rule."""
    rule = RecurrenceRule(**body.recurrence.model_dump())
    result = svc.commands.clone_task(number, rule, ctx)
    return answer_write(svc, response, result, 201, Location=_location(result.number))


@router.get(
    "/{number}/history",
    summary="A task's history",
    responses={
        200: {"model": list[HistoryEntry], "headers": HISTORY_HEADERS},
        **documented(401, 403, 404, 422),
    },
    dependencies=[Depends(fresh("item_history", "ticket_detail", "access"))],
)
def task_history(
    number: TaskNumber, svc: ServicesDep, scope: ProjectScope, response: Response, page: History
) -> OrjsonResponse:
    """The task's events in log order, a page at a time (`X-Next-Cursor` and `Link` name the
    next page); a converted task's history begins with its ticket's."""
    with svc.views.read() as tx:
        t = current_tables(tx, "ticket_detail")
        doc = visible_item(get_ticket(tx, t, number), number, scope, "task")
        return history_page(tx, response, doc, page)


@conversion.post(
    "/{number}/conversion",
    status_code=201,
    summary="Convert a ticket to a task",
    responses={201: {"model": TaskOut}, **documented(401, 403, 404, 409, 422)},
)
def convert_ticket(
    number: Number, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Turn the ticket into a task, in one atomic write: the task gets a new number and
    carries the messages, attachments, people, requester and place; the ticket's stream
    ends with its conversion. Afterwards every path under the ticket answers 308 to the
    same path under the task. Converting it again is 409."""
    result = svc.commands.convert_ticket(number, ctx)
    return answer_write(svc, response, result, 201, Location=_location(result.number))


routers = [router, conversion]
