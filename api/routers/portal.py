"""The customer portal: staff invite contacts; customers redeem the invitation for a
session and read, open and answer the tickets they may see (never an internal message).

A ticket a customer may not see answers 404, exactly as a number that does not exist.
Portal answers carry no ETag: a ticket's version counts internal activity too.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import ValidationError

from api.deps import ClientAddress, Correlation, Ctx, Services, ServicesDep, fresh, written
from api.portal_deps import CurrentContact, CustomerCtx
from api.portal_schemas import (
    PortalInvitationOut,
    PortalMe,
    PortalReplyCreate,
    PortalSessionCreate,
    PortalSessionOut,
    PortalTicketCreate,
    PortalTicketOut,
    PortalTicketPage,
)
from api.responses import OrjsonResponse, documented, reply
from api.schemas import ReadOut
from api.tags import Tag
from commands.errors import TicketNotFoundError
from commands.models import CommandResult, Context
from commands.portal import (
    EndPortalSession,
    IssuePortalInvitation,
    OpenPortalTicket,
    PortalCaller,
    PostPortalReply,
    StartPortalSession,
)
from commands.portal_sign_in import PortalLogIn
from domain.contact import Contact
from domain.errors import InvalidCredentialsError
from domain.item_numbers import MAX_ITEM_NUMBER
from domain.values import Actor
from projections.base import current_tables
from projections.portal import get_portal_ticket, list_portal_tickets

router = APIRouter(prefix="/api/v1", tags=[Tag.PORTAL])
Number = Annotated[
    int, Path(ge=1, le=MAX_ITEM_NUMBER, description="The ticket's item number.", examples=[1042])
]
SESSION_PATH = "/api/v1/portal/session"


def ticket_for_customer(svc: ServicesDep, result: CommandResult) -> dict[str, Any]:
    """The ticket as its customer sees it right after `result`, from its events (no view
    wait). A ticket converted into a task goes on as the task, which `result` then names."""
    return svc.answers.customer_ticket(result)


def answer_write(
    svc: ServicesDep, response: Response, result: CommandResult, status: int, **extra: str
) -> OrjsonResponse:
    written(response, result.position)
    return reply(response, ticket_for_customer(svc, result), status, **extra)


def scope(svc: ServicesDep, caller: PortalCaller) -> tuple[str, str | None]:
    """The contact, and the organisation whose tickets they see too (now, by the rules)."""
    return str(caller.contact.id), svc.portal.sees_organisation_of(caller.contact)


# --- staff: invitations ---------------------------------------------------------------------


@router.post(
    "/contacts/{contact_id}/portal-invitations",
    status_code=201,
    summary="Invite a contact to the portal",
    responses={201: {"model": PortalInvitationOut}, **documented(401, 403, 404, 409, 422)},
)
def invite_contact(
    contact_id: Annotated[UUID, Path(description="The contact's id.")],
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Issue a one-time portal invitation for a contact, valid 7 days (admins and
    `manage_customers` staff); a new invitation replaces the one before. When mail is
    configured, the link is also mailed to the contact (`mailed`)."""
    position, invitation, expires_at, mailed = svc.portal.issue_invitation(
        IssuePortalInvitation(contact_id=contact_id), ctx
    )
    written(response, position)
    response.headers["Cache-Control"] = "no-store"
    content = {
        "contact_id": contact_id,
        "invitation": invitation,
        "expires_at": expires_at,
        "accept_path": SESSION_PATH,
        "link": f"{svc.pages.public_url if svc.pages else ''}/portal/invite/{invitation}",
        "mailed": mailed,
    }
    return reply(response, content, 201)


# --- customers: sessions ---------------------------------------------------------------------


@router.post(
    "/portal/session",
    status_code=201,
    summary="Start a portal session",
    responses={201: {"model": PortalSessionOut}, **documented(401, 404, 422, 429)},
)
def start_portal_session(
    body: PortalSessionCreate,
    svc: ServicesDep,
    client: ClientAddress,
    correlation_id: Correlation,
    response: Response,
) -> OrjsonResponse:
    """Redeem a portal invitation (once), or sign in with the contact's email and portal
    password, for a customer session token that expires after `session_hours`. A wrong
    invitation or password is 401; too many attempts from one client (or at one address)
    answer 429. 404 while the portal is switched off."""
    svc.company.require_app("portal", "portal")
    if body.invitation is None:
        position, contact, token = _log_in(body, svc, client, correlation_id)
    else:
        ctx = Context(actor=Actor("anonymous", "portal"), correlation_id=correlation_id)
        with svc.throttle.attempt(client):
            position, contact, token = svc.portal.start_session(
                StartPortalSession(invitation=body.invitation), ctx
            )
    written(response, position)
    response.headers["Cache-Control"] = "no-store"
    token_id = token.split("_")[2]
    content = {
        "access_token": token,
        "token_type": "bearer",
        "token_id": token_id,
        "contact_id": contact.id,
        "expires_at": contact.portal_sessions[token_id]["expires_at"],
    }
    return reply(response, content, 201)


