"""Time reports and the timesheet list: minutes and hours per user, item, project, customer,
week or month (JSON, or a streamed CSV or XLSX export), and the entries you may see.

Writes to entries are in `api.routers.timesheets`; these routes only read the `timesheets`
view, scoped by `EntryScope` (your own entries and those of the projects you manage or lead).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from api.deps import CurrentCaller, ProjectScope, ServicesDep, fresh
from api.exports import EXPORT_TYPES, attachment
from api.params import query_date
from api.problems import InvalidParameterError
from api.report_schemas import ReportOut, TimesheetPage
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from projections.base import current_tables
from projections.timesheet_query import (
    DIMENSIONS,
    EntryFilter,
    EntryScope,
    ReportQuery,
    list_entries,
    report,
    report_chunks,
    report_columns,
)

report_router = APIRouter(prefix="/api/v1/reports", tags=[Tag.REPORTS])
timesheet_list_router = APIRouter(prefix="/api/v1", tags=[Tag.TIME])
routers = (report_router, timesheet_list_router)


def entry_scope(caller: CurrentCaller, scope: ProjectScope) -> EntryScope:
    """Whose entries the caller sees."""
    return EntryScope.of(str(caller.user.id), scope)


Scope = Annotated[EntryScope, Depends(entry_scope)]
Since = Annotated[
    str | None, Query(alias="from", description="First work date (YYYY-MM-DD), inclusive.")
]
Until = Annotated[
    str | None, Query(alias="to", description="Last work date (YYYY-MM-DD), inclusive.")
]
Billable = Annotated[bool | None, Query(description="Only billable (true) or not (false).")]
Cursor = Annotated[str | None, Query(max_length=500, description="`next_cursor` of a page.")]


def _dates(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    first, last = query_date("from", since), query_date("to", until)
    if first is not None and last is not None and last < first:
        raise InvalidParameterError("query", "to", "`to` is before `from`")
    return first, last


def _group_by(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        if name not in DIMENSIONS:
            known = ", ".join(DIMENSIONS)
            raise InvalidParameterError(
                "query", "group_by", f"cannot group by {name!r}; use any of {known}"
            )
    if len(set(names)) != len(names):
        raise InvalidParameterError("query", "group_by", "a grouping is named twice")
    return names


# --- the list -------------------------------------------------------------------------------


@timesheet_list_router.get(
    "/timesheets",
    summary="List timesheet entries",
    responses={200: {"model": TimesheetPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("timesheets", "access"))],
)
def list_timesheet_entries(
    svc: ServicesDep,
    scope: Scope,
    response: Response,
    since: Since = None,
    until: Until = None,
    user: Annotated[UUID | None, Query(description="Only this user's entries.")] = None,
    item: Annotated[
        int | None,
        Query(
            ge=1,
            le=2_000_000_000,
            description="Only time on this item (a converted ticket: on its task).",
        ),
    ] = None,
    project: Annotated[UUID | None, Query(description="Only this project's entries.")] = None,
    state: Literal["draft", "submitted", "approved", "rejected", "withdrawn"] | None = None,
    billable: Billable = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """Your own entries and every entry of the projects you manage or lead (everyone's if
    you are an admin or manage projects), withdrawn ones included, by work date then id, a
    page at a time; pass `next_cursor` back as `cursor`."""
    first, last = _dates(since, until)
    query = EntryFilter(
        scope,
        user=str(user) if user else None,
        item=item,
        project=str(project) if project else None,
        state=state,
        billable=billable,
        since=first,
        until=last,
    )
    with svc.views.read() as tx:
        items, next_cursor = list_entries(
            tx, current_tables(tx, "timesheets"), query, cursor, limit
        )
    return reply(response, {"items": items, "next_cursor": next_cursor})


# --- the report -----------------------------------------------------------------------------


@report_router.get(
    "/timesheets",
    summary="Time report",
    response_class=Response,
    responses={
        200: {
            "model": ReportOut,
            "description": "The report as JSON, or a CSV or XLSX attachment (`format`).",
            "content": EXPORT_TYPES,
        },
        **documented(401, 403, 422),
    },
    dependencies=[Depends(fresh("timesheets", "access"))],
)
def timesheet_report(
    svc: ServicesDep,
    scope: Scope,
    response: Response,
    group_by: Annotated[
        str,
        Query(
            description="Comma-separated: user, item, project, customer, week (ISO, Monday"
            " start), month. A project in several customer folders counts for each.",
            examples=["user,month"],
            max_length=100,
        ),
    ] = "user",
    since: Since = None,
    until: Until = None,
    state: Annotated[
        Literal["draft", "submitted", "approved", "rejected"] | None,
        Query(description="Only entries in this state (withdrawn ones never count)."),
    ] = None,
    billable: Billable = None,
    output: Annotated[
        Literal["json", "csv", "xlsx"],
        Query(alias="format", description="csv and xlsx stream every group as an attachment."),
    ] = "json",
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="Groups per JSON page.")] = 1000,
) -> Response:
    """Minutes and hours per group, split billable / non-billable and by approval state
    (draft, submitted, approved, rejected), with the totals of every entry counted once.
    JSON comes a page of groups at a time; CSV and XLSX exports stream every group (no row
    cap) and neutralise cells a spreadsheet would run as formulas."""
    first, last = _dates(since, until)
    groups = _group_by(group_by)
    query = ReportQuery(
        EntryFilter(scope, state=state, billable=billable, since=first, until=last), groups
    )
    if output == "json":
        with svc.views.read() as tx:
            found = report(tx, current_tables(tx, "timesheets"), query, cursor, limit)
        filters = {"from": since, "to": until, "state": state, "billable": billable}
        return reply(response, {"group_by": list(groups), "filters": filters, **found})
    if cursor is not None:
        raise InvalidParameterError("query", "cursor", "an export has every group: no cursor")
    columns = report_columns(groups)
    name = "-".join(("timesheets", *groups, *(d.isoformat() for d in (first, last) if d)))
    return attachment(response, name, output, columns, report_chunks(svc.views, query))
