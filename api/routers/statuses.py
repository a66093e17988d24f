"""Statuses per item type (admins add, rename, recolour, reorder and retire them; any staff
member reads them), each mapped to not started, in progress or finished, one default per
state."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, CurrentCaller, ServicesDep, fresh, written
from api.problems import located
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from projections.base import current_tables
from projections.workflow.statuses import items_in

router = APIRouter(prefix="/api/v1", tags=[Tag.WORKFLOW])
StatusId = Annotated[UUID, Path(description="The status's id.")]
ItemType = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        description="An item type's key (`ticket`, `task`, `bug_report`, …).",
        examples=["ticket"],
    ),
]
StateName = Literal["not_started", "in_progress", "finished"]


class StatusCreate(Body):
    name: str = Field(min_length=1, max_length=60, examples=["Waiting on supplier"])
    state: StateName = Field(description="What the status means for the item.")
    color: str | None = Field(default=None, examples=["#1e88e5"], description="#RRGGBB.")
    position: int | None = Field(
        default=None,
        ge=0,
        description="Its place in the list (0: first); default: after"
        " the last status of its state.",
    )
    default: bool | None = Field(
        default=None, description="Items reaching its state without a status named take it."
    )
    waits_on_customer: bool | None = Field(
        default=None,
        description="An item in it waits on its customer (an SLA policy's pause); default false.",
    )


class StatusPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    state: StateName | None = Field(
        default=None, description="A status keeps its state: only the same one is accepted."
    )
    color: str | None = None
    position: int | None = Field(default=None, ge=0)
    default: bool | None = Field(
        default=None,
        description="true: the default of its state (false is refused: make"
        " another status the default instead).",
    )
    waits_on_customer: bool | None = None


class StatusOut(BaseModel):
    id: UUID
    item_type: str
    name: str
    state: StateName
    color: str
    position: int
    default: bool
    retired: bool
    replaced_by: UUID | None = Field(
        default=None, description="A retired status's replacement, if it had one."
    )
    waits_on_customer: bool = Field(
        default=False, description="Items in it wait on their customer (an SLA's pause)."
    )
    former_names: list[str] = Field(
        default_factory=list, description="What it was called before, oldest first."
    )


class StatusList(BaseModel):
    items: list[StatusOut]


@router.get(
    "/statuses",
    summary="List an item type's statuses",
    responses={200: {"model": StatusList}, **documented(401, 404, 422)},
)
def list_statuses(
    item_type: ItemType, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """The type's statuses in order (retired ones too, marked), as admins configured them;
    the shipped ones until they do."""
    return reply(response, {"items": svc.statuses.of_type(item_type)})


@router.post(
    "/statuses",
    status_code=201,
    summary="Add a status",
    responses={201: {"model": StatusOut}, **documented(401, 403, 404, 422)},
)
def add_status(
    item_type: ItemType,
    body: StatusCreate,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """A new status of the type, in a state. Its name is unique among the type's statuses
    in use. Admins only."""
    with located(item_type=("query", "item_type")):
        status_id, position = svc.statuses.add(item_type, body.given(), ctx)
    written(response, position)
    response.headers["Location"] = f"/api/v1/statuses/{status_id}"
    return reply(response, svc.statuses.status(status_id), 201)


@router.get(
    "/statuses/{status_id}",
    summary="Read a status",
    responses={200: {"model": StatusOut}, **documented(401, 404, 422)},
)
def read_status(
    status_id: StatusId, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """One status of any type, retired or not."""
    return reply(response, svc.statuses.status(str(status_id)))


@router.patch(
    "/statuses/{status_id}",
    summary="Rename, recolour, reorder a status, or make it its state's default",
    responses={200: {"model": StatusOut}, **documented(401, 403, 404, 422)},
)
def change_status_definition(
    status_id: StatusId,
    body: StatusPatch,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Change what the body gives. A renamed status's items take the new name (the workflow
    worker records it on each, as an event). Admins only."""
    with located(item_type=("path", "status_id"), status=("path", "status_id")):
        written(response, svc.statuses.change(str(status_id), body.given(), ctx))
    return reply(response, svc.statuses.status(str(status_id)))


@router.delete(
    "/statuses/{status_id}",
    status_code=204,
    summary="Retire a status",
    responses=documented(401, 403, 404, 422),
    dependencies=[Depends(fresh("flat"))],
)
def retire_status(
    status_id: StatusId,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    replacement: Annotated[
        UUID | None,
        Query(
            description="The status (of the same type, in use) its items move to; required"
            " while any item is in it."
        ),
    ] = None,
) -> Response:
    """No item takes it from now on; the items in it move to `replacement` (the workflow
    worker records each move as an event). It stays listed (`retired`). Admins only."""

    def in_use(item_type: str, name: str) -> int:
        with svc.views.read() as tx:
            return len(items_in(tx, current_tables(tx, "flat"), item_type, [name]))

    response = Response(status_code=204)
    chosen = str(replacement) if replacement else None
    with located(
        replacement=("query", "replacement"),
        item_type=("path", "status_id"),
        state=("path", "status_id"),
        default=("path", "status_id"),
    ):
        written(response, svc.statuses.retire(str(status_id), chosen, in_use, ctx))
    return response
