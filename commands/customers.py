"""Customer organisations and contacts: commands, their handlers and the service facade."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from commands.application import LedgerDesk
from commands.errors import VersionMismatchError
from commands.models import Command, CommandResult, Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user, require_admin
from domain.contact import Contact, ContactSource, ItemScope, contact_id_for, sees_items_of
from domain.customer import Organisation, Sharing
from domain.email_domain import EmailDomain, domain_of, email_domain_id
from domain.errors import (
    ContactAlreadyExistsError,
    ContactNotFoundError,
    InvalidEmailDomainError,
    OrganisationNotFoundError,
    PermissionDeniedError,
    UserAlreadyExistsError,
)
from domain.user import Apps, CompanyRole, Flag, User, user_id_for
from domain.values import normalise_email

# Organisation ids are random: registrations in this process take turns on one lock.
REGISTRATION_LOCK = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/organisation-registrations")

# --- commands -----------------------------------------------------------------


class RegisterOrganisation(Command):
    name: str = Field(min_length=1, max_length=200)
    domains: list[str] = Field(default_factory=list, max_length=50)
    sharing: Sharing = Sharing.NONE


class RenameOrganisation(Command):
    name: str = Field(min_length=1, max_length=200)


class ChangeSharing(Command):
    sharing: Sharing


class ChangeOrganisationDomains(Command):
    domains: list[str] = Field(max_length=50)


class RegisterContact(Command):
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    organisation_id: UUID | None = None
    source: ContactSource = ContactSource.STAFF


class RenameContact(Command):
    name: str = Field(min_length=1, max_length=200)


class MoveContactToOrganisation(Command):
    """Join `organisation_id`, leaving the current one; None leaves without joining."""

    organisation_id: UUID | None


class ChangeColleagueVisibility(Command):
    sees_colleagues_items: bool


class TurnContactIntoStaff(Command):
    contact_id: UUID


OrganisationCommand = RenameOrganisation | ChangeSharing | ChangeOrganisationDomains
ContactCommand = RenameContact | MoveContactToOrganisation | ChangeColleagueVisibility

# --- who may, and lookups in the write model --------------------------------------


def require_customer_manager(uow: UnitOfWork, ctx: Context) -> None:
    """Admins and staff with the manage_customers flag (the system is trusted)."""
    user = acting_user(uow, ctx)
    if user is not None and not user.has_flag(Flag.MANAGE_CUSTOMERS):
        raise PermissionDeniedError("only admins and staff who manage customers may do this")


def load_organisation(uow: UnitOfWork, organisation_id: UUID) -> Organisation:
    organisation = uow.get(organisation_id, Organisation)
    if organisation is None:
        raise OrganisationNotFoundError(organisation_id)
    return organisation


def load_contact(uow: UnitOfWork, contact_id: UUID) -> Contact:
    contact = uow.get(contact_id, Contact)
    if contact is None:
        raise ContactNotFoundError(contact_id)
    return contact


def organisation_for(uow: UnitOfWork, email: str) -> UUID | None:
    """The organisation that lists the email's domain, from the domain index."""
    try:
        index = uow.get(email_domain_id(domain_of(normalise_email(email))), EmailDomain)
    except InvalidEmailDomainError:  # An address no organisation could ever list.
        return None
    return index.holder() if index is not None else None


# --- organisation handlers ------------------------------------------------------------


