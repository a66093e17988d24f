"""The mail channel over HTTP: a received message handed in (by a mail server's hook, or an
admin), answered with what became of it."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Correlation, ServicesDep, TokenHolder, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body as JsonBody
from api.tags import Tag
from commands.mail.receive import Receipt
from commands.mail.service import QuarantineEntryNotFoundError
from commands.models import Context
from domain.errors import PermissionDeniedError
from domain.user import Scope
from domain.values import Actor
from projections.base import current_tables
from projections.mail.quarantine import get_quarantined, list_quarantine

router = APIRouter(prefix="/api/v1/mail", tags=[Tag.MAIL])


class InboundOut(BaseModel):
    outcome: Literal["created", "appended", "duplicate", "bounce", "quarantined"]
    number: int | None
    message_id: str
    auto_submitted: bool
    reason: str | None = None


def shown(receipt: Receipt) -> dict[str, object]:
    """What became of a message, as every mail route answers it."""
    return {
        "outcome": receipt.outcome,
        "number": receipt.number,
        "message_id": receipt.message_id,
        "auto_submitted": receipt.auto_submitted,
        "reason": receipt.reason,
    }


@router.post(
    "/inbound",
    summary="Hand in a received message",
    responses={200: {"model": InboundOut}, **documented(401, 403, 413, 422)},
)
def receive_mail(
    svc: ServicesDep,
    caller: TokenHolder,
    correlation_id: Correlation,
    response: Response,
    message: Annotated[
        bytes,
        Body(
            media_type="message/rfc822",
            description="The raw message, as received (headers and body). Even an empty one is"
            " filed: into the quarantine.",
        ),
    ] = b"",
    to: Annotated[
        str | None,
        Query(
            max_length=320,
            description="The address it was sent to; the install's support address if left out.",
        ),
    ] = None,
) -> OrjsonResponse:
    """File a raw message as if it arrived by SMTP: it opens an item, joins one, is a
    duplicate or a bounce, or is quarantined (unreadable mail, a loop, a reused Message-ID)
    — 200 in every case, with what became of it. An address this install does not receive
    mail on is 422. Admins, or a token with the `mail` scope."""
    admin = caller.user.is_admin and Scope.WRITE.value in caller.scopes
    if not admin and Scope.MAIL.value not in caller.scopes:
        raise PermissionDeniedError("handing in mail needs an admin or a token with the mail scope")
    ctx = Context(actor=Actor.system("mail"), correlation_id=correlation_id)
    receipt = svc.mail.receive(message, to, "http", ctx)
    written(response, svc.runner.log.head())
    return reply(response, shown(receipt))


class QuarantinedOut(BaseModel):
    id: UUID
    raw_sha256: str
    size: int
    recipient: str
    reason: Literal["unparseable", "loop", "message-id-reused", "unmatched-bounce", "rejected"]
    detail: str
    sender: str
    subject: str
    message_id: str
    state: Literal["held", "released", "discarded"]
    held_at: str
    settled_at: str | None
    settled_by: str | None
    why: str | None
    outcome: str | None
    number: int | None
    version: int


class QuarantinePage(BaseModel):
    items: list[QuarantinedOut]
    next_cursor: str | None


class Discard(JsonBody):
    why: str = Field(min_length=1, max_length=1000, examples=["spam"])


QuarantineId = Annotated[UUID, Path(description="The quarantine entry's id.")]


@router.get(
    "/quarantine",
    summary="List quarantined mail",
    responses={200: {"model": QuarantinePage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("mail_quarantine"))],
)
def list_quarantined_mail(
    svc: ServicesDep,
    caller: AdminCaller,
    response: Response,
    state: Annotated[Literal["held", "released", "discarded"] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """Mail held back (unreadable, a loop, a reused Message-ID, an unmatched bounce), newest
    first, with what staff did with it. Admins only."""
    with svc.views.read() as tx:
        items, following = list_quarantine(
            tx, current_tables(tx, "mail_quarantine"), state, cursor, limit
        )
    return reply(response, {"items": items, "next_cursor": following})


@router.get(
    "/quarantine/{quarantine_id}",
    summary="Read a quarantined mail",
    responses={200: {"model": QuarantinedOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("mail_quarantine"))],
)
def read_quarantined_mail(
    quarantine_id: QuarantineId, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """One held message. Admins only."""
    with svc.views.read() as tx:
        found = get_quarantined(tx, current_tables(tx, "mail_quarantine"), str(quarantine_id))
    if found is None:
        raise QuarantineEntryNotFoundError(str(quarantine_id))
    return reply(response, found)


@router.post(
    "/quarantine/{quarantine_id}/release",
    summary="Process a quarantined mail now",
    responses={200: {"model": InboundOut}, **documented(401, 403, 404, 409, 422)},
)
def release_quarantined_mail(
    quarantine_id: QuarantineId,
    svc: ServicesDep,
    caller: AdminCaller,
    correlation_id: Correlation,
    response: Response,
) -> OrjsonResponse:
    """Process the message as if it had just arrived, letting a loop or a reused Message-ID
    through (you looked at it): it opens or joins an item. Mail that still cannot be read is
    409 (discard it instead); a settled entry is 409."""
    ctx = Context(actor=Actor.user(caller.user.id), correlation_id=correlation_id)
    receipt, position = svc.mail.release(quarantine_id, ctx)
    written(response, position)
    return reply(response, shown(receipt))


@router.post(
    "/quarantine/{quarantine_id}/discard",
    summary="Discard a quarantined mail",
    status_code=204,
    responses=documented(401, 403, 404, 409, 422),
)
def discard_quarantined_mail(
    quarantine_id: QuarantineId,
    body: Discard,
    svc: ServicesDep,
    caller: AdminCaller,
    correlation_id: Correlation,
) -> Response:
    """Throw the message away, saying why; who and why stay on record. Admins only."""
    ctx = Context(actor=Actor.user(caller.user.id), correlation_id=correlation_id)
    position = svc.mail.discard(quarantine_id, body.why, ctx)
    response = Response(status_code=204)
    written(response, position)
    return response
