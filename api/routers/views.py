"""Projected views: the flat list of items."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from api.deps import ProjectScope, ServicesDep, fresh
from api.responses import OrjsonResponse, documented, reply
from api.schemas import FlatPage
from api.tags import Tag
from domain.values import Priority, State
from projections.base import current_tables
from projections.flat import FlatQuery, list_items

router = APIRouter(prefix="/api/v1/views", tags=[Tag.VIEWS])
Sort = Literal[
    "number",
    "-number",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "priority",
    "-priority",
    "title",
    "-title",
    "status",
    "-status",
]


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
    status: Annotated[str | None, Query(max_length=100, examples=["Open"])] = None,
    state: State | None = None,
    assignee: Annotated[str | None, Query(description="A user id.")] = None,
    priority: Priority | None = None,
    project: Annotated[UUID | None, Query(description="A project id.")] = None,
    folder: Annotated[UUID | None, Query(description="A folder id.")] = None,
    team: Annotated[UUID | None, Query(description="A team id.")] = None,
    kind: Annotated[
        Literal["ticket", "task"] | None, Query(description="Only tickets or only tasks.")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in title or text.")] = None,
    sort: Sort = "-number",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """The items (tickets and tasks, as your apps allow) you may see, filtered and sorted,
    a page at a time; pass `next_cursor` back as `cursor`."""
    query = FlatQuery(
        status=status,
        state=state.value if state else None,
        assignee=assignee,
        priority=priority.value if priority else None,
        project=str(project) if project else None,
        folder=str(folder) if folder else None,
        team=str(team) if team else None,
        kind=kind,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
        visible_projects=None if scope.all_projects else scope.project_ids,
        visible_kinds=scope.kinds,
    )
    with svc.views.read() as tx:
        items, next_cursor = list_items(tx, current_tables(tx, "flat"), query)
    return reply(response, {"items": items, "next_cursor": next_cursor})
