"""Real-time streams (Server-Sent Events) and typing indicators.

`GET /api/v1/me/stream` sends a staff member what they should see live (their chats'
messages and changes, the waiting queue if they take chats); `GET
/api/v1/portal/chats/{id}/stream` sends a customer their side of one chat. Each event's id
is `<position>.<seq>`: reconnect with `Last-Event-ID` and the stream goes on right after
it, in any API process. Typing indicators (`typing`) carry no id: they are never kept.
docs/streams.md is the protocol for client authors.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.deps import CurrentCaller, ServicesDep
from api.portal_deps import portal_bearer
from api.problems import InvalidParameterError
from api.responses import documented
from api.routers.chats import KnownCustomer, customer_token, messenger_on
from api.streams import Key, LiveRow, StreamHub, Subscription, parse_id
from api.tags import Tag
from commands.chat.service import in_conversations
from commands.metrics import stream_open
from commands.models import Context
from domain.chat.chats import ChatClosedError
from domain.errors import DomainError, PermissionDeniedError
from projections.access import StaffScope, staff_scope
from projections.live.reading import visible
from projections.live.view import QUEUE, chat_audience, user_audience

router = APIRouter(prefix="/api/v1")
ChatId = Annotated[UUID, Path(description="The chat's id.")]
LastEventId = Annotated[
    str | None,
    Header(
        description="The id of the last event you received (`<position>.<seq>`): the stream"
        " goes on right after it.",
    ),
]
SSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "A stream of events."}
}


def _after(last_event_id: str | None) -> Key | None:
    if last_event_id is None:
        return None
    key = parse_id(last_event_id)
    if key is None:
        raise InvalidParameterError(
            "header", "Last-Event-ID", "is not an event id of this stream (<position>.<seq>)"
        )
    return key


@router.get(
    "/me/stream",
    tags=[Tag.ME],
    summary="My live events",
    response_class=EventSourceResponse,
    responses={**SSE, **documented(401, 403, 422)},
)
async def my_stream(
    request: Request, svc: ServicesDep, caller: CurrentCaller, last_event_id: LastEventId = None
) -> EventSourceResponse:
    """Server-Sent Events: your chats' messages and changes, and — if you take customer
    conversations — the waiting queue (`chat.waiting`, `chat.claimed`, their messages).
    Without `Last-Event-ID` it starts now, with a `stream.ready` event whose id you can
    resume from. A comment line every few seconds keeps the connection open."""
    user = caller.user
    audiences = [user_audience(str(user.id))]
    agent = None
    if await anyio.to_thread.run_sync(in_conversations, svc.chats.app, user):
        audiences.append(QUEUE)
        agent = str(user.id)  # on duty for chats while the stream is open
    token = request.headers.get("authorization", "").partition(" ")[2].strip()

    takes_chats = agent is not None

    def still() -> None:
        """Still signed in, and still as able to take chats as when the stream began (else
        it ends: the reconnect gets the audiences the user has now)."""
        now = svc.accounts.authenticate(token)
        if in_conversations(svc.chats.app, now.user) != takes_chats:
            raise PermissionDeniedError("your access to customer conversations changed")

    after = _after(last_event_id)
    render = _Render(
        svc.streams, False, str(user.id), chats=agent is not None, company=svc.company.current
    )
    return await _stream(request, svc, audiences, after, still, render, agent)


@router.get(
    "/portal/chats/{chat_id}/stream",
    tags=[Tag.PORTAL],
    summary="A chat's live events (customer)",
    response_class=EventSourceResponse,
    responses={**SSE, **documented(401, 404, 422)},
    dependencies=[Depends(messenger_on)],
)
async def customer_stream(
    request: Request,
    chat_id: ChatId,
    svc: ServicesDep,
    who: KnownCustomer,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(portal_bearer)],
    last_event_id: LastEventId = None,
) -> EventSourceResponse:
    """Server-Sent Events: the chat's messages (yours too), agents joining and leaving,
    its item, its end, and the agent typing. Without `Last-Event-ID` it starts from the
    chat's beginning: the whole transcript, then what comes."""
    await anyio.to_thread.run_sync(svc.chats.customer_check, chat_id, who)
    credential = customer_token(request, credentials, svc.public_url) or ""

    def still() -> None:
        """The portal and the messenger still on, the session (or chat token) still good,
        the chat theirs."""
        svc.company.require_app("portal", "portal")
        svc.company.require_app("messenger", "messenger")
        if isinstance(who, Context):
            svc.portal.authenticate(credential)
        svc.chats.customer_check(chat_id, who)

    after = _after(last_event_id) or (0, 0)
    audiences = [chat_audience(str(chat_id))]
    return await _stream(request, svc, audiences, after, still, _Render(svc.streams, True))


@router.post(
    "/portal/chats/{chat_id}/typing",
    status_code=204,
    tags=[Tag.PORTAL],
    summary="Typing in a chat (customer)",
    responses=documented(401, 404, 409, 422),
    dependencies=[Depends(messenger_on)],
)
def customer_typing(chat_id: ChatId, svc: ServicesDep, who: KnownCustomer) -> Response:
    """Tells the chat's agents (or the queue, while it waits) that you are typing. Nothing
    is kept: a `typing` event on their streams, now or never."""
    chat = svc.chats.customer_check(chat_id, who)
    if chat.closed:
        raise ChatClosedError
    staff = [user_audience(a) for a in chat.agents] or [QUEUE]
    _hub(svc).publish(staff, "typing", {"chat_id": str(chat_id), "who": "customer"})
    return Response(status_code=204)


