"""A staff member's notifications (`/api/v1/me/notifications`): read them, mark them read,
and choose per kind how to be told. They also arrive live on `GET /api/v1/me/stream`
(event `notification`). docs/notifications.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from orjson import loads
from pydantic import BaseModel, Field, StrictBool

from api.deps import Ctx, CurrentCaller, ServicesDep, fresh, written
from api.problems import InvalidParameterError
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.streams import parse_id
from api.tags import Tag
from commands.chat.service import in_conversations
from domain.notifications import ID_PATTERN, KINDS, MAX_READ_IDS
from projections.access import staff_scope
from projections.base import current_tables
from projections.live.reading import notifications_of, visible
from projections.live.view import LiveProjection

router = APIRouter(prefix="/api/v1/me", tags=[Tag.ME])
# How many unread notifications are counted at most.
UNREAD_CAP = 1000
NotificationId = Field(pattern=ID_PATTERN, max_length=40)


class NotificationOut(BaseModel):
    id: str
    kind: str = Field(description=", ".join(KINDS))
    read: bool
    at: str
    item: dict[str, Any] | None = None
    chat_id: str | None = None
    project_id: str | None = None


class NotificationList(BaseModel):
    items: list[NotificationOut]
    unread: int = Field(description=f"How many are unread (counted up to {UNREAD_CAP}).")
    next: str | None = Field(description="`before` for the next (older) page.")


class MarkRead(Body):
    ids: list[Annotated[str, NotificationId]] = Field(
        default_factory=list, max_length=MAX_READ_IDS, description="These notifications."
    )
    up_to: Annotated[str, NotificationId] | None = Field(
        default=None, description="And every one up to this id (all of them: the newest's)."
    )


class Channels(BaseModel):
    in_app: bool
    email: bool
    push: bool


Preferences = dict[str, Channels]


@router.get(
    "/notifications",
    summary="My notifications",
    responses={200: {"model": NotificationList}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh(LiveProjection.name, "access"))],
)
def my_notifications(
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    unread: Annotated[bool, Query(description="Only the unread ones.")] = False,
    before: Annotated[str | None, Query(description="Older than this id (paging).")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> OrjsonResponse:
    """Newest first, each about what you may still see."""
    older = None
    if before is not None:
        older = parse_id(before)
        if older is None:
            raise InvalidParameterError("query", "before", "is not a notification id")
    user_id = str(caller.user.id)
    chats = in_conversations(svc.chats.app, caller.user)
    page: list[dict[str, Any]] = []
    following: str | None = None
    with svc.views.read() as tx:
        t = current_tables(tx, LiveProjection.name)
        scope = staff_scope(tx, user_id).under(svc.company.current()["apps"])
        # Read on past what may no longer be shown, until the page is full.
        while True:
            scanned = notifications_of(tx, t, user_id, unread=unread, before=older, limit=limit)
            used = 0
            for used, row in enumerate(scanned, 1):  # noqa: B007 - how far it read
                if visible(row, scope, chats):
                    page.append(row)
                    if len(page) == limit:
                        break
            more = len(scanned) == limit or used < len(scanned)
            if len(page) == limit:
                last = page[-1]
                following = f"{last['position']}.{last['seq']}" if more else None
                break
            if len(scanned) < limit:
                break
            older = (int(scanned[-1]["position"]), int(scanned[-1]["seq"]))
        waiting = notifications_of(tx, t, user_id, unread=True, limit=UNREAD_CAP)
        count = sum(1 for r in waiting if visible(r, scope, chats))
    items = [_document(r) for r in page]
    return reply(response, {"items": items, "unread": count, "next": following})


def _document(row: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = loads(row["payload"])
    return {**found, "read": bool(row["read"])}


@router.post(
    "/notifications/read",
    status_code=204,
    summary="Mark notifications read",
    responses=documented(401, 403, 422),
)
def mark_read(body: MarkRead, svc: ServicesDep, ctx: Ctx, caller: CurrentCaller) -> Response:
    """These `ids`, and/or every one up to `up_to` (send the newest's id to mark all)."""
    position = svc.notifications.read(caller.user.id, body.ids, body.up_to, ctx)
    answer = Response(status_code=204)
    written(answer, position)
    return answer


@router.get(
    "/notification-preferences",
    summary="How I am told",
    responses={200: {"model": Preferences}, **documented(401, 403)},
)
def my_preferences(svc: ServicesDep, caller: CurrentCaller, response: Response) -> OrjsonResponse:
    """Every kind with its channels: `in_app`, `email`, `push`."""
    return reply(response, svc.notifications.preferences(caller.user.id))


@router.patch(
    "/notification-preferences",
    summary="Change how I am told",
    responses={200: {"model": Preferences}, **documented(401, 403, 422)},
)
def change_preferences(
    body: dict[str, dict[str, StrictBool]],
    svc: ServicesDep,
    ctx: Ctx,
    caller: CurrentCaller,
    response: Response,
) -> OrjsonResponse:
    """`{kind: {channel: true|false}}`: what the body names changes, the rest stays. An
    unknown kind or channel is 422 and nothing changes."""
    found, position = svc.notifications.prefer(caller.user.id, body, ctx)
    written(response, position)
    return reply(response, found)


class PushKeys(BaseModel):
    p256dh: str = Field(max_length=200, description="The browser's P-256 public key.")
    auth: str = Field(max_length=100, description="The browser's auth secret.")


class PushSubscriptionCreate(Body):
    endpoint: str = Field(max_length=2000, description="The push service's URL (https).")
    keys: PushKeys


class PushSubscriptionOut(BaseModel):
    id: str
    endpoint: str


class PushSubscriptions(BaseModel):
    public_key: str = Field(description="The VAPID key to subscribe with (`applicationServerKey`).")
    items: list[PushSubscriptionOut]


@router.get(
    "/push-subscriptions",
    summary="My push subscriptions",
    responses={200: {"model": PushSubscriptions}, **documented(401, 403)},
)
def my_push_subscriptions(
    svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """The browsers and devices your notifications are pushed to, and the install's public
    VAPID key to subscribe another."""
    items = svc.push.subscriptions(caller.user.id)
    return reply(response, {"public_key": svc.push.config.public_key, "items": items})


@router.post(
    "/push-subscriptions",
    status_code=201,
    summary="Push my notifications to a browser or device",
    responses={201: {"model": PushSubscriptionOut}, **documented(401, 403, 422)},
)
def subscribe_push(
    body: PushSubscriptionCreate,
    svc: ServicesDep,
    ctx: Ctx,
    caller: CurrentCaller,
    response: Response,
) -> OrjsonResponse:
    """A `PushSubscription` as the browser gives it (`endpoint`, `keys.p256dh`,
    `keys.auth`); the same endpoint again renews its keys. Each notification you want
    pushed (see the preferences) goes to it once."""
    found, position = svc.push.subscribe(
        caller.user.id, body.endpoint, body.keys.p256dh, body.keys.auth, ctx
    )
    written(response, position)
    response.headers["Location"] = f"/api/v1/me/push-subscriptions/{found}"
    return reply(response, {"id": found, "endpoint": body.endpoint}, 201)


@router.delete(
    "/push-subscriptions/{subscription_id}",
    status_code=204,
    summary="Stop pushing to a browser or device",
    responses=documented(401, 403, 404, 422),
)
def unsubscribe_push(
    subscription_id: Annotated[str, Path(max_length=40)],
    svc: ServicesDep,
    ctx: Ctx,
    caller: CurrentCaller,
) -> Response:
    """No more pushes there (404 if it is not yours)."""
    position = svc.push.unsubscribe(caller.user.id, subscription_id, ctx)
    answer = Response(status_code=204)
    written(answer, position)
    return answer
