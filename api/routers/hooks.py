"""Zapier-style integration: REST hooks (`POST /api/v1/hooks` subscribes a target URL to one
public event, `DELETE` unsubscribes; a 410 from the target unsubscribes too) and polling
triggers (`GET /api/v1/triggers/{event}`: the newest events of a type, with stable ids).
Any staff token may use them; each sees what its user may see."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import Ctx, CurrentCaller, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.routers.events import PublicEvent, caller_feed_scope
from api.schemas import Body
from api.tags import Tag
from domain.integrations import EVENT_NAMES, sample
from domain.webhooks.subscriptions import MAX_URL
from projections.base import current_tables
from projections.integrations.feed_query import FeedScope, recent
from projections.integrations.webhooks import subscriptions

router = APIRouter(prefix="/api/v1", tags=[Tag.INTEGRATIONS])
EventName = Literal[EVENT_NAMES]  # type: ignore[valid-type]
HookId = Annotated[UUID, Path(description="The hook's id, as `POST /hooks` answered it.")]


class HookIn(Body):
    target_url: str = Field(
        max_length=MAX_URL, examples=["https://hooks.zapier.com/hooks/standard/1/abc/"]
    )
    event: EventName = Field(description="One public event type.")


class HookOut(BaseModel):
    id: UUID
    target_url: str
    event: str
    secret: str = Field(description="What its deliveries are signed with (Standard Webhooks).")


class HookShown(BaseModel):
    id: UUID
    target_url: str
    event: str
    owner: str = Field(description="The user who subscribed it.")
    active: bool
    disabled_reason: str | None


class HookList(BaseModel):
    items: list[HookShown]


def hook_shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "target_url": row["url"],
        "event": row["events"][0],
        "owner": row["owner"],
        "active": row["active"],
        "disabled_reason": row["disabled_reason"],
    }


@router.get(
    "/hooks",
    summary="List REST hooks",
    responses={200: {"model": HookList}, **documented(401, 403)},
    dependencies=[Depends(fresh("webhooks"))],
)
def list_hooks(svc: ServicesDep, caller: CurrentCaller, response: Response) -> OrjsonResponse:
    """The caller's REST hooks (an admin's: everyone's), oldest first, without secrets."""
    owner = None if caller.user.is_admin else str(caller.user.id)
    with svc.views.read() as tx:
        rows = subscriptions(tx, current_tables(tx, "webhooks"), "hook", owner)
    return reply(response, {"items": [hook_shown(row) for row in rows]})


@router.get(
    "/hooks/{hook_id}",
    summary="Read a REST hook",
    responses={200: {"model": HookShown}, **documented(401, 403, 404)},
)
def read_hook(hook_id: HookId, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """One REST hook (its owner's, or any for an admin; another's is 404), from the write
    model: whether it is active, and why not (a 410 from its target)."""
    hook = svc.webhooks.get(hook_id, "hook", ctx)
    row = {
        "id": hook.id, "url": hook.url, "events": hook.events, "owner": hook.owner,
        "active": hook.active, "disabled_reason": hook.disabled_reason,
    }  # fmt: skip
    return reply(response, hook_shown(row))


@router.post(
    "/hooks",
    status_code=201,
    summary="Subscribe a REST hook",
    responses={201: {"model": HookOut}, **documented(401, 403, 409, 422)},
    dependencies=[Depends(fresh("webhooks"))],
)
def subscribe_hook(
    body: HookIn, svc: ServicesDep, caller: CurrentCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Send `event` to `target_url` (a Zapier REST hook's subscribe step); its deliveries
    are those of webhooks (signed, retried), of the events the caller may see. A target
    that answers 410 Gone is unsubscribed. The URL is judged as a webhook's is (422). A
    user has at most 100 active hooks (409)."""
    with svc.views.read() as tx:
        mine = subscriptions(tx, current_tables(tx, "webhooks"), "hook", str(caller.user.id))
    hook, secret, position = svc.webhooks.subscribe(
        "hook", body.target_url, [body.event], None, ctx, sum(1 for h in mine if h["active"])
    )
    written(response, position)
    shown = {"id": hook.id, "target_url": hook.url, "event": hook.events[0], "secret": secret}
    return reply(response, shown, 201, Location=f"/api/v1/hooks/{hook.id}")


@router.delete(
    "/hooks/{hook_id}",
    status_code=204,
    summary="Unsubscribe a REST hook",
    responses=documented(401, 403, 404),
)
def unsubscribe_hook(hook_id: HookId, svc: ServicesDep, ctx: Ctx) -> Response:
    """Stop the hook (its owner's, or any for an admin)."""
    position = svc.webhooks.remove(hook_id, "hook", ctx)
    answer = Response(status_code=204)
    written(answer, position)
    return answer


@router.get(
    "/triggers/{event}",
    summary="Poll a trigger",
    responses={200: {"model": list[PublicEvent]}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("feed", "access"))],
)
def poll_trigger(
    event: Annotated[EventName, Path(description="A public event type.")],
    svc: ServicesDep,
    scope: Annotated[FeedScope, Depends(caller_feed_scope)],
    response: Response,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    sample_only: Annotated[
        bool,
        Query(alias="sample", description="Answer the type's sample instead (for set-up)."),
    ] = False,
) -> OrjsonResponse:
    """The newest events of this type the caller may see, newest first, as a plain array
    (Zapier's polling mode: each has a stable `id`, so a poll finds only the new ones).
    `sample=true` answers one sample event, whatever the log holds."""
    if sample_only:
        return reply(response, [sample(str(event))])
    with svc.views.read() as tx:
        items: list[dict[str, Any]] = recent(tx, current_tables(tx, "feed"), scope, event, limit)
    return reply(response, items)
