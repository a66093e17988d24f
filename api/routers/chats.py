"""The messenger. Customers open a chat and go on with it under `/api/v1/portal/chats`
(signed in with a portal session, or — where admins allow it — anonymous with a name and an
address, then holding the chat's own `ldk_` token); staff with the tickets app list chats,
claim, answer, transfer and close them, and turn one into a ticket or task, or link it to an
item, under `/api/v1/chats`. A chat an outsider may not see is 404."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from api.deps import ClientAddress, Correlation, Ctx, CurrentCaller, ServicesDep, fresh, written
from api.portal_deps import portal_bearer
from api.read_your_writes import PAGES_SESSION_COOKIE, READING
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.chat.service import (
    CHAT_TOKEN_PREFIX,
    ConvertChat,
    OpenChat,
    PostChatMessage,
    TransferChat,
)
from commands.errors import InvalidTokenError
from commands.log_context import note
from commands.models import Context
from domain.errors import PermissionDeniedError
from domain.item_numbers import MAX_ITEM_NUMBER
from domain.values import Actor
from projections.base import current_tables
from projections.chats import list_chats


def messenger_on(svc: ServicesDep) -> None:
    """The messenger is switched on (else its routes are 404, saying so)."""
    svc.company.require_app("messenger", "messenger")


router = APIRouter(prefix="/api/v1", tags=[Tag.CHATS], dependencies=[Depends(messenger_on)])
ChatId = Annotated[UUID, Path(description="The chat's id.")]
Number = Annotated[int, Path(ge=1, le=MAX_ITEM_NUMBER, description="The item's number.")]


class ChatCreate(Body):
    body: str = Field(min_length=1, max_length=20_000, examples=["My printer is on fire"])
    name: str | None = Field(
        default=None, max_length=200, description="Anonymous: your name (required)."
    )
    email: str | None = Field(
        default=None, max_length=320, description="Anonymous: your address (required)."
    )


class ChatMessageCreate(Body):
    body: str = Field(min_length=1, max_length=20_000, examples=["Unplug it first"])


class ChatTransfer(Body):
    user_id: UUID | None = Field(default=None, description="The agent it goes to.")
    team_id: UUID | None = Field(default=None, description="Or the team it waits for.")


class ChatConversion(Body):
    kind: Literal["ticket", "task"]
    project: UUID | None = Field(default=None, description="Default: the Inbox.")


class ChatAuthor(BaseModel):
    kind: Literal["customer", "staff"]
    name: str


class ChatFileOut(BaseModel):
    id: UUID
    name: str
    size: int
    media_type: str


class ChatMessageOut(BaseModel):
    id: UUID
    body: str
    author: ChatAuthor
    attachments: list[ChatFileOut] = Field(
        description="Files sent with it: download them from `.../attachments/{id}`."
    )
    at: str


class ChatItem(BaseModel):
    kind: Literal["ticket", "task"]
    number: int
    how: Literal["converted", "linked"] | None = None


class ChatOut(BaseModel):
    id: UUID
    state: Literal["waiting", "open", "closed"]
    name: str
    email: str
    anonymous: bool
    agents: list[UUID]
    team_id: UUID | None
    item: ChatItem | None
    opened_at: str
    messages: list[ChatMessageOut]
    version: int
    token: str | None = Field(
        default=None,
        description="Only when an anonymous customer opens a chat: the `ldk_` token to go"
        " on with it (`Authorization: Bearer ldk_...`). Shown once.",
    )


class ChatSummary(BaseModel):
    id: UUID
    name: str
    email: str
    anonymous: bool
    state: Literal["waiting", "open", "closed"]
    team_id: UUID | None
    agents: list[UUID]
    item: ChatItem | None
    opened_at: str
    last_message_at: str | None
    messages: int


class ChatList(BaseModel):
    items: list[ChatSummary]


# --- who the customer is ------------------------------------------------------------------


def customer_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None, public_url: str
) -> str | None:
    """The customer's credential: the bearer token, else the portal pages' session cookie.
    A write made with the cookie must come from our own pages: its `Origin` ours (or, with
    none, `Sec-Fetch-Site: same-origin`); anything else is refused (the cookie is
    `SameSite=Lax` besides)."""
    if credentials is not None and credentials.credentials.strip():
        return credentials.credentials.strip()
    cookie = request.cookies.get(PAGES_SESSION_COOKIE) or None
    if cookie is None or request.method in READING:
        return cookie
    origin = request.headers.get("origin")
    ours = {f"{request.url.scheme}://{request.url.netloc}", _origin_of(public_url)}
    same_origin = request.headers.get("sec-fetch-site") == "same-origin"
    if origin not in ours and not (origin is None and same_origin):
        raise PermissionDeniedError("a portal cookie works only on this install's own pages")
    return cookie


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def chat_customer(
    request: Request,
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(portal_bearer)],
    correlation_id: Correlation,
) -> Context | str | None:
    """A portal session's customer (their context: by bearer token or the portal pages'
    cookie), a chat token (the string), or None (anonymous, no credentials)."""
    svc.company.require_app("portal", "portal")
    token = customer_token(request, credentials, svc.public_url)
    if token is None:
        return None
    if token.startswith(f"{CHAT_TOKEN_PREFIX}_"):
        return token
    caller = svc.portal.authenticate(token)
    note(actor=f"contact:{caller.contact.id}")  # for the request's log lines
    return Context(actor=Actor.customer(caller.contact.email), correlation_id=correlation_id)


ChatCustomer = Annotated[Context | str | None, Depends(chat_customer)]


def known_customer(who: ChatCustomer) -> Context | str:
    """The chat's customer: a portal session or the chat's token (401 without either)."""
    if who is None:
        raise InvalidTokenError
    return who


KnownCustomer = Annotated[Context | str, Depends(known_customer)]


def chat_answer(
    svc: ServicesDep, response: Response, chat_id: UUID, position: int, status: int = 200
) -> OrjsonResponse:
    written(response, position)
    return reply(response, svc.chats.document(chat_id), status)


# --- customers ----------------------------------------------------------------------------


@router.post(
    "/portal/chats",
    status_code=201,
    summary="Open a chat",
    tags=[Tag.PORTAL],
    responses={201: {"model": ChatOut}, **documented(401, 403, 422, 429)},
    # A portal session, or none at all (an anonymous customer, where admins allow it).
    openapi_extra={"security": [{"PortalSession": []}, {}]},
)
def open_chat(
    body: ChatCreate,
    svc: ServicesDep,
    who: ChatCustomer,
    correlation_id: Correlation,
    response: Response,
    client: ClientAddress,
) -> OrjsonResponse:
    """A chat with its first message: from the signed-in customer (portal session), or
    without one from anyone with a name and an address, where admins allow it
    (`features.anonymous_chats`; else 403). It waits for an agent. An anonymous customer's
    answer carries the chat's token, shown once."""
    if isinstance(who, str):
        raise InvalidTokenError
    if who is None:  # Anonymous openings count against the client like web form submissions.
        svc.throttle.submission(client)
    on_duty = svc.streams.agents_on_duty()
    chat, token, position = svc.chats.open(
        OpenChat(**body.model_dump()), who, correlation_id, on_duty=on_duty
    )
    written(response, position)
    response.headers["Location"] = f"/api/v1/portal/chats/{chat.id}"
    return reply(response, {**svc.chats.document(chat.id), "token": token}, 201)


