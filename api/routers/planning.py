"""Planning views: the Gantt chart (JSON, SVG, baselines), the status board and the calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from api.as_of import events_until, foldable
from api.charts import calendar_ics, gantt_svg
from api.deps import Ctx, ExpectedVersion, ProjectScope, ServicesDep, fresh, written
from api.params import Moment
from api.planning_schemas import BoardOut, CalendarOut, Card, CardMove, GanttOut
from api.problems import InvalidParameterError
from api.responses import OrjsonResponse, documented, reply, with_headers
from api.tags import Tag
from commands.access import ProjectNotFoundError
from commands.errors import TicketNotFoundError
from commands.models import ChangeTicketStatus
from domain.planning.calendar import STANDARD, month_days
from domain.planning.dates import EARLIEST, LATEST
from projections.access import StaffScope
from projections.base import current_tables, iso
from projections.calendar import KINDS, month_entries, planned_bars
from projections.gantt import project_calendar
from projections.gantt_query import project_chart
from projections.hierarchy import get_project
from projections.item_access import require_app
from projections.status_board import StatusBoardProjection, board
from projections.views.as_of import Place, candidates, folded

router = APIRouter(prefix="/api/v1/views", tags=[Tag.PLANNING])

ProjectParam = Annotated[UUID, Query(description="A project id (404 unless you may see it).")]
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


# --- scoping -------------------------------------------------------------------------------


def task_scope(scope: ProjectScope) -> StaffScope:
    """What the caller may read in the tasks app (403 without that app)."""
    require_app(scope, "task")
    return scope


TaskScope = Annotated[StaffScope, Depends(task_scope)]


def visible_project(svc: ServicesDep, scope: StaffScope, project: UUID) -> dict[str, Any]:
    """The project if the caller may see it; 404 otherwise (not 403: an outsider must not
    learn that it exists)."""
    with svc.views.read() as tx:
        found = get_project(tx, current_tables(tx, "hierarchy"), str(project))
    if found is None or not scope.sees(str(project)):
        raise ProjectNotFoundError(project)
    return found


def _visible(scope: StaffScope) -> frozenset[str] | None:
    return None if scope.all_projects else scope.project_ids


# --- the Gantt chart -----------------------------------------------------------------------


AsOf = Annotated[
    Moment | None,
    Query(description="RFC 3339 moment: the plan as it was then (a baseline)."),
]


def _gantt(
    svc: ServicesDep,
    scope: StaffScope,
    project_id: str,
    as_of: datetime | None,
    serialised: bool = False,
) -> Any:
    return project_chart(
        svc.views, project_id, scope.sees, as_of, svc.commands.stream, serialised=serialised
    )


@router.get(
    "/gantt",
    summary="A project's Gantt chart",
    responses={200: {"model": GanttOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("gantt", "access", "hierarchy", "flat"))],
)
def gantt(
    svc: ServicesDep,
    scope: TaskScope,
    response: Response,
    project: ProjectParam,
    as_of: AsOf = None,
) -> OrjsonResponse:
    """The project's tasks (parents followed by their subtasks) with planned and actual
    dates, progress and slack; their dependencies; and the critical path, computed as you
    read. With `as_of`, the plan as it was at that moment (a baseline)."""
    visible_project(svc, scope, project)
    return reply(response, _gantt(svc, scope, str(project), as_of, serialised=True))


@router.get(
    "/gantt.svg",
    summary="A project's Gantt chart as SVG",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The chart as an SVG image."},
        **documented(401, 403, 404, 422),
    },
    dependencies=[Depends(fresh("gantt", "access", "hierarchy", "flat"))],
)
def gantt_image(
    svc: ServicesDep,
    scope: TaskScope,
    response: Response,
    project: ProjectParam,
    as_of: AsOf = None,
) -> Response:
    """The Gantt chart drawn: planned bars with their percent complete, actual dates
    beneath, milestones as diamonds, dependency arrows, critical tasks in red."""
    found = visible_project(svc, scope, project)
    doc = _gantt(svc, scope, str(project), as_of)
    return with_headers(response, gantt_svg(found["name"], doc), "image/svg+xml")


# --- the status board ----------------------------------------------------------------------


@router.get(
    "/status-board",
    summary="A project's status board",
    responses={200: {"model": BoardOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("status_board", "access", "hierarchy", "flat", "item_changes"))],
)
def status_board(
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    project: ProjectParam,
    kind: Annotated[Literal["ticket", "task"], Query(description="Which items' board.")] = "task",
    status: Annotated[
        str | None, Query(max_length=100, description="Only this column.", examples=["Done"])
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=500, description="A column's `next_cursor`: its next cards.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Cards per column.")] = 20,
    as_of: Annotated[
        Moment | None,
        Query(description="RFC 3339 moment: the board as it was then."),
    ] = None,
) -> OrjsonResponse:
    """A column per status of the item type `ticket` or `task` as configured (then any
    other status an item holds), each with its card count and first cards, most urgent
    first, then by number. With `as_of`, the board as it was then, of the items you may
    see now (folded from their events; the columns as configured now)."""
    require_app(scope, kind)
    visible_project(svc, scope, project)
    lifecycle, others = svc.statuses.board(kind)
    args = (str(project), kind, limit, status, cursor, lifecycle, others)
    if as_of is None:
        with svc.views.read() as tx:
            doc = board(tx, current_tables(tx, "status_board"), *args)
    else:
        visible = None if scope.all_projects else scope.project_ids
        with svc.views.read() as tx, foldable():
            # The items in the project now, and those a change moved out of it.
            place = Place(str(project), current_tables(tx, "item_changes")["item_changes"])
            flat = current_tables(tx, "flat")
            kinds = frozenset({kind})
            items = candidates(tx, flat, visible, scope.kinds, kinds, iso(as_of), place)
        # Folded after the read: no view connection is held while the log is read.
        events = events_until(svc.commands, as_of)
        with folded(StatusBoardProjection(), items, events) as (memory, t):
            doc = {**board(memory, t, *args), "as_of": iso(as_of)}
    if status is not None and not doc["columns"]:
        raise InvalidParameterError("query", "status", f"no {kind} column {status!r}")
    return reply(response, doc)


@router.post(
    "/status-board/moves",
    summary="Move a card to another column",
    responses={200: {"model": Card}, **documented(401, 403, 404, 409, 412, 422)},
)
def move_card(
    body: CardMove, svc: ServicesDep, ctx: Ctx, version: ExpectedVersion, response: Response
) -> OrjsonResponse:
    """Change the item's status (a column is a status); answers with the moved card and
    X-Log-Position. An unknown status is a 422 problem; with If-Match, a stale version 412."""
    result = svc.commands.change_item(
        body.number, [ChangeTicketStatus(status=body.status)], ctx, version
    )
    # The card as this write left it, folded from the item's events (never a lagging view).
    card = svc.answers.card(result.id, result.version)
    if card is None:
        raise TicketNotFoundError(body.number)
    written(response, result.position, result.version)
    return reply(response, card.shown())


# --- the calendar --------------------------------------------------------------------------


def _month(text: str) -> list[date]:
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError as error:
        raise InvalidParameterError("query", "month", "expected YYYY-MM, e.g. 2026-12") from error
    if not EARLIEST <= first <= LATEST:
        raise InvalidParameterError(
            "query", "month", f"plans live between {EARLIEST:%Y-%m} and {LATEST:%Y-%m}"
        )
    return month_days(first)


def _calendar_kinds(scope: StaffScope, kind: str | None) -> frozenset[str]:
    """The kinds the calendar shows: the one asked for (403 without its app), else every
    kind the caller's apps show (403 with neither)."""
    if kind is not None:
        require_app(scope, kind)
        return frozenset({kind})
    kinds = frozenset(k for k in KINDS if k in scope.kinds and k not in scope.switched_off)
    if not kinds:
        require_app(scope, "task")
    return kinds


