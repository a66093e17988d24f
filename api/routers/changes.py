"""What changed between two dates (`GET /changes`): every item created, changed, moved,
finished, reopened or converted in a range, with each field's value before and after and
what caused it, in a scope (a project, a customer, a folder or a saved view) — as JSON a
page at a time, or as a CSV or XLSX report of every change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api.deps import CurrentUser, ProjectScope, ServicesDep, fresh
from api.exports import EXPORT_TYPES, PDF, PdfPage, attachment, brand_of
from api.problems import InvalidParameterError
from api.responses import documented, reply
from api.tags import Tag
from domain.changes import CAUSES, CHANGE_KINDS
from domain.values import utc_text
from domain.views.saved_view import SavedViewNotFoundError
from projections.access import StaffScope
from projections.base import current_tables
from projections.db import Tx, ViewDatabase
from projections.reports.changes import (
    EXPORT_COLUMNS,
    PDF_WEIGHTS,
    ChangesQuery,
    changes_page,
    export_rows,
)
from projections.tree_query import customer_project_ids, folder_and_subfolders
from projections.views.saved import get_saved_view, teams_of
from projections.views.saved_query import ViewRun, matching_ids

router = APIRouter(prefix="/api/v1", tags=[Tag.REPORTS])
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SCOPE = re.compile(r"^(project|customer|folder|view):(.+)$")
EXPORT_PAGE = 1000


class ChangeItem(BaseModel):
    id: UUID = Field(description="The item now (a ticket converted since: its task).")
    number: int
    title: str = Field(description="Its title after the change.")


class ChangeField(BaseModel):
    field: str
    before: Any
    after: Any


class ChangeBy(BaseModel):
    actor: str
    cause: str = Field(description=f"One of {', '.join(CAUSES)}.")


class ChangeOut(BaseModel):
    position: int = Field(description="The event's place in the log.")
    occurred_at: str
    item: ChangeItem
    number: int = Field(description="The item's number then (a ticket's, if converted since).")
    kind: Literal["ticket", "task"] = Field(description="What the item was then.")
    change: str = Field(description=f"One of {', '.join(CHANGE_KINDS)}.")
    type: str = Field(description="The event, e.g. `Ticket.StatusChanged`.")
    by: ChangeBy
    fields: list[ChangeField] = Field(description="Each field it changed, before and after.")


class ChangesPage(BaseModel):
    scope: str | None
    since: str = Field(alias="from")
    until: str = Field(alias="to")
    items: list[ChangeOut]
    next_cursor: str | None


def moment(name: str, text: str, end: bool) -> str:
    """A query moment as stored time text: a date is its start (UTC), or for `to`, the
    start of the next day (so that `to` names the last day counted); a date-time needs its
    offset. From the year 1000 on (stored times are fixed-width text)."""
    try:
        if ISO_DATE.match(text):
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            found = datetime.combine(day, datetime.min.time(), UTC)
        else:
            found = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if found.tzinfo is None:
                raise InvalidParameterError("query", name, "a date-time needs its offset (Z)")
        found = found.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidParameterError(
            "query", name, "expected a date (2026-12-01) or a date-time with its offset"
        ) from None
    if found.year < 1000:
        raise InvalidParameterError("query", name, "a moment from the year 1000 on")
    return utc_text(found)


def _query(
    tx: Tx, scope_text: str | None, user_id: str, staff: StaffScope, since: str, until: str
) -> ChangesQuery:
    query = ChangesQuery(
        since=since,
        until=until,
        visible_projects=None if staff.all_projects else staff.project_ids,
        visible_kinds=staff.kinds,
    )
    if scope_text is None:
        return query
    kind, ident = _scope(scope_text)
    if kind == "project":
        return replace(query, projects=frozenset({ident}))
    tree = current_tables(tx, "tree")
    if kind == "folder":
        return replace(query, folders=folder_and_subfolders(tx, tree, ident))
    if kind == "customer":
        return replace(query, projects=customer_project_ids(tx, tree, ident))
    teams = teams_of(tx, current_tables(tx, "teams"), user_id)
    view = get_saved_view(tx, current_tables(tx, "saved_views"), ident, user_id, teams)
    if view is None:
        raise SavedViewNotFoundError(ident)
    run = ViewRun(view["definition"], user_id, query.visible_projects, query.visible_kinds)
    items = matching_ids(run, current_tables(tx, "flat"))
    return replace(query, items=items if items is not None else ("SELECT NULL", []))


def _scope(text: str) -> tuple[str, str]:
    """`project:<id>` and the like: the kind of scope and the id (422 otherwise)."""
    matched = SCOPE.match(text)
    try:
        if matched is not None:
            return matched.group(1), str(UUID(matched.group(2)))
    except ValueError:
        pass
    raise InvalidParameterError(
        "query", "scope", "expected project:<id>, customer:<id>, folder:<id> or view:<id>"
    )


@router.get(
    "/changes",
    summary="What changed between two dates",
    responses={
        200: {
            "model": ChangesPage,
            "description": "The changes as JSON, or a CSV or XLSX attachment (`format`).",
            "content": {**EXPORT_TYPES, PDF: {}},
        },
        **documented(401, 404, 422),
    },
    dependencies=[Depends(fresh("item_changes", "flat", "access", "tree", "saved_views", "teams"))],
)
def changes(
    svc: ServicesDep,
    user: CurrentUser,
    staff: ProjectScope,
    response: Response,
    since: Annotated[
        str, Query(alias="from", max_length=40, description="A date (its start) or date-time.")
    ],
    until: Annotated[
        str,
        Query(alias="to", max_length=40, description="A date (through its end) or date-time."),
    ],
    scope: Annotated[
        str | None,
        Query(
            max_length=100,
            description="`project:<id>`, `customer:<id>`, `folder:<id>` (with its subfolders)"
            " or `view:<id>` (a saved view); none: every item you may see.",
        ),
    ] = None,
    output: Annotated[
        Literal["json", "csv", "xlsx", "pdf"],
        Query(
            alias="format",
            description="csv, xlsx and pdf: every change, one row per field (the PDF under"
            " the company's branding).",
        ),
    ] = "json",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """Every change to the items you may see in the range, in time order: items created,
    changed, moved, finished, reopened or converted, each field before and after, and its
    cause (a user, a customer, an automation rule, an email, an import, the system)."""
    first, last = moment("from", since, end=False), moment("to", until, end=True)
    if last <= first:
        raise InvalidParameterError("query", "to", "`to` is not after `from`")
    with svc.views.read() as tx:
        query = _query(tx, scope, str(user.id), staff, first, last)
        if output == "json":
            items, following = changes_page(
                tx,
                current_tables(tx, "item_changes"),
                current_tables(tx, "flat"),
                replace(query, cursor=cursor, limit=limit),
            )
    if output == "json":
        body = {"scope": scope, "from": first, "to": last, "items": items}
        return reply(response, {**body, "next_cursor": following})
    if cursor is not None:
        raise InvalidParameterError("query", "cursor", "an export has every change: no cursor")
    name = f"changes-{since[:10]}-{until[:10]}"
    asked = f"From {since} to {until}" + (f", {scope}" if scope else "") + f" · by {user.email}"
    pdf = PdfPage(brand_of(svc), "What changed", asked, PDF_WEIGHTS)
    chunks = _export_pages(svc.views, query)
    return attachment(response, name, output, EXPORT_COLUMNS, chunks, pdf)


def _export_pages(views: ViewDatabase, query: ChangesQuery) -> Iterator[list[dict[str, Any]]]:
    """Every change as export rows (one per field changed), a page of changes at a time,
    each page read in its own transaction after the last one's key."""
    cursor: str | None = None
    while True:
        with views.read() as tx:
            page, cursor = changes_page(
                tx,
                current_tables(tx, "item_changes"),
                current_tables(tx, "flat"),
                replace(query, cursor=cursor, limit=EXPORT_PAGE),
            )
        yield [row for change in page for row in export_rows(change)]
        if cursor is None:
            return
