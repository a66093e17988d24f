"""Projected views: the flat list of items."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.deps import ProjectScope, ServicesDep, fresh
from api.params import Filters
from api.responses import OrjsonResponse, documented, reply
from api.schemas import FlatPage
from api.tags import Tag
from projections.base import current_tables
from projections.flat import FlatQuery, list_items

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
) -> OrjsonResponse:
    """The items (tickets and tasks, as your apps allow) you may see, filtered and sorted,
    a page at a time; pass `next_cursor` back as `cursor`."""
    return flat_page(svc, response, filters.query(scope, kind))


def flat_page(svc: ServicesDep, response: Response, query: FlatQuery) -> OrjsonResponse:
    """One page of the flat view for `query`."""
    with svc.views.read() as tx:
        items, next_cursor = list_items(tx, current_tables(tx, "flat"), query)
    return reply(response, {"items": items, "next_cursor": next_cursor})