@router.post(
    "/chats/{chat_id}/typing",
    status_code=204,
    tags=[Tag.CHATS],
    summary="Typing in a chat",
    responses=documented(401, 403, 404, 409, 422),
    dependencies=[Depends(messenger_on)],
)
def staff_typing(chat_id: ChatId, svc: ServicesDep, caller: CurrentCaller) -> Response:
    """Tells the chat's customer (and its other agents) that you are typing."""
    chat = svc.chats.staff_check(chat_id, caller.user)
    if chat.closed:
        raise ChatClosedError
    me = str(caller.user.id)
    others = [user_audience(a) for a in chat.agents if a != me]
    payload = {"chat_id": str(chat_id), "who": "staff", "user_id": me}
    _hub(svc).publish([chat_audience(str(chat_id)), *others], "typing", payload)
    return Response(status_code=204)


def _hub(svc: Any) -> StreamHub:
    hub: StreamHub = svc.streams
    return hub


async def _stream(
    request: Request,
    svc: Any,
    audiences: list[str],
    after: Key | None,
    still: Callable[[], None],
    render: _Render,
    agent: str | None = None,
) -> EventSourceResponse:
    hub = _hub(svc)
    sub = await anyio.to_thread.run_sync(
        hub.subscribe, audiences, after, asyncio.get_running_loop(), agent
    )
    return EventSourceResponse(
        _events(hub, sub, render, still, svc.stream_heartbeat_seconds, announce=after is None),
        ping=svc.stream_heartbeat_seconds,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    hub: StreamHub,
    sub: Subscription,
    render: _Render,
    still: Callable[[], None],
    recheck: float,
    *,
    announce: bool,
) -> AsyncIterator[ServerSentEvent]:
    """The stream's events until the client goes (or may no longer see them)."""
    checked = time.monotonic()
    with stream_open("customer" if render.customer else "staff"):
        try:
            if announce:
                yield ServerSentEvent(
                    id=f"{sub.cursor[0]}.{sub.cursor[1]}", event="stream.ready", data="{}"
                )
            while True:
                sub.ready.clear()
                rows = await anyio.to_thread.run_sync(hub.take, sub)
                if rows:
                    await anyio.to_thread.run_sync(render.prepare, rows)
                    for row in filter(render.keep, rows):
                        yield ServerSentEvent(
                            id=row.id, event=row.name, data=_json(render.payload(row))
                        )
                while sub.ephemeral:
                    name, payload = sub.ephemeral.popleft()
                    yield ServerSentEvent(event=name, data=_json(render.ephemeral(payload)))
                if time.monotonic() - checked >= recheck:  # however busy the stream is
                    checked = time.monotonic()
                    try:
                        await anyio.to_thread.run_sync(still)
                    except DomainError:
                        return  # Signed out, or no longer allowed: the stream ends.
                if rows:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sub.ready.wait(), recheck)
        finally:
            # Off the event loop (it may write presence), and not awaited: the stream is over.
            asyncio.get_running_loop().run_in_executor(None, hub.unsubscribe, sub)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class _Render:
    """A row as its reader sees it: staff as names (and ids, for staff); a customer never
    sees a staff member's id."""

    def __init__(
        self,
        hub: StreamHub,
        customer: bool,
        user_id: str | None = None,
        chats: bool = False,
        company: Callable[[], dict[str, dict[str, bool]]] | None = None,
    ) -> None:
        self.hub = hub
        self.company = company
        self.customer = customer
        self.user_id = user_id
        self.chats = chats
        self.known: dict[str, str] = {}
        self.scope: StaffScope | None = None

    def prepare(self, rows: list[LiveRow]) -> None:
        """Read the names the rows need (in a worker thread)."""
        ids = {
            str(found)
            for row in rows
            for found in (_author(row).get("user_id"), row.payload.get("user_id"))
            if found
        }
        self.known = self.hub.names(ids)
        if self.user_id is not None and any(r.name == "notification" for r in rows):
            with self.hub.views.read() as tx:
                scope = staff_scope(tx, self.user_id)
            # The company's switches as they are now: a switched-off app's items are told of
            # to nobody.
            self.scope = scope.under(self.company()["apps"]) if self.company else scope

    def keep(self, row: LiveRow) -> bool:
        """A notification about what its reader may no longer see is not sent, nor a chat's
        rows to staff who no longer take chats."""
        if not self.customer and row.name.startswith("chat.") and not self.chats:
            return False
        if row.name != "notification" or self.scope is None:
            return True
        p = row.payload
        item = p.get("item") or {}
        about = {
            "kind": p["kind"],
            "project_id": p.get("project_id"),
            "item_kind": item.get("kind"),
        }
        return visible(about, self.scope, self.chats)

    def payload(self, row: LiveRow) -> dict[str, Any]:
        p = dict(row.payload)
        author = _author(row)
        if author.get("kind") == "staff":
            ident = str(author["user_id"])
            named = {"kind": "staff", "name": self.known.get(ident, "")}
            p["message"] = {
                **p["message"],
                "author": named if self.customer else {**named, "user_id": ident},
            }
        user_id = None
        if row.name.startswith("chat."):  # (a join request's `user_id` is no agent)
            user_id = p.pop("user_id", None) if self.customer else p.get("user_id")
        if user_id:
            agent = {"name": self.known.get(user_id, "")}
            p["agent"] = agent if self.customer else {**agent, "user_id": user_id}
        if self.customer:
            p.pop("team_id", None)
        return p

    def ephemeral(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.customer:
            return {k: v for k, v in payload.items() if k != "user_id"}
        return payload


def _author(row: LiveRow) -> dict[str, Any]:
    message = row.payload.get("message")
    author = message.get("author") if isinstance(message, dict) else None
    return author if isinstance(author, dict) else {}
