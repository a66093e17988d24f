"""Webhooks (admins): subscriptions to the public events, their delivery log and manual
redelivery. Deliveries are signed per Standard Webhooks and sent by the workers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from domain.integrations import EVENT_NAMES
from domain.webhooks.subscriptions import MAX_URL, Webhook, WebhookNotFoundError
from projections.base import current_tables
from projections.integrations.feed_query import event_at
from projections.integrations.webhooks import deliveries, delivery, subscriptions

router = APIRouter(prefix="/api/v1/webhooks", tags=[Tag.INTEGRATIONS])
WebhookId = Annotated[UUID, Path(description="The webhook's id.")]
DeliveryId = Annotated[UUID, Path(description="The delivery's id (from the delivery log).")]
Events = Annotated[
    list[Annotated[str, Field(max_length=100)]],
    Field(
        max_length=len(EVENT_NAMES),
        description=f"Public event types: {', '.join(EVENT_NAMES)}.",
        examples=[["item.created", "item.status_changed"]],
    ),
]
Secret = Annotated[
    str | None,
    Field(
        max_length=200,
        description="A Standard Webhooks secret (`whsec_` and 24 to 64 bytes in base64); left"
        " out, one is made. It is returned once, in this answer.",
    ),
]


class WebhookIn(Body):
    url: str = Field(max_length=MAX_URL, examples=["https://hooks.example.com/ledgerdesk"])
    events: Events
    secret: Secret = None


class WebhookPatch(Body):
    url: str | None = Field(default=None, max_length=MAX_URL)
    events: Events | None = None
    active: bool | None = Field(
        default=None, description="Switch deliveries off or on (on again after a disable)."
    )
    secret: Secret = Field(
        default=None,
        description="A new secret, or `null` for one made here (returned once); left out,"
        " the secret stays.",
    )


class WebhookOut(BaseModel):
    id: UUID
    url: str
    events: list[str]
    active: bool
    disabled_reason: str | None = Field(description="Why it is off, when ledgerdesk turned it off.")
    secret: str | None = Field(
        default=None, description="Only when it was just made or changed: keep it now."
    )


class WebhookList(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    attempt: int
    url: str
    started_at: str
    manual: bool
    status: int | None
    error: str | None
    duration_ms: int | None
    request_headers: dict[str, str] | None
    response: str | None


class DeliveryOut(BaseModel):
    id: UUID
    event_id: str
    event_type: str
    state: str = Field(description="`pending`, `failing` (retrying), `delivered` or `abandoned`.")
    attempts: int
    last_status: int | None
    request_body: dict[str, Any] | None
    attempt_log: list[AttemptOut]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    next_before: int | None


class RedeliveryOut(BaseModel):
    outcome: str = Field(description="`delivered`, `failed`, or `abandoned` (410 from a hook).")
    attempt: int | None
    status: int | None
    error: str | None
    duration_ms: int | None


def shown(webhook: Webhook, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": webhook.events,
        "active": webhook.active,
        "disabled_reason": webhook.disabled_reason,
        **({"secret": secret} if secret is not None else {}),
    }


@router.post(
    "",
    status_code=201,
    summary="Subscribe a webhook",
    responses={201: {"model": WebhookOut}, **documented(401, 403, 422)},
)
def subscribe(
    body: WebhookIn, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Send these public events to `url`, signed with the secret (returned this once). A
    URL that leads to a loopback, private, link-local or otherwise non-public address is
    422, unless LEDGERDESK_WEBHOOK_ALLOWED_HOSTS names it. Admins only."""
    webhook, secret, position = svc.webhooks.subscribe(
        "webhook", body.url, body.events, body.secret, ctx
    )
    written(response, position)
    location = f"/api/v1/webhooks/{webhook.id}"
    return reply(response, shown(webhook, secret), 201, Location=location)


