"""Mailboxes: the addresses mail comes in on besides the install's own, and where what they
bring goes. Admins only."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ExpectedVersion, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.mail.mailboxes import AddMailbox, MailboxRoute
from commands.models import CommandResult
from domain.mail.mailbox import Mailbox
from domain.values import Priority
from projections.base import current_tables, iso
from projections.mail.mailboxes import list_mailboxes

router = APIRouter(prefix="/api/v1/mail/mailboxes", tags=[Tag.MAIL])
MailboxId = Annotated[UUID, Path(description="The mailbox's id.")]


class RouteIn(Body):
    name: str = Field(default="", max_length=200, examples=["Billing"])
    project_id: UUID
    folder_id: UUID | None = None
    team_id: UUID | None = None
    priority: Priority = Priority.NORMAL
    cc_become_followers: bool = Field(
        default=False, description="Cc'd addresses of a new item's mail follow it."
    )
    acknowledge: bool = Field(default=True, description="Acknowledge new items' requesters.")


class MailboxIn(RouteIn):
    address: str = Field(min_length=3, max_length=320, examples=["billing@example.com"])


class MailboxOut(BaseModel):
    id: UUID
    address: str
    name: str
    project_id: UUID
    folder_id: UUID | None
    team_id: UUID | None
    priority: Priority
    cc_become_followers: bool
    acknowledge: bool
    version: int
    created_at: str
    updated_at: str


class MailboxList(BaseModel):
    items: list[MailboxOut]


def shown(mailbox: Mailbox) -> dict[str, Any]:
    """A mailbox as its events left it (a write's answer never waits on the view)."""
    return {
        "id": mailbox.id,
        "address": mailbox.address,
        **mailbox.route,
        "version": mailbox.version,
        "created_at": iso(mailbox.created_on),
        "updated_at": iso(mailbox.modified_on),
    }


def answer_write(
    svc: ServicesDep, response: Response, result: CommandResult, status: int = 200, **extra: str
) -> OrjsonResponse:
    written(response, result.position, result.version)
    return reply(response, shown(svc.mailboxes.mailbox(result.id)), status, **extra)


@router.get(
    "",
    summary="List mailboxes",
    responses={200: {"model": MailboxList}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("mailboxes"))],
)
def list_all_mailboxes(svc: ServicesDep, caller: AdminCaller, response: Response) -> OrjsonResponse:
    """Every mailbox by address. The install's own address (LEDGERDESK_MAIL_ADDRESS) is not
    one: it always routes to the Inbox."""
    with svc.views.read() as tx:
        items = list_mailboxes(tx, current_tables(tx, "mailboxes"))
    return reply(response, {"items": items})


@router.post(
    "",
    status_code=201,
    summary="Add a mailbox",
    responses={201: {"model": MailboxOut}, **documented(401, 403, 404, 409, 422)},
)
def add_mailbox(
    body: MailboxIn, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Receive mail on another address, routed to a project (and perhaps a folder, a team,
    a default priority). The address has no `+detail`; an address that is a mailbox already
    is 409. Admins only."""
    result = svc.mailboxes.add(AddMailbox(**body.model_dump()), ctx)
    location = f"/api/v1/mail/mailboxes/{result.id}"
    return answer_write(svc, response, result, 201, Location=location)


@router.get(
    "/{mailbox_id}",
    summary="Read a mailbox",
    responses={200: {"model": MailboxOut}, **documented(401, 403, 404, 422)},
)
def read_mailbox(
    mailbox_id: MailboxId, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """One mailbox (from the write model). Admins only."""
    mailbox = svc.mailboxes.mailbox(mailbox_id)
    return reply(response, shown(mailbox), ETag=f'"{mailbox.version}"')


@router.put(
    "/{mailbox_id}",
    summary="Route a mailbox anew",
    responses={200: {"model": MailboxOut}, **documented(401, 403, 404, 409, 412, 422)},
)
def route_mailbox(
    mailbox_id: MailboxId,
    body: RouteIn,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Replace where the mailbox's mail goes (every field of the route). Admins only."""
    result = svc.mailboxes.reroute(mailbox_id, MailboxRoute(**body.model_dump()), ctx, version)
    return answer_write(svc, response, result)


@router.delete(
    "/{mailbox_id}",
    status_code=204,
    summary="Remove a mailbox",
    responses=documented(401, 403, 404, 409, 422),
)
def remove_mailbox(
    mailbox_id: MailboxId, svc: ServicesDep, caller: AdminCaller, ctx: Ctx
) -> Response:
    """Stop receiving mail there: from now on it is refused (550). Admins only."""
    result = svc.mailboxes.remove(mailbox_id, ctx)
    response = Response(status_code=204)
    written(response, result.position)
    return response
