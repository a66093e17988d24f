"""Mailboxes: the addresses mail comes in on besides the install's own, where what they
bring goes, and the IMAP account each may be fetched from (whose password is written, never
read back). Admins only."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ExpectedVersion, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.mail.mailboxes import AddMailbox, MailboxRoute
from commands.models import CommandResult
from domain.mail import imap as limits
from domain.mail.mailbox import Mailbox
from domain.values import Priority
from projections.base import current_tables, iso
from projections.mail.imap_polls import last_polls
from projections.mail.mailboxes import list_mailboxes

router = APIRouter(prefix="/api/v1/mail/mailboxes", tags=[Tag.MAIL])
MailboxId = Annotated[UUID, Path(description="The mailbox's id.")]


Security = Literal["tls", "starttls", "none"]


class ImapIn(Body):
    host: str = Field(min_length=1, max_length=limits.MAX_HOST, examples=["imap.example.com"])
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 993 with tls, else 143."
    )
    security: Security = Field(
        default="tls", description="tls (IMAPS), starttls, or none (a trusted network only)."
    )
    user: str = Field(min_length=1, max_length=limits.MAX_USER, examples=["billing@example.com"])
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Stored encrypted, never returned. Omitted: the stored one is kept (it"
        " must be given to set up IMAP, and again when the host changes).",
        json_schema_extra={"writeOnly": True},
    )
    folder: str = Field(default=limits.DEFAULT_FOLDER, min_length=1, max_length=limits.MAX_FOLDER)
    processed_folder: str = Field(
        default=limits.DEFAULT_PROCESSED_FOLDER,
        min_length=1,
        max_length=limits.MAX_FOLDER,
        description="Where fetched mail is moved (flagged \\Seen); created if missing.",
    )
    poll_seconds: int = Field(
        default=limits.DEFAULT_POLL_SECONDS,
        ge=limits.MIN_POLL_SECONDS,
        le=limits.MAX_POLL_SECONDS,
        description="How often the folder is looked at (at most once per worker tick).",
    )


class ImapOut(BaseModel):
    host: str
    port: int
    security: Security
    user: str
    folder: str
    processed_folder: str
    poll_seconds: int
    password_set: bool = Field(description="A password is stored (it is never returned).")
    polled_at: str | None = Field(description="When the last poll ended (null: not yet).")
    error: str | None = Field(description="What went wrong in the last poll (null: nothing).")


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
    imap: ImapIn | None = Field(
        default=None, description="Fetch the mailbox's mail from this IMAP account (null: no)."
    )


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
    imap: ImapOut | None
    version: int
    created_at: str
    updated_at: str


class MailboxList(BaseModel):
    items: list[MailboxOut]


def shown(svc: ServicesDep, mailbox: Mailbox) -> dict[str, Any]:
    """A mailbox as its events left it (a write's answer never waits on the view), with its
    last IMAP poll."""
    imap = None
    if mailbox.imap is not None:
        with svc.views.read() as tx:
            poll = last_polls(tx).get(str(mailbox.id), {"polled_at": None, "error": None})
        imap = {**mailbox.imap, "password_set": mailbox.imap_password_token is not None, **poll}
    return {
        "id": mailbox.id,
        "address": mailbox.address,
        **mailbox.route,
        "imap": imap,
        "version": mailbox.version,
        "created_at": iso(mailbox.created_on),
        "updated_at": iso(mailbox.modified_on),
    }


def with_polls(items: list[dict[str, Any]], polls: dict[str, dict[str, Any]]) -> None:
    never = {"polled_at": None, "error": None}
    for item in items:
        if item["imap"] is not None:
            item["imap"].update(polls.get(item["id"], never))


def answer_write(
    svc: ServicesDep, response: Response, result: CommandResult, status: int = 200, **extra: str
) -> OrjsonResponse:
    written(response, result.position, result.version)
    return reply(response, shown(svc, svc.mailboxes.mailbox(result.id)), status, **extra)


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
        with_polls(items, last_polls(tx))
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
    a default priority), perhaps fetched from an IMAP account. The address has no `+detail`;
    an address that is a mailbox already is 409. Admins only."""
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
    return reply(response, shown(svc, mailbox), ETag=f'"{mailbox.version}"')


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
    """Replace where the mailbox's mail goes (every field of the route) and its IMAP account
    (null or absent: no more IMAP; a password left out keeps the stored one). Admins only."""
    result = svc.mailboxes.reroute(mailbox_id, MailboxRoute(**body.model_dump()), ctx, version)
    return answer_write(svc, response, result)


class ImapTest(BaseModel):
    ok: bool
    server: str = Field(examples=["imap.example.com:993 (tls)"])
    detail: str = Field(description="What was done, or what went wrong.")


@router.post(
    "/{mailbox_id}/test",
    summary="Test a mailbox's IMAP account",
    responses={200: {"model": ImapTest}, **documented(401, 403, 404, 409, 422)},
)
def test_imap(
    mailbox_id: MailboxId, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """Log in to the mailbox's IMAP account and open its folder, as a poll would (nothing
    is taken or moved): `ok` and what was done (how many messages the folder holds), or
    what went wrong (a refused login, a server away). 409 when it has no IMAP account.
    Admins only."""
    return reply(response, svc.mailboxes.test_connection(mailbox_id))


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
