"""Saved views: staff save view definitions, share them, and run them (`/views/saved`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api.as_of import events_until, foldable
from api.deps import (
    Ctx,
    CurrentCaller,
    CurrentUser,
    ExpectedVersion,
    ProjectScope,
    ServicesDep,
    fresh,
    written,
)
from api.params import Moment
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.users import Caller
from domain.user import Scope
from domain.views.saved_view import SYSTEM_VIEWS, SavedView, SavedViewNotFoundError
from projections.base import current_tables, iso
from projections.views.saved import get_saved_view, list_saved_views, shipped, teams_of
from projections.views.saved_query import ViewRun, items_to_fold, run_view, run_view_as_of

router = APIRouter(prefix="/api/v1/views/saved", tags=[Tag.VIEWS])

DEFINITION = (
    "What the view shows (see docs/views-and-reports.md): `kinds` (`ticket`, `task`),"
    " `item_types`, `filter` (a condition `{field, op, value}` or `{and: [...]}` /"
    " `{or: [...]}` of filters), `group_by` (up to 3 fields), `columns`, `sort` and"
    " `layout` (`flat`, `tree`, `status_board`, `gantt`, `calendar`)."
)
DEFINITION_EXAMPLE = {
    "kinds": ["ticket"],
    "filter": {
        "and": [
            {"field": "state", "op": "ne", "value": "finished"},
            {
                "or": [
                    {"field": "priority", "op": "gte", "value": "high"},
                    {"field": "sla_state", "op": "eq", "value": "breached"},
                ]
            },
        ]
    },
    "group_by": ["assignee", "priority"],
    "columns": ["number", "title", "status", "priority", "assignees"],
    "sort": "-updated_at",
    "layout": "flat",
}
SHARING = "Who else sees it: `users` and `teams` (ids) and `all_staff`; none: private."


class SavedViewCreate(Body):
    name: str = Field(min_length=1, max_length=120, examples=["Hot tickets"])
    definition: dict[str, Any] = Field(description=DEFINITION, examples=[DEFINITION_EXAMPLE])
    sharing: dict[str, Any] | None = Field(
        default=None, description=SHARING, examples=[{"teams": [], "users": [], "all_staff": True}]
    )


class SavedViewPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    definition: dict[str, Any] | None = Field(default=None, description=DEFINITION)
    sharing: dict[str, Any] | None = Field(default=None, description=SHARING)


class SavedViewSharing(BaseModel):
    users: list[UUID]
    teams: list[UUID]
    all_staff: bool


class SavedViewOut(BaseModel):
    id: UUID
    name: str
    owner_id: UUID | None = Field(description="Null for a system view.")
    system: bool = Field(description="Shipped with the install: changed by admins, never deleted.")
    definition: dict[str, Any]
    sharing: SavedViewSharing
    version: int = Field(description="0 for a system view as shipped.")
    created_at: str | None
    updated_at: str | None


class SavedViewList(BaseModel):
    items: list[SavedViewOut]


class SavedViewGroup(BaseModel):
    values: list[Any] = Field(description="The group's value of each `group_by` field.")
    count: int


class SavedViewItems(BaseModel):
    view: SavedViewOut
    as_of: str | None
    items: list[dict[str, Any]] = Field(
        description="`id`, `number`, `kind`, the view's columns, and with `group_by` the"
        " item's `group` (its values of those fields)."
    )
    groups: list[SavedViewGroup] | None = Field(
        description="On the first page of a grouped view: every group, in order, with its"
        " count (null on later pages and without `group_by`)."
    )
    next_cursor: str | None


def shown(view: SavedView) -> dict[str, Any]:
    """A view as the API shows it (the saved views view gives the same document)."""
    return {
        "id": str(view.id),
        "name": view.name,
        "owner_id": view.owner,
        "system": view.system,
        "definition": view.definition,
        "sharing": view.sharing,
        "version": view.version,
        "created_at": iso(view.created_on),
        "updated_at": iso(view.modified_on),
    }


def as_admin(caller: Caller) -> bool:
    """Whether the caller acts with an admin's powers: an admin, with the admin scope."""
    return caller.user.is_admin and Scope.ADMIN.value in caller.scopes


PATHS = {
    "view": "/api/v1/views/saved",
    "dashboard": "/api/v1/dashboards",
    "report": "/api/v1/reports/saved",
}


def answer_saved(
    svc: ServicesDep,
    response: Response,
    view_id: UUID,
    position: int,
    status: int = 200,
    kind: str = "view",
) -> OrjsonResponse:
    """A write's answer: the view (or dashboard) as recorded, with its version."""
    system = next((v for v in SYSTEM_VIEWS if v["id"] == str(view_id)), None)
    found = svc.saved_views.find(view_id, kind)
    if found is None and system is not None and kind == "view":
        written(response, position, 0)  # A system view a no-op left unrecorded
        return reply(response, shipped(system), status)
    if found is None:
        raise SavedViewNotFoundError(str(view_id), kind)
    written(response, position, found.version)
    extra = {"Location": f"{PATHS[kind]}/{found.id}"} if status == 201 else {}
    return reply(response, shown(found), status, **extra)