@router.get(
    "/portal/chats/{chat_id}",
    summary="Read a chat (customer)",
    tags=[Tag.PORTAL],
    responses={200: {"model": ChatOut}, **documented(401, 404, 422)},
)
def read_customer_chat(
    chat_id: ChatId, svc: ServicesDep, who: KnownCustomer, response: Response
) -> OrjsonResponse:
    """The chat with its messages, for its customer (portal session or chat token)."""
    return reply(response, svc.chats.customer_document(chat_id, who))


@router.post(
    "/portal/chats/{chat_id}/messages",
    status_code=201,
    summary="Post in a chat (customer)",
    tags=[Tag.PORTAL],
    responses={201: {"model": ChatOut}, **documented(401, 404, 409, 422)},
)
def post_customer_message(
    chat_id: ChatId,
    body: ChatMessageCreate,
    svc: ServicesDep,
    who: KnownCustomer,
    correlation_id: Correlation,
    response: Response,
) -> OrjsonResponse:
    """A message from the chat's customer; a closed chat is 409."""
    cmd = PostChatMessage(body=body.body)
    _, position = svc.chats.customer_post(chat_id, cmd, who, correlation_id)
    response.headers["X-Message-ID"] = str(cmd.message_id)
    return chat_answer(svc, response, chat_id, position, 201)


# --- staff --------------------------------------------------------------------------------


