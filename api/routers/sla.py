"""SLA policies (admins change them; any staff member reads them): per priority, the
first-response, next-response and resolution targets, in the policy's business hours."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, CurrentCaller, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body, SlaPolicyRef
from api.tags import Tag
from domain.item_numbers import MAX_ITEM_NUMBER

router = APIRouter(prefix="/api/v1", tags=[Tag.WORKFLOW])
PolicyId = Annotated[UUID, Path(description="The policy's id.")]
Number = Annotated[
    int, Path(ge=1, le=MAX_ITEM_NUMBER, description="The item's number.", examples=[1042])
]
Minutes = Annotated[int | None, Field(ge=1, le=366 * 24 * 60)]
Span = Annotated[list[str], Field(min_length=2, max_length=2, examples=[["09:00", "17:00"]])]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class MetricTargets(Body):
    first_response: Minutes = Field(default=None, description="Minutes of business time.")
    next_response: Minutes = None
    resolution: Minutes = None


class TargetGrid(Body):
    low: MetricTargets | None = None
    normal: MetricTargets | None = None
    high: MetricTargets | None = None
    urgent: MetricTargets | None = None


class BusinessHoursIn(Body):
    time_zone: str = Field(max_length=60, examples=["Europe/Paris"])
    weekly: dict[Weekday, list[Span]] = Field(
        description='Opening spans per weekday, local time; "24:00" ends a span at midnight.',
        examples=[{"monday": [["09:00", "12:30"], ["13:30", "17:00"]]}],
    )
    holidays: list[str] = Field(
        default_factory=list, max_length=400, description="Closed all day (YYYY-MM-DD)."
    )


class SlaPolicyCreate(Body):
    name: str = Field(min_length=1, max_length=100, examples=["Standard support"])
    targets: TargetGrid | None = Field(
        default=None,
        description="Minutes per priority and metric; a cell left out or null: no target (on"
        " PATCH: only the cells given change; a priority given as null clears its row). The"
        " grid itself is not null.",
    )
    business_hours: BusinessHoursIn | None = Field(
        default=None,
        description="When the clock runs; null: around the clock (UTC). Given whole (on"
        " PATCH too: holidays left out are gone).",
    )
    pause_while_waiting: bool | None = Field(
        default=None,
        description="The clock stops while an item waits on its customer (not null).",
    )
    warn_at: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="The share of a target after which it warns (not null).",
    )
    default: bool | None = Field(
        default=None,
        description="New items get this policy (only one policy is the default; not null).",
    )


class SlaPolicyPatch(SlaPolicyCreate):
    name: str | None = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=100, description="Not null."
    )


class BusinessHoursOut(BaseModel):
    time_zone: str
    weekly: dict[str, list[list[str]]]
    holidays: list[str]


class SlaPolicyOut(BaseModel):
    id: UUID
    name: str
    targets: dict[str, dict[str, int | None]]
    business_hours: BusinessHoursOut | None
    pause_while_waiting: bool
    warn_at: float
    default: bool
    retired: bool


class SlaPolicyList(BaseModel):
    items: list[SlaPolicyOut]


def _given(body: SlaPolicyCreate) -> dict[str, Any]:
    """What the body sets. Null clears a target (a cell, or a priority's whole row) and
    makes `business_hours` around the clock; anything else may not be null."""
    return body.given(nullable=frozenset({"business_hours"}))


@router.get(
    "/sla-policies",
    summary="List the SLA policies",
    responses={200: {"model": SlaPolicyList}, **documented(401)},
)
def list_sla_policies(
    svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """Every policy, retired ones too, by name."""
    return reply(response, {"items": svc.sla.policies()})


@router.post(
    "/sla-policies",
    status_code=201,
    summary="Define an SLA policy",
    responses={201: {"model": SlaPolicyOut}, **documented(401, 403, 422)},
)
def define_sla_policy(
    body: SlaPolicyCreate, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A new policy: its targets per priority, its business hours, whether waiting on the
    customer pauses the clock, when it warns, and whether new items get it. Admins only."""
    policy_id, position = svc.sla.define(_given(body), ctx)
    written(response, position)
    response.headers["Location"] = f"/api/v1/sla-policies/{policy_id}"
    return reply(response, svc.sla.policy(policy_id), 201)


@router.get(
    "/sla-policies/{policy_id}",
    summary="Read an SLA policy",
    responses={200: {"model": SlaPolicyOut}, **documented(401, 404)},
)
def read_sla_policy(
    policy_id: PolicyId, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """One policy, retired or not."""
    return reply(response, svc.sla.policy(str(policy_id)))


@router.patch(
    "/sla-policies/{policy_id}",
    summary="Change an SLA policy",
    responses={200: {"model": SlaPolicyOut}, **documented(401, 403, 404, 422)},
)
def change_sla_policy(
    policy_id: PolicyId,
    body: SlaPolicyPatch,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Change what the body gives; in `targets`, only the cells given (null clears one).
    Admins only."""
    written(response, svc.sla.change(str(policy_id), _given(body), ctx))
    return reply(response, svc.sla.policy(str(policy_id)))


@router.delete(
    "/sla-policies/{policy_id}",
    status_code=204,
    summary="Retire an SLA policy",
    responses=documented(401, 403, 404),
)
def retire_sla_policy(
    policy_id: PolicyId, svc: ServicesDep, caller: AdminCaller, ctx: Ctx
) -> Response:
    """No item gets it from now on, and it is no longer the default; it stays in the list
    (`retired`). Admins only."""
    response = Response(status_code=204)
    written(response, svc.sla.retire(str(policy_id), ctx))
    return response


# --- an item's SLA ---------------------------------------------------------------------------


class MetricOut(BaseModel):
    started_at: str = Field(description="When this round's clock started.")
    due_at: str | None = Field(description="When it falls due (null while paused).")
    warn_at: str | None
    answered_at: str | None
    paused: bool = Field(description="Waiting on the customer: no due time until it ends.")
    state: Literal["on_track", "warning", "breached", "met"]
    priority: str | None = Field(
        default=None, description="The priority it is judged by (null: recorded before this was)."
    )


class ItemSlaOut(BaseModel):
    policy: SlaPolicyRef | None = Field(description="The policy the item is held to, if any.")
    state: Literal["on_track", "warning", "breached", "met"] | None = Field(
        description="The worst state of its targets."
    )
    next_due: str | None = Field(description="The next warning or due time.")
    metrics: dict[Literal["first_response", "next_response", "resolution"], MetricOut]


class ItemSlaPut(Body):
    policy_id: UUID | None = Field(description="The policy to hold the item to; null: none.")


@router.get(
    "/items/{number}/sla",
    summary="Read an item's SLA",
    responses={200: {"model": ItemSlaOut}, **documented(401, 403, 404, 422)},
)
def read_item_sla(
    number: Number, svc: ServicesDep, caller: CurrentCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """The policy the item is held to and where each of its targets stood when it last
    changed (as recorded: a warning or a breach is recorded by the worker's tick)."""
    return reply(response, svc.sla_items.of(number, ctx))


@router.put(
    "/items/{number}/sla",
    summary="Hold an item to an SLA policy",
    responses={200: {"model": ItemSlaOut}, **documented(401, 403, 404, 409, 422)},
)
def apply_item_sla(
    number: Number,
    body: ItemSlaPut,
    svc: ServicesDep,
    caller: CurrentCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Hold the item to a policy as it is now (its targets measured from the item's whole
    history), or to none. A retired policy is refused (422)."""
    written(response, svc.sla_items.apply(number, body.policy_id, ctx))
    return reply(response, svc.sla_items.of(number, ctx))