def _log_in(
    body: PortalSessionCreate, svc: Services, client: str, correlation_id: str
) -> tuple[int, Contact, str]:
    assert body.email is not None
    assert body.password is not None
    assert svc.pages is not None, "portal sign-in is configured with the pages"
    ctx = Context(actor=Actor.system("portal"), correlation_id=correlation_id)
    try:
        cmd = PortalLogIn(email=body.email, password=body.password)
    except ValidationError as wrong:  # An address no contact can have: as a wrong password.
        raise InvalidCredentialsError("wrong email or password") from wrong
    with svc.throttle.attempt(client, body.email):
        contact, token, position = svc.pages.sign_in.log_in(cmd, ctx)
    return position, contact, token


@router.delete(
    "/portal/session", status_code=204, summary="End a portal session", responses=documented(401)
)
def end_portal_session(caller: CurrentContact, svc: ServicesDep, ctx: CustomerCtx) -> Response:
    """Log out: the session token this request was made with stops working."""
    cmd = EndPortalSession(contact_id=caller.contact.id, token_id=caller.token_id)
    position = svc.portal.end_session(cmd, ctx)
    return Response(status_code=204, headers={"X-Log-Position": str(position)})


@router.get(
    "/portal/me",
    summary="Who am I (customer)",
    responses={200: {"model": PortalMe}, **documented(401)},
)
def portal_me(caller: CurrentContact, svc: ServicesDep, response: Response) -> OrjsonResponse:
    """The contact behind the session, their organisation and whose tickets they see."""
    contact = caller.contact
    organisation = (
        svc.customers.organisation(UUID(contact.organisation_id))
        if contact.organisation_id
        else None
    )
    content = {
        "id": contact.id,
        "email": contact.email,
        "name": contact.name,
        "organisation": {"id": organisation.id, "name": organisation.name}
        if organisation
        else None,
        "sees": "organisation" if svc.portal.sees_organisation_of(contact) else "own",
    }
    return reply(response, content)


# --- customers: tickets ------------------------------------------------------------------------


@router.get(
    "/portal/tickets",
    summary="List my tickets",
    responses={200: {"model": PortalTicketPage}, **documented(401, 422)},
    dependencies=[Depends(fresh("portal"))],
)
def portal_list_tickets(
    caller: CurrentContact,
    svc: ServicesDep,
    response: Response,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """The tickets you may see (yours, and your organisation's if it shares them with you),
    newest first, a page at a time."""
    contact_id, organisation_id = scope(svc, caller)
    with svc.views.read() as tx:
        t = current_tables(tx, "portal")
        items, next_cursor = list_portal_tickets(tx, t, contact_id, organisation_id, cursor, limit)
    return reply(response, {"items": items, "next_cursor": next_cursor})


@router.post(
    "/portal/tickets",
    status_code=201,
    summary="Open a ticket (customer)",
    responses={201: {"model": PortalTicketOut}, **documented(401, 403, 422)},
)
def portal_open_ticket(
    body: PortalTicketCreate,
    caller: CurrentContact,
    svc: ServicesDep,
    ctx: CustomerCtx,
    response: Response,
) -> OrjsonResponse:
    """Open a ticket with you as its requester; it arrives in the help desk's Inbox."""
    result = svc.portal.open_ticket(OpenPortalTicket(**body.model_dump()), ctx)
    location = f"/api/v1/portal/tickets/{result.number}"
    return answer_write(svc, response, result, 201, Location=location)


@router.get(
    "/portal/tickets/{number}",
    summary="Read a ticket (customer)",
    responses={200: {"model": PortalTicketOut}, **documented(401, 404, 422)},
    dependencies=[Depends(fresh("portal"))],
)
def portal_read_ticket(
    number: Number, caller: CurrentContact, svc: ServicesDep, response: Response
) -> OrjsonResponse:
    """A ticket you may see, with its customer-visible messages and its attachments."""
    contact_id, organisation_id = scope(svc, caller)
    with svc.views.read() as tx:
        doc = get_portal_ticket(
            tx, current_tables(tx, "portal"), contact_id, organisation_id, number
        )
    if doc is None:
        raise TicketNotFoundError(number)
    return reply(response, doc)


@router.post(
    "/portal/tickets/{number}/read",
    summary="Mark a ticket's messages read (customer)",
    responses={200: {"model": ReadOut}, **documented(401, 404, 422)},
)
def portal_mark_read(
    number: Number, caller: CurrentContact, svc: ServicesDep, ctx: CustomerCtx, response: Response
) -> OrjsonResponse:
    """You have read this ticket's messages: those not yet mailed to you are not mailed."""
    count, position = svc.portal.mark_read(number, ctx)
    written(response, position)
    return reply(response, {"read": count})


@router.post(
    "/portal/tickets/{number}/messages",
    status_code=201,
    summary="Reply on a ticket (customer)",
    responses={201: {"model": PortalTicketOut}, **documented(401, 403, 404, 422)},
)
def portal_post_reply(
    number: Number,
    body: PortalReplyCreate,
    caller: CurrentContact,
    svc: ServicesDep,
    ctx: CustomerCtx,
    response: Response,
) -> OrjsonResponse:
    """Reply on a ticket you may see; the reply is visible to the customer side."""
    message_id = uuid.uuid4()
    cmd = PostPortalReply(number=number, message_id=message_id, body=body.body)
    result = svc.portal.post_reply(cmd, ctx)
    return answer_write(svc, response, result, 201, X_Message_ID=str(message_id))