@router.get(
    "/calendar",
    summary="Your tasks and tickets in a month",
    responses={200: {"model": CalendarOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("gantt", "sla", "access", "hierarchy", "flat"))],
)
def calendar(
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    month: Annotated[str, Query(pattern=MONTH, description="YYYY-MM.", examples=["2026-12"])],
    project: Annotated[UUID | None, Query(description="Only this project's items.")] = None,
    kind: Annotated[
        Literal["task", "ticket"] | None,
        Query(description="Only tasks or only tickets (default: every kind your apps show)."),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> OrjsonResponse:
    """The tasks and tickets you may see whose planned or actual dates touch the month, by
    first day then number, a page at a time; and the month's days (working days by
    `project`'s calendar; without a project, Monday to Friday). A task's dates are its plan
    and its actual start and finish; a ticket's are its SLA's: planned from its opening to
    its resolution target, actual from its opening to its resolution, open-ended while
    unresolved (UTC days; a ticket without a resolution target, or with the SLA feature off,
    has no dates)."""
    days = _month(month)
    first, last = days[0], days[-1]
    kinds = _calendar_kinds(scope, kind)
    if not svc.company.current()["features"]["sla"]:
        kinds -= {"ticket"}  # A ticket's dates are its SLA's: with the feature off, none.
    if project is not None:
        visible_project(svc, scope, project)
    with svc.views.read() as tx:
        tables = {name: current_tables(tx, name) for name in ("gantt", "sla", "flat")}
        working = project_calendar(tx, tables["gantt"], str(project)) if project else STANDARD
        items, next_cursor = month_entries(
            tx,
            tables,
            first,
            last,
            _visible(scope),
            kinds,
            str(project) if project else None,
            cursor,
            limit,
        )
    return reply(
        response,
        {
            "month": month,
            "days": [{"date": day, "working_day": working.is_working(day)} for day in days],
            "items": items,
            "next_cursor": next_cursor,
        },
    )


@router.get(
    "/calendar.ics",
    summary="Your tasks as an iCalendar feed",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "An RFC 5545 calendar."},
        **documented(401, 403, 404, 422),
    },
    dependencies=[Depends(fresh("gantt", "access", "hierarchy", "flat"))],
)
def calendar_feed(
    svc: ServicesDep,
    scope: TaskScope,
    response: Response,
    project: Annotated[UUID | None, Query(description="Only this project's tasks.")] = None,
) -> Response:
    """One all-day event per task you may see that has planned dates: UID the task's id,
    summary `#number title`, DTSTAMP its last change (the feed is the same until the plan
    changes)."""
    name = "ledgerdesk tasks"
    if project is not None:
        name = visible_project(svc, scope, project)["name"]
    with svc.views.read() as tx:
        bars = planned_bars(
            tx, current_tables(tx, "gantt"), _visible(scope), str(project) if project else None
        )
    return with_headers(response, calendar_ics(name, bars), "text/calendar; charset=utf-8")
