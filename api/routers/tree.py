"""The tree view: portfolios, customer folders, projects, folders and items, with counts."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api.as_of import events_until, foldable
from api.deps import ProjectScope, ServicesDep, fresh
from api.params import Moment
from api.problems import InvalidParameterError
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from projections.base import current_tables, iso
from projections.tree import TreeProjection
from projections.tree_query import NodeRef, place_ids, tree_children
from projections.views.as_of import AS_OF_LIMIT, TooManyToFold, candidates, folded

router = APIRouter(prefix="/api/v1/views", tags=[Tag.VIEWS])


class TreeCounts(BaseModel):
    not_started: int
    in_progress: int
    finished: int
    total: int


class TreeNode(BaseModel):
    kind: Literal["root", "portfolio", "customer", "project", "folder", "item"]
    item_kind: Literal["ticket", "task"] | None = None
    id: str | None
    ref: str | None = None
    name: str
    number: int | None = None
    title: str | None = None
    state: str | None = None
    counts: TreeCounts
    has_children: bool


class TreePage(BaseModel):
    node: TreeNode
    items: list[TreeNode]
    next_cursor: str | None
    as_of: str | None = Field(default=None, description="With `as_of`: the moment read.")


def _parent(text: str) -> NodeRef:
    try:
        ref = NodeRef.parse(text)
        if ref.id is not None:
            UUID(ref.id)
    except ValueError as error:
        raise InvalidParameterError(
            "query", "parent", "expected root or <portfolio|customer|project|folder>:<id>"
        ) from error
    return ref


@router.get(
    "/tree",
    summary="The tree",
    responses={200: {"model": TreePage}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("tree", "access", "flat"))],
)
def tree(
    svc: ServicesDep,
    # Every staff user has the tickets app, the tasks app or both: each sees the tree, with
    # the items (and counts) of the kinds their apps show.
    scope: ProjectScope,
    response: Response,
    parent: Annotated[
        str,
        Query(
            max_length=100,
            description="`root`, `portfolio:<id>`, `customer:<id>`, `project:<id>` or"
            " `folder:<id>` (a child's `ref`).",
            examples=["root"],
        ),
    ] = "root",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    as_of: Annotated[
        Moment | None,
        Query(description="RFC 3339 moment: the tree as it was then."),
    ] = None,
) -> OrjsonResponse:
    """A node and a page of its children (containers by kind and name, then items by
    number), each with its items per state inside and beneath it, for the projects you
    may see and the item kinds (tickets, tasks) your apps show; pass `next_cursor` back
    as `cursor`. With `as_of`, the tree as it was then: its places, and the items you may
    see now as they were."""
    ref = _parent(parent)
    if as_of is None:
        with svc.views.read() as tx:
            page = tree_children(tx, current_tables(tx, "tree"), ref, scope, cursor, limit)
        return reply(response, page)
    visible = None if scope.all_projects else scope.project_ids
    with svc.views.read() as tx, foldable():
        places = [UUID(i) for i in place_ids(tx, current_tables(tx, "tree"))]
        if len(places) > AS_OF_LIMIT:
            raise TooManyToFold()
        flat = current_tables(tx, "flat")
        budget = AS_OF_LIMIT - len(places)  # (Places and items count alike.)
        items = candidates(tx, flat, visible, scope.kinds, scope.kinds, iso(as_of), None, budget)
    # Folded after the read: no view connection is held while the log is read.
    streams = [svc.commands.stream(place, until=as_of) for place in places]
    events = events_until(svc.commands, as_of)
    with folded(TreeProjection(), items, events, streams) as (memory, t):
        page = tree_children(memory, t, ref, scope, cursor, limit)
    return reply(response, {**page, "as_of": iso(as_of)})
