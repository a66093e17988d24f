"""Tickets: open, read (now or as of a moment), change field by field, history."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from api.deps import Ctx, ExpectedVersion, ServicesDep, TicketScope, fresh, written
from api.params import HISTORY_HEADERS, Filters, History, HistoryPage, Moment
from api.responses import OrjsonResponse, documented, reply
from api.routers.views import flat_page
from api.schemas import (
    FlatPage,
    HistoryEntry,
    TaskOut,
    TaskPatch,
    TicketCreate,
    TicketOut,
    TicketPatch,
)
from api.tags import Tag
from commands.errors import TicketNotFoundError
from commands.models import (
    ChangeTicketStatus,
    CommandResult,
    EditTicketDescription,
    MoveTicket,
    OpenTicket,
    ReprioritiseTicket,
    RetitleTicket,
    TicketCommand,
)
from domain.item_numbers import MAX_ITEM_NUMBER
from projections.base import current_tables
from projections.db import Tx
from projections.item_access import visible_ticket
from projections.item_history import history_cursor, history_of
from projections.sla.view import summary_of_item
from projections.ticket_detail import fold, get_ticket

router = APIRouter(prefix="/api/v1/tickets", tags=[Tag.TICKETS])
Number = Annotated[
    int, Path(ge=1, le=MAX_ITEM_NUMBER, description="The ticket's item number.", examples=[1042])
]


def item_at(svc: ServicesDep, number: int, version: int) -> dict[str, Any]:
    """The ticket or task as its events say at `version` (a write's answer never waits on
    a view, and shows exactly the version its ETag names, even if another write followed)."""
    return svc.answers.item(number, version)


def answer_write(
    svc: ServicesDep, response: Response, result: CommandResult, status: int = 200, **extra: str
) -> OrjsonResponse:
    assert result.number is not None
    written(response, result.position, result.version)
    return reply(response, item_at(svc, result.number, result.version), status, **extra)


@router.post(
    "",
    status_code=201,
    summary="Open a ticket",
    responses={201: {"model": TicketOut}, **documented(401, 404, 409, 422)},
)
def open_ticket(
    body: TicketCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Open a ticket; it gets the next item number. Answers with the ticket."""
    result = svc.commands.open_ticket(OpenTicket(**body.model_dump()), ctx)
    return answer_write(svc, response, result, 201, Location=f"/api/v1/tickets/{result.number}")


@router.get(
    "",
    summary="List tickets",
    responses={200: {"model": FlatPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("flat", "access"))],
)
def list_tickets(
    svc: ServicesDep, scope: TicketScope, response: Response, filters: Filters
) -> OrjsonResponse:
    """The tickets you may see (never converted ones: they are tasks now), with the flat
    view's filters and sort, a page at a time; pass `next_cursor` back as `cursor`."""
    return flat_page(svc, response, filters.query(scope, "ticket"))


@router.get(
    "/{number}",
    summary="Read a ticket",
    responses={200: {"model": TicketOut | TaskOut}, **documented(401, 404, 422)},
    dependencies=[Depends(fresh("ticket_detail", "access", "sla"))],
)
def read_ticket(
    number: Number,
    svc: ServicesDep,
    scope: TicketScope,
    response: Response,
    as_of: Annotated[
        Moment | None,
        Query(description="RFC 3339 moment: the ticket as it was then (404 before it existed)."),
    ] = None,
) -> OrjsonResponse:
    """Read a ticket with its people, conversation and attachments, now or as of a moment.
    A ticket converted to a task answers 308 to the task (so does every path under it)."""
    if as_of is not None:
        events = svc.commands.ticket_events(number)
        visible_ticket(fold(events), number, scope)  # Scoped by where it is now, as history is.
        doc = fold(e for e in events if e.timestamp <= as_of)
        if doc is None:
            raise TicketNotFoundError(number)
        doc["sla"] = svc.sla_items.summary_as_of(UUID(doc["id"]), as_of)
        return reply(response, doc, ETag=f'"{doc["version"]}"')
    with svc.views.read() as tx:
        doc = visible_ticket(
            get_ticket(tx, current_tables(tx, "ticket_detail"), number), number, scope
        )
        doc["sla"] = summary_of_item(tx, current_tables(tx, "sla"), doc["id"])
    return reply(response, doc, ETag=f'"{doc["version"]}"')


@router.patch(
    "/{number}",
    summary="Change a ticket's fields",
    responses={200: {"model": TicketOut | TaskOut}, **documented(401, 404, 409, 412, 422)},
)
def change_ticket(
    number: Number,
    body: TicketPatch,
    svc: ServicesDep,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Change title, description, priority, status or place (project, folder): one event
    per changed field, none if nothing changed. With If-Match, a stale version gets 412."""
    result = svc.commands.change_ticket(number, item_commands(svc, body, ctx), ctx, version)
    return answer_write(svc, response, result)


def item_commands(svc: ServicesDep, body: TicketPatch | TaskPatch, ctx: Ctx) -> list[Any]:
    """The commands for the fields every item kind has, in a PATCH body."""
    commands: list[TicketCommand] = []
    if body.project_id is not None or body.folder_id is not None:
        target = body.project_id or svc.projects.folder_project(body.folder_id, ctx)
        commands.append(MoveTicket(project_id=target, folder_id=body.folder_id))
    if body.title is not None:
        commands.append(RetitleTicket(title=body.title))
    if body.description is not None:
        commands.append(EditTicketDescription(description=body.description))
    if body.priority is not None:
        commands.append(ReprioritiseTicket(priority=body.priority))
    if body.status is not None:
        commands.append(ChangeTicketStatus(status=body.status))
    return commands


@router.get(
    "/{number}/history",
    summary="A ticket's history",
    responses={
        200: {"model": list[HistoryEntry], "headers": HISTORY_HEADERS},
        **documented(401, 404, 422),
    },
    dependencies=[Depends(fresh("item_history", "ticket_detail", "access"))],
)
def ticket_history(
    number: Number, svc: ServicesDep, scope: TicketScope, response: Response, page: History
) -> OrjsonResponse:
    """The ticket's events in log order (position, type, time, actor, changes), a page at a
    time: `X-Next-Cursor` (and `Link`) name the next page."""
    with svc.views.read() as tx:
        doc = get_ticket(tx, current_tables(tx, "ticket_detail"), number)
        return history_page(tx, response, visible_ticket(doc, number, scope), page)


def history_page(
    tx: Tx, response: Response, doc: dict[str, Any], page: HistoryPage
) -> OrjsonResponse:
    """One page of the history of the item `doc`, with the next page's cursor and link."""
    t = current_tables(tx, "item_history")
    entries, following = history_of(tx, t, doc, history_cursor(page.cursor), page.limit)
    if following is not None:
        kind = doc["kind"]
        query = urlencode({"cursor": following, "limit": page.limit})
        link = f"/api/v1/{kind}s/{doc['number']}/history?{query}"
        response.headers["X-Next-Cursor"] = following
        response.headers["Link"] = f'<{link}>; rel="next"'
    return reply(response, entries)