@router.get(
    "",
    summary="List webhooks",
    responses={200: {"model": WebhookList}, **documented(401, 403)},
    dependencies=[Depends(fresh("webhooks"))],
)
def list_webhooks(svc: ServicesDep, caller: AdminCaller, response: Response) -> OrjsonResponse:
    """Every webhook, oldest first (never their secrets). Admins only."""
    with svc.views.read() as tx:
        items = subscriptions(tx, current_tables(tx, "webhooks"), "webhook")
    keep = ("id", "url", "events", "active", "disabled_reason")
    return reply(response, {"items": [{k: item[k] for k in keep} for item in items]})


@router.get(
    "/{webhook_id}",
    summary="Read a webhook",
    responses={200: {"model": WebhookOut}, **documented(401, 403, 404)},
)
def read_webhook(
    webhook_id: WebhookId, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """One webhook, from the write model. Admins only."""
    return reply(response, shown(svc.webhooks.get(webhook_id, "webhook")))


@router.patch(
    "/{webhook_id}",
    summary="Change a webhook",
    responses={200: {"model": WebhookOut}, **documented(401, 403, 404, 409, 422)},
)
def change_webhook(
    webhook_id: WebhookId,
    body: WebhookPatch,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Change the URL (judged as at subscription), the events, `active`, or the secret
    (`null`: a new one, returned once). Admins only."""
    changes = body.model_dump(exclude_unset=True)
    webhook, secret, position = svc.webhooks.change(webhook_id, changes, ctx)
    written(response, position)
    return reply(response, shown(webhook, secret))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Remove a webhook",
    responses=documented(401, 403, 404),
)
def remove_webhook(
    webhook_id: WebhookId, svc: ServicesDep, caller: AdminCaller, ctx: Ctx
) -> Response:
    """Nothing more is delivered; the delivery log stays in the history. Admins only."""
    position = svc.webhooks.remove(webhook_id, "webhook", ctx)
    answer = Response(status_code=204)
    written(answer, position)
    return answer


@router.get(
    "/{webhook_id}/deliveries",
    summary="Read a webhook's delivery log",
    responses={200: {"model": DeliveryList}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("webhooks", "feed"))],
)
def list_deliveries(
    webhook_id: WebhookId,
    svc: ServicesDep,
    caller: AdminCaller,
    response: Response,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="`next_before` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """The deliveries, newest first: each event's request (headers as sent, without the
    signature; the body), every attempt's status or error and how long it took. Admins
    only."""
    svc.webhooks.get(webhook_id, "webhook")
    with svc.views.read() as tx:
        t = current_tables(tx, "webhooks")
        feed = current_tables(tx, "feed")
        items = deliveries(tx, t, str(webhook_id), before, limit)
        for item in items:
            event = event_at(tx, feed, int(item["event_id"]))
            item["request_body"] = (
                None if event is None else {k: v for k, v in event.items() if k != "position"}
            )
    following = items[-1]["position"] if len(items) == limit else None
    for item in items:
        del item["position"]
    return reply(response, {"items": items, "next_before": following})


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redelivery",
    summary="Deliver again",
    responses={200: {"model": RedeliveryOut}, **documented(401, 403, 404)},
    dependencies=[Depends(fresh("webhooks", "feed"))],
)
def redeliver(
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Send the delivery's event once more, now, with the same `webhook-id` (receivers
    know it), whatever came of it before; recorded as a manual attempt. Admins only."""
    svc.webhooks.get(webhook_id, "webhook")
    with svc.views.read() as tx:
        found = delivery(tx, current_tables(tx, "webhooks"), str(delivery_id))
        event = (
            None
            if found is None or found["webhook_id"] != str(webhook_id)
            else event_at(tx, current_tables(tx, "feed"), int(found["event_id"]))
        )
    if event is None:
        raise WebhookNotFoundError(delivery_id, "delivery")
    done = svc.deliveries.deliver(webhook_id, event, ctx.correlation_id, manual=True)
    if done.position is not None:
        written(response, done.position)
    sent = done.sent
    return reply(
        response,
        {
            "outcome": done.outcome,
            "attempt": done.attempt,
            "status": sent.status if sent else None,
            "error": sent.error if sent else None,
            "duration_ms": sent.duration_ms if sent else None,
        },
    )
