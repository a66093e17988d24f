"""The mail channel over HTTP: a received message handed in (by a mail server's hook, or an
admin), answered with what became of it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel

from api.deps import Correlation, ServicesDep, TokenHolder, written
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from commands.models import Context
from domain.errors import PermissionDeniedError
from domain.user import Scope
from domain.values import Actor

router = APIRouter(prefix="/api/v1/mail", tags=[Tag.MAIL])


class InboundOut(BaseModel):
    outcome: Literal["created", "appended", "duplicate", "bounce", "quarantined"]
    number: int | None
    message_id: str
    auto_submitted: bool
    reason: str | None = None


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
    return reply(
        response,
        {
            "outcome": receipt.outcome,
            "number": receipt.number,
            "message_id": receipt.message_id,
            "auto_submitted": receipt.auto_submitted,
            "reason": receipt.reason,
        },
    )