def register_organisation(cmd: RegisterOrganisation, uow: UnitOfWork, ctx: Context) -> list[Any]:
    require_customer_manager(uow, ctx)
    organisation = Organisation.register(
        name=cmd.name,
        domains=cmd.domains,
        sharing=cmd.sharing,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [organisation, *_index_domains(uow, organisation, [], ctx)]


def rename_organisation(
    organisation: Organisation, cmd: RenameOrganisation, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    organisation.rename(cmd.name, ctx.actor, ctx.correlation_id)
    return []


def change_sharing(
    organisation: Organisation, cmd: ChangeSharing, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    organisation.change_sharing(cmd.sharing, ctx.actor, ctx.correlation_id)
    return []


def change_organisation_domains(
    organisation: Organisation, cmd: ChangeOrganisationDomains, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    """Change the domains and, in the same write, the index entries that point at them."""
    before = list(organisation.domains)
    organisation.change_domains(cmd.domains, ctx.actor, ctx.correlation_id)
    return _index_domains(uow, organisation, before, ctx)


def _index_domains(
    uow: UnitOfWork, organisation: Organisation, before: list[str], ctx: Context
) -> list[EmailDomain]:
    """Claim the domains `organisation` now lists (409 if another holds one); release
    those it no longer lists."""
    changed: list[EmailDomain] = []
    for domain in sorted(set(organisation.domains) - set(before)):
        index = uow.get(email_domain_id(domain), EmailDomain)
        if index is None:
            index = EmailDomain.register(domain, organisation.id, ctx.actor, ctx.correlation_id)
        else:
            index.claim(organisation.id, ctx.actor, ctx.correlation_id)
        changed.append(index)
    for domain in sorted(set(before) - set(organisation.domains)):
        index = uow.get(email_domain_id(domain), EmailDomain)
        if index is not None:
            index.release(organisation.id, ctx.actor, ctx.correlation_id)
            changed.append(index)
    return changed


OrganisationHandler = Callable[[Organisation, Any, UnitOfWork, Context], list[Any]]
ORGANISATION_HANDLERS: dict[type, OrganisationHandler] = {
    RenameOrganisation: rename_organisation,
    ChangeSharing: change_sharing,
    ChangeOrganisationDomains: change_organisation_domains,
}

# --- contact handlers -------------------------------------------------------------------


def ensure_contact(uow: UnitOfWork, email: str, ctx: Context, *, name: str = "") -> Contact | None:
    """The new contact to save with a ticket whose requester `email` is seen for the first
    time (None if the contact exists); it joins the organisation that lists its domain."""
    if uow.get(contact_id_for(email), Contact) is not None:
        return None
    return Contact.register(
        email=email,
        name=name,
        organisation_id=organisation_for(uow, email),
        source=ContactSource.TICKET,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


def register_contact(cmd: RegisterContact, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """A contact by staff; without an organisation it joins the one listing its domain."""
    require_customer_manager(uow, ctx)
    if uow.get(contact_id_for(cmd.email), Contact) is not None:
        raise ContactAlreadyExistsError(normalise_email(cmd.email))
    if cmd.organisation_id is not None:
        load_organisation(uow, cmd.organisation_id)
    contact = Contact.register(
        email=cmd.email,
        name=cmd.name,
        organisation_id=cmd.organisation_id or organisation_for(uow, cmd.email),
        source=cmd.source,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [contact]


def rename_contact(
    contact: Contact, cmd: RenameContact, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    contact.rename(cmd.name, ctx.actor, ctx.correlation_id)
    return []


def move_contact_to_organisation(
    contact: Contact, cmd: MoveContactToOrganisation, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    if cmd.organisation_id is not None:
        load_organisation(uow, cmd.organisation_id)
    contact.move_to(cmd.organisation_id, ctx.actor, ctx.correlation_id)
    return []


def change_colleague_visibility(
    contact: Contact, cmd: ChangeColleagueVisibility, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    contact.change_colleague_visibility(cmd.sees_colleagues_items, ctx.actor, ctx.correlation_id)
    return []


def turn_contact_into_staff(cmd: TurnContactIntoStaff, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """A staff member (role member, no password yet) with the contact's email and name,
    saved with the contact's TurnedIntoStaff. Creating staff users is for admins only."""
    require_admin(uow, ctx, "turn contacts into staff users")
    contact = load_contact(uow, cmd.contact_id)
    contact.turn_into_staff(user_id_for(contact.email), ctx.actor, ctx.correlation_id)
    if uow.find_user(user_id_for(contact.email)) is not None:
        raise UserAlreadyExistsError(contact.email)
    user = User.register(
        email=contact.email,
        name=contact.name,
        role=CompanyRole.MEMBER,
        apps=Apps.BOTH,
        flags=[],
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [contact, user]


ContactHandler = Callable[[Contact, Any, UnitOfWork, Context], list[Any]]
CONTACT_HANDLERS: dict[type, ContactHandler] = {
    RenameContact: rename_contact,
    MoveContactToOrganisation: move_contact_to_organisation,
    ChangeColleagueVisibility: change_colleague_visibility,
}

# --- the facade ---------------------------------------------------------------------------


class CustomerService:
    """Every write about customer organisations and contacts goes through here."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def register_organisation(self, cmd: RegisterOrganisation, ctx: Context) -> CommandResult:
        saved, position = run(
            self.app, REGISTRATION_LOCK, lambda uow: register_organisation(cmd, uow, ctx)
        )
        return _result(saved[0], position)

    def change_organisation(
        self,
        organisation_id: UUID,
        commands: Sequence[OrganisationCommand],
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Apply several organisation commands in one atomic write (e.g. a PATCH)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_customer_manager(uow, ctx)
            organisation = load_organisation(uow, organisation_id)
            _check_version(organisation, expected_version)
            changed = [organisation]
            for cmd in commands:
                changed += ORGANISATION_HANDLERS[type(cmd)](organisation, cmd, uow, ctx)
            return changed

        saved, position = run(self.app, organisation_id, decide)
        return _result(saved[0], position)

    def register_contact(self, cmd: RegisterContact, ctx: Context) -> CommandResult:
        saved, position = run(
            self.app, contact_id_for(cmd.email), lambda uow: register_contact(cmd, uow, ctx)
        )
        return _result(saved[0], position)

    def change_contact(
        self,
        contact_id: UUID,
        commands: Sequence[ContactCommand],
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Apply several contact commands in one atomic write (e.g. a PATCH)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_customer_manager(uow, ctx)
            contact = load_contact(uow, contact_id)
            _check_version(contact, expected_version)
            changed: list[Any] = [contact]
            for cmd in commands:
                changed += CONTACT_HANDLERS[type(cmd)](contact, cmd, uow, ctx)
            return changed

        saved, position = run(self.app, contact_id, decide)
        return _result(saved[0], position)

    def turn_contact_into_staff(self, cmd: TurnContactIntoStaff, ctx: Context) -> CommandResult:
        """Returns the new staff user's result (the contact is saved with it)."""
        saved, position = run(
            self.app, cmd.contact_id, lambda uow: turn_contact_into_staff(cmd, uow, ctx)
        )
        return _result(saved[1], position)

    def organisation(self, organisation_id: UUID) -> Organisation:
        return load_organisation(UnitOfWork(self.app), organisation_id)

    def contact(self, contact_id: UUID) -> Contact:
        return load_contact(UnitOfWork(self.app), contact_id)

    def sees(self, contact: Contact) -> ItemScope:
        """Whose items `contact` sees, by the write model's organisation."""
        held = UUID(contact.organisation_id) if contact.organisation_id else None
        organisation = UnitOfWork(self.app).get(held, Organisation) if held else None
        return sees_items_of(contact, organisation)


def _check_version(aggregate: Organisation | Contact, expected: int | None) -> None:
    if expected is not None and aggregate.version != expected:
        raise VersionMismatchError(expected, aggregate.version)


def _result(aggregate: Organisation | Contact | User, position: int) -> CommandResult:
    return CommandResult(id=aggregate.id, number=None, version=aggregate.version, position=position)
