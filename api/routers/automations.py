"""Automation rules (admins only): per item type, a trigger, conditions on the item's fields
(all or any) and actions, run by the workflow worker on each committed event they fire on,
exactly once. Creating, editing, enabling, disabling, ordering and deleting a rule is each
an event. The dry run lists the existing items a rule's conditions hold for now."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.models import Context
from domain.values import Actor
from projections.base import current_tables
from projections.workflow.automations import candidates

router = APIRouter(prefix="/api/v1", tags=[Tag.WORKFLOW])
RuleId = Annotated[UUID, Path(description="The rule's id.")]
# How many of a type's items a dry run judges (the most recent first).
DRY_RUN_LIMIT = 2000

TRIGGER = (
    "`type`: item_created, field_changed (with `field`: status, state, priority, assignee,"
    " team, project, folder or title; optional `from` and `to`), customer_replied,"
    " staff_replied, internal_message, or time_elapsed (`hours`, `since`: created,"
    " status_changed, customer_replied or staff_replied; optional `without`: any_change,"
    " staff_replied, customer_replied or status_changed)."
)
TRIGGER_EXAMPLE = {"type": "field_changed", "field": "priority", "to": "urgent"}
CONDITIONS = (
    "`match`: all or any; `rules`: each a `field` (project, organisation, requester,"
    " channel, priority, status, state, item_type, assignee, team, text, sla_state), an"
    " `operator` (is, is_not, in, not_in, contains, not_contains, is_set, is_not_set) and a"
    " `value` (a list for in and not_in; none for is_set and is_not_set)."
)
CONDITIONS_EXAMPLE = {
    "match": "all",
    "rules": [{"field": "status", "operator": "is", "value": "New"}],
}
ACTIONS = (
    "Each a `type` and its fields: set_status (`status`), set_priority (`priority`), assign"
    " (`user_ids`: the assignees become these), set_team (`team_id`), move (`project_id`,"
    " `folder_id`), add_follower (`user_id`), reply and internal_message (`body`, a"
    " template: `{{ item.title }}`…), apply_sla (`policy_id`; null: the default policy),"
    " send_email (`to`: addresses or requester, assignees, followers; `subject`, `body`),"
    " convert_to_task (last)."
)
ACTIONS_EXAMPLE = [{"type": "set_priority", "priority": "high"}]


class RuleCreate(Body):
    name: str = Field(min_length=1, max_length=100, examples=["Escalate urgent tickets"])
    item_type: str = Field(min_length=1, max_length=40, examples=["ticket"])
    enabled: bool | None = Field(default=None, description="Default true.")
    trigger: dict[str, Any] = Field(description=TRIGGER, examples=[TRIGGER_EXAMPLE])
    conditions: dict[str, Any] | None = Field(
        default=None, description=CONDITIONS, examples=[CONDITIONS_EXAMPLE]
    )
    actions: list[dict[str, Any]] = Field(description=ACTIONS, examples=[ACTIONS_EXAMPLE])


class RulePatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    enabled: bool | None = None
    trigger: dict[str, Any] | None = Field(default=None, description=TRIGGER)
    conditions: dict[str, Any] | None = Field(default=None, description=CONDITIONS)
    actions: list[dict[str, Any]] | None = Field(default=None, description=ACTIONS)
    position: int | None = Field(
        default=None, ge=0, description="Its place in its type's order (0: it runs first)."
    )


class RuleOut(BaseModel):
    id: UUID
    name: str
    item_type: str
    enabled: bool
    trigger: dict[str, Any]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    position: int = Field(description="Its place in its type's order (0: it runs first).")
    since: str = Field(
        description="When it took effect (created, or last enabled): it never acts on what"
        " happened before. Empty for a shipped rule, which acts from the start."
    )


class RuleList(BaseModel):
    items: list[RuleOut]


class DryRunItem(BaseModel):
    number: int
    title: str
    status: str


class DryRun(BaseModel):
    rule_id: UUID
    items: list[DryRunItem] = Field(description="The items its conditions hold for now.")
    examined: int = Field(description="How many of the type's items were judged.")
    complete: bool = Field(
        description=f"Whether every item of the type was judged (at most {DRY_RUN_LIMIT},"
        " the most recent first, are)."
    )


@router.get(
    "/automations",
    summary="List automation rules",
    responses={200: {"model": RuleList}, **documented(401, 403, 422)},
)
def list_rules(
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
    item_type: Annotated[
        str | None,
        Query(min_length=1, max_length=40, description="Only this item type's rules."),
    ] = None,
) -> OrjsonResponse:
    """Every rule (or one type's), each type's in the order they run; the shipped rules
    until admins change them. Admins only."""
    return reply(response, {"items": svc.automations.rules(item_type, ctx)})


@router.post(
    "/automations",
    status_code=201,
    summary="Create an automation rule",
    responses={201: {"model": RuleOut}, **documented(401, 403, 404, 422)},
)
def create_rule(
    body: RuleCreate, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A rule of an item type, last in its order; it acts on what happens from now on.
    What it names (statuses of its type, users, teams, project, folder, SLA policy) must
    exist, and its templates render. Admins only."""
    rule, position = svc.automations.create(body.given(), ctx)
    written(response, position)
    response.headers["Location"] = f"/api/v1/automations/{rule['id']}"
    return reply(response, rule, 201)


@router.get(
    "/automations/{rule_id}",
    summary="Read an automation rule",
    responses={200: {"model": RuleOut}, **documented(401, 403, 404, 422)},
)
def read_rule(
    rule_id: RuleId, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """One rule. Admins only."""
    return reply(response, svc.automations.get(str(rule_id), ctx))


@router.patch(
    "/automations/{rule_id}",
    summary="Edit, enable, disable or reorder an automation rule",
    responses={200: {"model": RuleOut}, **documented(401, 403, 404, 422)},
)
def change_rule(
    rule_id: RuleId,
    body: RulePatch,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Change what the body gives; the rest stays. A rule enabled again acts on what
    happens from then on. Admins only."""
    given = body.given()
    position = given.pop("position", None)
    rule, at = svc.automations.change(str(rule_id), given, ctx, position)
    written(response, at)
    return reply(response, rule)


@router.post(
    "/automations/{rule_id}/enable",
    summary="Enable an automation rule",
    responses={200: {"model": RuleOut}, **documented(401, 403, 404, 422)},
)
def enable_rule(
    rule_id: RuleId, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """It acts on what happens from now on (not on what happened while it was disabled).
    Admins only."""
    rule, at = svc.automations.change(str(rule_id), {"enabled": True}, ctx)
    written(response, at)
    return reply(response, rule)


@router.post(
    "/automations/{rule_id}/disable",
    summary="Disable an automation rule",
    responses={200: {"model": RuleOut}, **documented(401, 403, 404, 422)},
)
def disable_rule(
    rule_id: RuleId, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """It stops acting; it is kept, and may be enabled again. Admins only."""
    rule, at = svc.automations.change(str(rule_id), {"enabled": False}, ctx)
    written(response, at)
    return reply(response, rule)


@router.delete(
    "/automations/{rule_id}",
    status_code=204,
    summary="Delete an automation rule",
    responses=documented(401, 403, 404, 422),
)
def delete_rule(rule_id: RuleId, svc: ServicesDep, caller: AdminCaller, ctx: Ctx) -> Response:
    """It acts no more; what it did stays in the items' histories. Admins only."""
    response = Response(status_code=204)
    written(response, svc.automations.delete(str(rule_id), ctx))
    return response


@router.post(
    "/automations/{rule_id}/dry-run",
    summary="List the items an automation rule would match now",
    responses={200: {"model": DryRun}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("automation_clock"))],
)
def dry_run(
    rule_id: RuleId, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """The existing items of the rule's type (the most recent first) its conditions hold
    for now, whatever its trigger; nothing is changed. Admins only."""
    ctx = Context(actor=Actor.user(caller.user.id), correlation_id="dry-run")
    rule = svc.automations.get(str(rule_id), ctx)
    with svc.views.read() as tx:
        numbers = candidates(
            tx, current_tables(tx, "automation_clock"), rule["item_type"], DRY_RUN_LIMIT + 1
        )
    examined = numbers[:DRY_RUN_LIMIT]
    items = svc.automations.dry_run(str(rule_id), examined, ctx)
    return reply(
        response,
        {
            "rule_id": rule["id"],
            "items": items,
            "examined": len(examined),
            "complete": len(numbers) <= DRY_RUN_LIMIT,
        },
    )
