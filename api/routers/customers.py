"""Customer organisations: staff who manage customers register and change them; staff read."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from api.customer_schemas import (
    ContactPage,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    OrganisationPatch,
)
from api.deps import Ctx, CurrentCaller, ExpectedVersion, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from commands.customers import (
    ChangeOrganisationDomains,
    ChangeSharing,
    OrganisationCommand,
    RegisterOrganisation,
    RenameOrganisation,
)
from commands.models import CommandResult
from domain.customer import Organisation
from domain.errors import OrganisationNotFoundError
from projections.base import current_tables, iso
from projections.customers import get_organisation, list_contacts, list_organisations

router = APIRouter(prefix="/api/v1/customers", tags=[Tag.CUSTOMERS])
OrganisationId = Annotated[UUID, Path(description="The customer organisation's id.")]
Q = Annotated[str | None, Query(max_length=200, description="Part of a name or email domain.")]
Cursor = Annotated[str | None, Query(max_length=500)]
Limit = Annotated[int, Query(ge=1, le=200)]


def shown(organisation: Organisation) -> dict[str, Any]:
    """An organisation as the write model has it (the contact count lives in the view)."""
    return {
        "id": organisation.id,
        "name": organisation.name,
        "domains": organisation.domains,
        "sharing": organisation.sharing,
        "contact_count": None,
        "version": organisation.version,
        "created_at": iso(organisation.created_on),
        "updated_at": iso(organisation.modified_on),
    }


def answer_write(
    svc: ServicesDep, response: Response, result: CommandResult, status: int = 200, **extra: str
) -> OrjsonResponse:
    written(response, result.position, result.version)
    return reply(response, shown(svc.customers.organisation(result.id)), status, **extra)


@router.get(
    "",
    summary="List customer organisations",
    responses={200: {"model": OrganisationPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("customers"))],
)
def list_customer_organisations(
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    q: Q = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> OrjsonResponse:
    """Customer organisations ordered by name, each with its number of contacts."""
    with svc.views.read() as tx:
        t = current_tables(tx, "customers")
        items, next_cursor = list_organisations(tx, t, q, cursor, limit)
    return reply(response, {"items": items, "next_cursor": next_cursor})


@router.post(
    "",
    status_code=201,
    summary="Register a customer organisation",
    responses={201: {"model": OrganisationOut}, **documented(401, 403, 409, 422)},
)
def register_organisation(
    body: OrganisationCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Register an organisation (admins and `manage_customers` staff); a domain belongs to
    one organisation only."""
    result = svc.customers.register_organisation(RegisterOrganisation(**body.model_dump()), ctx)
    return answer_write(svc, response, result, 201, Location=f"/api/v1/customers/{result.id}")


@router.get(
    "/{org_id}",
    summary="Read a customer organisation",
    responses={200: {"model": OrganisationOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("customers"))],
)
def read_organisation(
    org_id: OrganisationId, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """An organisation's name, domains, sharing mode and number of contacts."""
    with svc.views.read() as tx:
        row = get_organisation(tx, current_tables(tx, "customers"), str(org_id))
    if row is None:
        raise OrganisationNotFoundError(org_id)
    return reply(response, row, ETag=f'"{row["version"]}"')


@router.patch(
    "/{org_id}",
    summary="Change a customer organisation",
    responses={200: {"model": OrganisationOut}, **documented(401, 403, 404, 409, 412, 422)},
)
def change_organisation(
    org_id: OrganisationId,
    body: OrganisationPatch,
    svc: ServicesDep,
    ctx: Ctx,
    expected: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Rename, change the sharing mode or replace the email domains, in one atomic write."""
    commands: list[OrganisationCommand] = []
    if body.name is not None:
        commands.append(RenameOrganisation(name=body.name))
    if body.sharing is not None:
        commands.append(ChangeSharing(sharing=body.sharing))
    if body.domains is not None:
        commands.append(ChangeOrganisationDomains(domains=body.domains))
    result = svc.customers.change_organisation(org_id, commands, ctx, expected)
    return answer_write(svc, response, result)


@router.get(
    "/{org_id}/contacts",
    summary="List an organisation's contacts",
    responses={200: {"model": ContactPage}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("customers"))],
)
def list_organisation_contacts(
    org_id: OrganisationId,
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    q: Annotated[str | None, Query(max_length=200, description="Part of a name or email.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> OrjsonResponse:
    """The organisation's contacts ordered by email, and whose items each sees."""
    with svc.views.read() as tx:
        t = current_tables(tx, "customers")
        if get_organisation(tx, t, str(org_id)) is None:
            raise OrganisationNotFoundError(org_id)
        items, next_cursor = list_contacts(tx, t, str(org_id), q, cursor, limit)
    return reply(response, {"items": items, "next_cursor": next_cursor})