def visible_saved(
    svc: ServicesDep, user_id: str, view_id: UUID, kind: str = "view"
) -> dict[str, Any]:
    """The view (or dashboard) if the user may see it; 404 otherwise."""
    with svc.views.read() as tx:
        teams = teams_of(tx, current_tables(tx, "teams"), user_id)
        doc = get_saved_view(
            tx, current_tables(tx, "saved_views"), str(view_id), user_id, teams, kind
        )
    if doc is None:
        raise SavedViewNotFoundError(str(view_id), kind)
    return doc


@router.get(
    "",
    summary="List saved views",
    responses={200: {"model": SavedViewList}, **documented(401)},
    dependencies=[Depends(fresh("saved_views", "teams"))],
)
def list_views(svc: ServicesDep, user: CurrentUser, response: Response) -> OrjsonResponse:
    """The views you may see: the system views first, then your own and those shared with
    you, by name."""
    with svc.views.read() as tx:
        teams = teams_of(tx, current_tables(tx, "teams"), str(user.id))
        items = list_saved_views(tx, current_tables(tx, "saved_views"), str(user.id), teams)
    return reply(response, {"items": items})


@router.post(
    "",
    status_code=201,
    summary="Save a view",
    responses={201: {"model": SavedViewOut}, **documented(401, 403, 404, 422)},
)
def save_view(
    body: SavedViewCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Save a view of your own, private or shared (a user or team it names must exist:
    404)."""
    given = body.model_dump(exclude_none=True)
    result = svc.saved_views.save(given, ctx)
    return answer_saved(svc, response, result.id, result.position, 201)


@router.get(
    "/{view_id}",
    summary="Read a saved view",
    responses={200: {"model": SavedViewOut}, **documented(401, 404, 422)},
    dependencies=[Depends(fresh("saved_views", "teams"))],
)
def read_view(
    view_id: UUID, svc: ServicesDep, user: CurrentUser, response: Response
) -> OrjsonResponse:
    """A view you may see (404 otherwise)."""
    doc = visible_saved(svc, str(user.id), view_id)
    return reply(response, doc, ETag=f'"{doc["version"]}"')


@router.patch(
    "/{view_id}",
    summary="Rename, redefine or share a saved view",
    responses={200: {"model": SavedViewOut}, **documented(401, 403, 404, 412, 422)},
)
def change_view(
    view_id: UUID,
    body: SavedViewPatch,
    svc: ServicesDep,
    caller: CurrentCaller,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Change what the body gives, in one write: its owner, or an admin for a view shared
    with them or a system view (403 for others who see it; 404 for who does not)."""
    given = body.model_dump(exclude_unset=True)
    for part in ("name", "definition", "sharing"):
        if part in given and given[part] is None:
            del given[part]
    result = svc.saved_views.change(view_id, given, ctx, version, as_admin(caller))
    return answer_saved(svc, response, view_id, result.position)


@router.delete(
    "/{view_id}",
    status_code=204,
    summary="Delete a saved view",
    responses={204: {"description": "Deleted."}, **documented(401, 403, 404, 409, 412, 422)},
)
def delete_view(
    view_id: UUID,
    svc: ServicesDep,
    caller: CurrentCaller,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> Response:
    """Delete a view (as for changing it); a system view cannot be deleted (409)."""
    result = svc.saved_views.delete(view_id, ctx, version, as_admin(caller))
    answer = Response(status_code=204)
    written(answer, result.position)
    return answer


@router.get(
    "/{view_id}/items",
    summary="Run a saved view",
    responses={200: {"model": SavedViewItems}, **documented(401, 404, 422)},
    dependencies=[Depends(fresh("saved_views", "teams", "flat", "access"))],
)
def run_saved_view(
    view_id: UUID,
    svc: ServicesDep,
    user: CurrentUser,
    scope: ProjectScope,
    response: Response,
    as_of: Annotated[
        Moment | None,
        Query(description="RFC 3339 moment: the items as they were then."),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """The view's items you may see (a shared view never shows you more), grouped and
    sorted as it says, a page at a time; with `as_of`, as they were then."""
    doc = visible_saved(svc, str(user.id), view_id)
    run = ViewRun(
        definition=doc["definition"],
        user_id=str(user.id),
        visible_projects=None if scope.all_projects else scope.project_ids,
        visible_kinds=scope.kinds,
        cursor=cursor,
        limit=limit,
        as_of=iso(as_of) if as_of is not None else None,
    )
    if as_of is None:
        with svc.views.read() as tx:
            page = run_view(tx, current_tables(tx, "flat"), run)
    else:
        with svc.views.read() as tx, foldable():
            items = items_to_fold(tx, current_tables(tx, "flat"), run)
        # Folded after the read: no view connection is held while the log is read.
        page = run_view_as_of(items, events_until(svc.commands, as_of), run)
    return reply(
        response,
        {
            "view": doc,
            "as_of": run.as_of,
            "items": page.items,
            "groups": page.groups,
            "next_cursor": page.next_cursor,
        },
    )
