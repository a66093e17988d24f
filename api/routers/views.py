"""Projected views: the flat list of items."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.as_of import events_until, foldable
from api.deps import ProjectScope, ServicesDep, fresh
from api.params import Filters, Moment
from api.responses import OrjsonResponse, documented, reply
from api.schemas import FlatPage
from api.tags import Tag
from projections.base import current_tables, iso
from projections.flat import FlatQuery, list_items
from projections.views.as_of import candidates, folded_flat

router = APIRouter(prefix="/api/v1/views", tags=[Tag.VIEWS])


@router.get(
    "/flat",
    summary="The flat list",
    responses={200: {"model": FlatPage}, **documented(401, 422)},
    dependencies=[Depends(fresh("flat", "access"))],
)
def flat(
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    filters: Filters,
    kind: Annotated[
        Literal["ticket", "task"] | None, Query(description="Only tickets or only tasks.")
    ] = None,
    as_of: Annotated[
        Moment | None,
        Query(description="RFC 3339 moment: the items as they were then."),
    ] = None,
) -> OrjsonResponse:
    """The items (tickets and tasks, as your apps allow) you may see, filtered and sorted,
    a page at a time; pass `next_cursor` back as `cursor`. With `as_of`, the items you may
    see now as they were then (folded from their events)."""
    query = filters.query(scope, kind)
    if as_of is None:
        return flat_page(svc, response, query)
    kinds = frozenset({kind} if kind else {"ticket", "task"})
    with svc.views.read() as tx, foldable():
        stored = current_tables(tx, "flat")
        items = candidates(
            tx, stored, query.visible_projects, query.visible_kinds, kinds, iso(as_of)
        )
    # Folded after the read: no view connection is held while the log is read.
    with folded_flat(items, events_until(svc.commands, as_of)) as (memory, folded):
        found, next_cursor = list_items(memory, folded, query)
    return reply(response, {"items": found, "next_cursor": next_cursor, "as_of": iso(as_of)})


def flat_page(svc: ServicesDep, response: Response, query: FlatQuery) -> OrjsonResponse:
    """One page of the flat view for `query`."""
    with svc.views.read() as tx:
        items, next_cursor = list_items(tx, current_tables(tx, "flat"), query)
    return reply(response, {"items": items, "next_cursor": next_cursor})
