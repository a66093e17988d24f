"""Contacts: customer people by email; staff who manage customers register and change
them, admins turn them into staff users; staff read."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from api.account_schemas import UserOut
from api.customer_schemas import ContactCreate, ContactOut, ContactPage, ContactPatch
from api.deps import Ctx, CurrentCaller, ExpectedVersion, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.routers.users import shown as shown_user
from api.tags import Tag
from commands.customers import (
    ChangeColleagueVisibility,
    ContactCommand,
    MoveContactToOrganisation,
    RegisterContact,
    RenameContact,
    TurnContactIntoStaff,
)
from commands.models import CommandResult
from domain.contact import Contact, ItemScope
from domain.errors import ContactNotFoundError
from projections.base import current_tables, iso
from projections.customers import get_contact, list_contacts

router = APIRouter(prefix="/api/v1/contacts", tags=[Tag.CONTACTS])
ContactId = Annotated[UUID, Path(description="The contact's id.")]


def shown(contact: Contact, sees: ItemScope) -> dict[str, Any]:
    """A contact as the write model has it."""
    return {
        "id": contact.id,
        "email": contact.email,
        "name": contact.name,
        "organisation_id": contact.organisation_id,
        "sees_colleagues_items": contact.sees_colleagues_items,
        "sees": sees,
        "source": contact.source,
        "user_id": contact.user_id,
        "mail_failing": _failing(contact.mail_failing),
        "version": contact.version,
        "created_at": iso(contact.created_on),
        "updated_at": iso(contact.modified_on),
    }


def _failing(failing: dict[str, Any] | None) -> dict[str, Any] | None:
    return {**failing, "since": iso(failing["since"])} if failing else None


def answer_write(
    svc: ServicesDep, response: Response, result: CommandResult, status: int = 200, **extra: str
) -> OrjsonResponse:
    written(response, result.position, result.version)
    contact = svc.customers.contact(result.id)
    return reply(response, shown(contact, svc.customers.sees(contact)), status, **extra)


@router.get(
    "",
    summary="List contacts",
    responses={200: {"model": ContactPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("customers"))],
)
def list_all_contacts(
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    q: Annotated[str | None, Query(max_length=200, description="Part of a name or email.")] = None,
    organisation_id: Annotated[
        UUID | None, Query(description="Only the contacts of this organisation.")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """Contacts ordered by email, a page at a time, and whose items each sees."""
    organisation = str(organisation_id) if organisation_id is not None else None
    with svc.views.read() as tx:
        t = current_tables(tx, "customers")
        items, next_cursor = list_contacts(tx, t, organisation, q, cursor, limit)
    return reply(response, {"items": items, "next_cursor": next_cursor})


@router.post(
    "",
    status_code=201,
    summary="Register a contact",
    responses={201: {"model": ContactOut}, **documented(401, 403, 404, 409, 422)},
)
def register_contact(
    body: ContactCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Register a contact (admins and `manage_customers` staff); an email belongs to one
    contact only. Without `organisation_id` it joins the organisation listing its domain."""
    result = svc.customers.register_contact(RegisterContact(**body.model_dump()), ctx)
    return answer_write(svc, response, result, 201, Location=f"/api/v1/contacts/{result.id}")


@router.get(
    "/{contact_id}",
    summary="Read a contact",
    responses={200: {"model": ContactOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("customers"))],
)
def read_contact(
    contact_id: ContactId, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """A contact's email, name, organisation and whose items they see."""
    with svc.views.read() as tx:
        row = get_contact(tx, current_tables(tx, "customers"), str(contact_id))
    if row is None:
        raise ContactNotFoundError(contact_id)
    return reply(response, row, ETag=f'"{row["version"]}"')


@router.patch(
    "/{contact_id}",
    summary="Change a contact",
    responses={200: {"model": ContactOut}, **documented(401, 403, 404, 409, 412, 422)},
)
def change_contact(
    contact_id: ContactId,
    body: ContactPatch,
    svc: ServicesDep,
    ctx: Ctx,
    expected: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Rename, move to another organisation (`organisation_id: null` leaves it) or let the
    contact see colleagues' items, in one atomic write."""
    commands: list[ContactCommand] = []
    if body.name is not None:
        commands.append(RenameContact(name=body.name))
    if "organisation_id" in body.model_fields_set:
        commands.append(MoveContactToOrganisation(organisation_id=body.organisation_id))
    if body.sees_colleagues_items is not None:
        commands.append(ChangeColleagueVisibility(sees_colleagues_items=body.sees_colleagues_items))
    result = svc.customers.change_contact(contact_id, commands, ctx, expected)
    return answer_write(svc, response, result)


@router.post(
    "/{contact_id}/staff-user",
    status_code=201,
    summary="Turn a contact into a staff user",
    responses={201: {"model": UserOut}, **documented(401, 403, 404, 409, 422)},
)
def turn_into_staff(
    contact_id: ContactId, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Create a staff user (role member, no password: invite them) with the contact's email
    and name (admins only); 409 if a staff user has that email."""
    result = svc.customers.turn_contact_into_staff(TurnContactIntoStaff(contact_id=contact_id), ctx)
    written(response, result.position, result.version)
    user = svc.accounts.user(result.id)
    return reply(response, shown_user(user), 201, Location=f"/api/v1/users/{result.id}")