@router.get(
    "/chats",
    summary="List chats",
    responses={200: {"model": ChatList}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("chats"))],
)
def list_staff_chats(
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    state: Annotated[
        Literal["waiting", "mine", "open", "closed"],
        Query(description="The queue (`waiting`, oldest first), yours, the open, the closed."),
    ] = "waiting",
) -> OrjsonResponse:
    """Chats for staff with the tickets app (403 otherwise), at most 100."""
    svc.chats.require_staff(caller.user)
    with svc.views.read() as tx:
        found = list_chats(tx, current_tables(tx, "chats"), state, str(caller.user.id))
    return reply(response, {"items": found})


@router.get(
    "/chats/{chat_id}",
    summary="Read a chat",
    responses={200: {"model": ChatOut}, **documented(401, 403, 404, 422)},
)
def read_chat(
    chat_id: ChatId, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """The chat with its messages (from its events: never behind)."""
    return reply(response, svc.chats.document(chat_id, caller.user))


@router.post(
    "/chats/{chat_id}/claim",
    summary="Claim a chat",
    responses={200: {"model": ChatOut}, **documented(401, 403, 404, 409, 422)},
)
def claim_chat(chat_id: ChatId, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """You join the chat as its agent (a waiting chat is then open)."""
    _, position = svc.chats.claim(chat_id, ctx)
    return chat_answer(svc, response, chat_id, position)


@router.post(
    "/chats/{chat_id}/messages",
    status_code=201,
    summary="Post in a chat",
    responses={201: {"model": ChatOut}, **documented(401, 403, 404, 409, 422)},
)
def post_staff_message(
    chat_id: ChatId, body: ChatMessageCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A message to the customer; you join the chat as you post. A closed chat is 409."""
    cmd = PostChatMessage(body=body.body)
    _, position = svc.chats.staff_post(chat_id, cmd, ctx)
    response.headers["X-Message-ID"] = str(cmd.message_id)
    return chat_answer(svc, response, chat_id, position, 201)


@router.post(
    "/chats/{chat_id}/transfer",
    summary="Transfer a chat",
    responses={200: {"model": ChatOut}, **documented(401, 403, 404, 409, 422)},
)
def transfer_chat(
    chat_id: ChatId, body: ChatTransfer, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """To another agent (then its one agent) or to a team (it waits for a member); exactly
    one of `user_id` and `team_id`."""
    _, position = svc.chats.transfer(chat_id, TransferChat(**body.model_dump()), ctx)
    return chat_answer(svc, response, chat_id, position)


@router.post(
    "/chats/{chat_id}/leave",
    summary="Leave a chat",
    responses={200: {"model": ChatOut}, **documented(401, 403, 404, 409, 422)},
)
def leave_chat(chat_id: ChatId, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """You are no longer one of its agents (not one: nothing changes). Its last agent
    leaving puts it back in the queue. A closed chat is 409."""
    _, position = svc.chats.leave(chat_id, ctx)
    return chat_answer(svc, response, chat_id, position)


@router.post(
    "/chats/{chat_id}/close",
    summary="Close a chat",
    responses={200: {"model": ChatOut}, **documented(401, 403, 404, 422)},
)
def close_chat(chat_id: ChatId, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """It takes no more messages (closing a closed chat changes nothing)."""
    _, position = svc.chats.close(chat_id, ctx)
    return chat_answer(svc, response, chat_id, position)


@router.post(
    "/chats/{chat_id}/conversion",
    status_code=201,
    summary="Turn a chat into a ticket or task",
    responses={201: {"model": dict[str, Any]}, **documented(401, 403, 404, 422)},
)
def convert_chat(
    chat_id: ChatId, body: ChatConversion, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A new ticket (channel `chat`) or task in `project` (default: the Inbox), the chat's
    customer its requester and its transcript its first customer-visible messages; answers
    with the item. A chat that already has an item is 422."""
    cmd = ConvertChat(kind=body.kind, project_id=body.project)
    _, item, position = svc.chats.convert(chat_id, cmd, ctx)
    written(response, position, item.version)
    response.headers["Location"] = f"/api/v1/{item.KIND}s/{item.number}"
    return reply(response, svc.answers.item(item.number, item.version), 201)


@router.put(
    "/chats/{chat_id}/item/{number}",
    summary="Link a chat to an item",
    responses={200: {"model": ChatOut}, **documented(401, 403, 404, 422)},
)
def link_chat(
    chat_id: ChatId, number: Number, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """The chat belongs to item `number` (one you may see; a chat has one item: another is
    422, the same one changes nothing)."""
    _, position = svc.chats.link(chat_id, number, ctx)
    return chat_answer(svc, response, chat_id, position)
