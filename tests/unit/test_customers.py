"""Customer organisations and contacts: the sharing rule, handlers on the in-memory store,
contacts on first sight, the email-domain index, turning a contact into staff, the view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands.accounts import AccountService
from commands.application import LedgerDesk
from commands.customers import (
    ChangeColleagueVisibility,
    ChangeOrganisationDomains,
    ChangeSharing,
    CustomerService,
    MoveContactToOrganisation,
    RegisterContact,
    RegisterOrganisation,
    RenameContact,
    RenameOrganisation,
    TurnContactIntoStaff,
    ensure_contact,
)
from commands.errors import VersionMismatchError
from commands.models import Context, RegisterUser
from commands.unit_of_work import UnitOfWork
from domain.contact import Contact, ContactSource, contact_id_for, item_scope, sees_items_of
from domain.customer import Organisation, Sharing
from domain.errors import (
    ConflictError,
    ContactAlreadyExistsError,
    ContactAlreadyStaffError,
    ContactNotFoundError,
    ContactWithoutOrganisationError,
    EmailDomainTakenError,
    InvalidValueError,
    OrganisationNotFoundError,
    PermissionDeniedError,
    UserAlreadyExistsError,
)
from domain.user import CompanyRole, Flag, user_id_for
from domain.values import Actor
from projections.base import Positioned, Tables
from projections.customers import (
    CustomerDirectoryProjection,
    get_contact,
    get_organisation,
    list_contacts,
)
from projections.db import SQLiteViews
from tests.factories import SYSTEM

STAFF = Actor.user(UUID(int=1))


@pytest.fixture
def app() -> Iterator[LedgerDesk]:
    app = LedgerDesk(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


@pytest.fixture
def customers(app: LedgerDesk) -> CustomerService:
    return CustomerService(app)


def staff(app: LedgerDesk, email: str, *flags: Flag, admin: bool = False) -> Context:
    role = CompanyRole.ADMIN if admin else CompanyRole.MEMBER
    result = AccountService(app).register_user(
        RegisterUser(email=email, name=email, role=role, flags=list(flags)), SYSTEM
    )
    return Context(actor=Actor.user(result.id), correlation_id=str(uuid4()))


def organisation(
    customers: CustomerService, name: str = "Acme", *domains: str, sharing: Sharing = Sharing.NONE
) -> UUID:
    cmd = RegisterOrganisation(name=name, domains=list(domains), sharing=sharing)
    return customers.register_organisation(cmd, SYSTEM).id


def contact(customers: CustomerService, email: str, org: UUID | None = None) -> UUID:
    return customers.register_contact(RegisterContact(email=email, organisation_id=org), SYSTEM).id


# --- the sharing rule -------------------------------------------------------------


def member_of(sharing: Sharing, sees_colleagues_items: bool) -> tuple[Contact, Organisation]:
    org = Organisation.register(
        name="Acme", domains=[], sharing=sharing, actor=STAFF, correlation_id="c"
    )
    person = Contact.register(
        email="ada@acme.example",
        name="Ada",
        organisation_id=org.id,
        source=ContactSource.STAFF,
        actor=STAFF,
        correlation_id="c",
    )
    if sees_colleagues_items:
        person.change_colleague_visibility(True, STAFF, "c")
    return person, org


@pytest.mark.parametrize(
    ("sharing", "flag", "scope"),
    [
        (Sharing.NONE, False, "own"),
        (Sharing.NONE, True, "own"),
        (Sharing.EVERYONE, False, "organisation"),
        (Sharing.EVERYONE, True, "organisation"),
        (Sharing.PER_MEMBER, False, "own"),
        (Sharing.PER_MEMBER, True, "organisation"),
    ],
)
def test_the_sharing_mode_and_the_members_flag_decide_whose_items_a_contact_sees(
    sharing: Sharing, flag: bool, scope: str
) -> None:
    # Given a contact of an organisation with this sharing mode and flag
    person, org = member_of(sharing, flag)
    # Then the rule answers
    assert sees_items_of(person, org) == scope
    assert item_scope(sharing.value, flag) == scope


def test_a_contact_sees_only_their_own_items_without_their_organisation() -> None:
    person, org = member_of(Sharing.EVERYONE, True)
    other, _ = member_of(Sharing.EVERYONE, True)
    assert sees_items_of(person, None) == "own"
    assert sees_items_of(other, org) == "own"
    assert item_scope(None, True) == "own"


def test_leaving_an_organisation_ends_seeing_colleagues_items() -> None:
    # Given a contact who sees colleagues' items under per-member sharing
    person, org = member_of(Sharing.PER_MEMBER, True)
    # When they leave and join again
    person.move_to(None, STAFF, "c")
    person.move_to(org.id, STAFF, "c")
    # Then the grant did not come back with them
    assert person.sees_colleagues_items is False
    assert sees_items_of(person, org) == "own"


def test_a_contact_without_an_organisation_cannot_be_let_see_colleagues_items() -> None:
    person = Contact.register(
        email="ada@example.com",
        name="",
        organisation_id=None,
        source=ContactSource.STAFF,
        actor=STAFF,
        correlation_id="c",
    )
    assert person.name == "ada@example.com"
    with pytest.raises(ContactWithoutOrganisationError):
        person.change_colleague_visibility(True, STAFF, "c")


# --- organisations ------------------------------------------------------------------


def test_an_organisation_is_renamed_reshared_and_redomained_in_one_write(
    customers: CustomerService,
) -> None:
    # Given an organisation
    org_id = organisation(customers, "Acme", "acme.example")
    # When several changes come in one write
    result = customers.change_organisation(
        org_id,
        [
            RenameOrganisation(name=" Acme Ltd "),
            ChangeSharing(sharing=Sharing.PER_MEMBER),
            ChangeOrganisationDomains(domains=["@ACME.example", "acme.test"]),
        ],
        SYSTEM,
    )
    # Then they are saved together
    org = customers.organisation(org_id)
    assert (org.name, org.sharing, org.domains) == (
        "Acme Ltd",
        "per_member",
        ["acme.example", "acme.test"],
    )
    assert result.version == org.version == 4


@pytest.mark.parametrize("domains", [["not a domain"], ["acme"], ["a@b.example"], ["-x.example"]])
def test_a_malformed_domain_is_refused_naming_the_field(
    customers: CustomerService, domains: list[str]
) -> None:
    with pytest.raises(InvalidValueError) as refused:
        customers.register_organisation(RegisterOrganisation(name="Acme", domains=domains), SYSTEM)
    assert refused.value.field == "domains"


def test_a_domain_belongs_to_one_organisation_until_it_lets_go(
    customers: CustomerService,
) -> None:
    # Given an organisation holding a domain
    acme = organisation(customers, "Acme", "acme.example")
    # When another claims it, on registration or by a change
    with pytest.raises(EmailDomainTakenError):
        organisation(customers, "Rival", "ACME.example")
    rival = organisation(customers, "Rival")
    with pytest.raises(ConflictError):
        customers.change_organisation(
            rival, [ChangeOrganisationDomains(domains=["acme.example"])], SYSTEM
        )
    # Then it stays with its holder, until the holder releases it
    assert customers.organisation(rival).domains == []
    customers.change_organisation(acme, [ChangeOrganisationDomains(domains=[])], SYSTEM)
    customers.change_organisation(
        rival, [ChangeOrganisationDomains(domains=["acme.example"])], SYSTEM
    )
    assert customers.organisation(rival).domains == ["acme.example"]


def test_a_stale_version_is_refused(customers: CustomerService) -> None:
    org_id = organisation(customers)
    customers.change_organisation(org_id, [RenameOrganisation(name="Acme 2")], SYSTEM)
    with pytest.raises(VersionMismatchError):
        customers.change_organisation(org_id, [RenameOrganisation(name="Acme 3")], SYSTEM, 1)


def test_changing_an_unknown_organisation_or_contact_is_not_found(
    customers: CustomerService,
) -> None:
    with pytest.raises(OrganisationNotFoundError):
        customers.change_organisation(uuid4(), [RenameOrganisation(name="X")], SYSTEM)
    with pytest.raises(ContactNotFoundError):
        customers.change_contact(uuid4(), [RenameContact(name="X")], SYSTEM)
    with pytest.raises(OrganisationNotFoundError):
        contact(customers, "ada@example.com", uuid4())
    ada = contact(customers, "ada@example.com")
    with pytest.raises(OrganisationNotFoundError):
        customers.change_contact(ada, [MoveContactToOrganisation(organisation_id=uuid4())], SYSTEM)


# --- contacts -------------------------------------------------------------------------


def test_an_email_belongs_to_one_contact_only(customers: CustomerService) -> None:
    # Given a contact
    first = contact(customers, "ada@example.com")
    assert first == contact_id_for("ada@example.com")
    # When another is registered with the same email, spelt differently
    with pytest.raises(ContactAlreadyExistsError) as refused:
        contact(customers, " ADA@Example.com")
    # Then it conflicts
    assert isinstance(refused.value, ConflictError)


def test_a_contact_registered_by_staff_joins_the_organisation_of_its_domain(
    customers: CustomerService,
) -> None:
    acme = organisation(customers, "Acme", "acme.example")
    other = organisation(customers, "Other")
    by_domain = customers.contact(contact(customers, "ada@acme.example"))
    chosen = customers.contact(contact(customers, "bob@acme.example", other))
    elsewhere = customers.contact(contact(customers, "cy@elsewhere.example"))
    assert by_domain.organisation_id == str(acme)
    assert by_domain.source == "staff"
    assert chosen.organisation_id == str(other)
    assert elsewhere.organisation_id is None


def test_a_contact_is_moved_renamed_and_let_see_colleagues_items_in_one_write(
    customers: CustomerService,
) -> None:
    # Given a contact outside any organisation
    acme = organisation(customers, "Acme", sharing=Sharing.PER_MEMBER)
    ada = contact(customers, "ada@example.com")
    # When moved, renamed and let see colleagues' items at once
    customers.change_contact(
        ada,
        [
            RenameContact(name="Ada L."),
            MoveContactToOrganisation(organisation_id=acme),
            ChangeColleagueVisibility(sees_colleagues_items=True),
        ],
        SYSTEM,
    )
    # Then the contact sees the organisation's items
    person = customers.contact(ada)
    assert (person.name, person.organisation_id) == ("Ada L.", str(acme))
    assert customers.sees(person) == "organisation"
    # And leaving takes that away
    customers.change_contact(ada, [MoveContactToOrganisation(organisation_id=None)], SYSTEM)
    person = customers.contact(ada)
    assert (person.organisation_id, person.sees_colleagues_items) == (None, False)
    assert customers.sees(person) == "own"


def test_only_admins_and_customer_managers_register_or_change_customers(
    app: LedgerDesk, customers: CustomerService
) -> None:
    # Given a plain member, a member who manages customers and an admin
    plain = staff(app, "plain@example.com")
    manager = staff(app, "manager@example.com", Flag.MANAGE_CUSTOMERS)
    admin = staff(app, "admin@example.com", admin=True)
    org_id = organisation(customers)
    ada = contact(customers, "ada@example.com")
    # Then the plain member may change nothing
    attempts: list[Any] = [
        lambda: customers.register_organisation(RegisterOrganisation(name="X"), plain),
        lambda: customers.change_organisation(org_id, [RenameOrganisation(name="X")], plain),
        lambda: customers.register_contact(RegisterContact(email="x@example.com"), plain),
        lambda: customers.change_contact(ada, [RenameContact(name="X")], plain),
        lambda: customers.change_organisation(org_id, [], plain),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDeniedError):
            attempt()
    # And the others may
    for ctx in (manager, admin):
        customers.register_organisation(RegisterOrganisation(name="Y"), ctx)
        customers.change_organisation(org_id, [RenameOrganisation(name=ctx.correlation_id)], ctx)
        customers.register_contact(RegisterContact(email=f"{uuid4().hex}@example.com"), ctx)
        customers.change_contact(ada, [RenameContact(name=ctx.correlation_id)], ctx)
    assert customers.contact(ada).name == admin.correlation_id


# --- first sight ----------------------------------------------------------------------


def placed(new: Contact | None) -> str | None:
    """The organisation a contact made on first sight joined."""
    assert new is not None
    return new.organisation_id


def test_a_requester_becomes_a_contact_on_first_sight_only(app: LedgerDesk) -> None:
    # Given no contact for an email
    ctx = Context(actor=Actor.system("email"), correlation_id="mail-1")
    # When it is seen for the first time
    new = ensure_contact(UnitOfWork(app), " Ada@Example.com ", ctx, name="Ada Lovelace")
    assert new is not None
    app.save(new)
    # Then a contact exists, made from a ticket; and the second sighting makes nothing
    assert (new.email, new.name, new.source, new.organisation_id) == (
        "ada@example.com",
        "Ada Lovelace",
        "ticket",
        None,
    )
    assert new.id == contact_id_for("ada@example.com")
    assert ensure_contact(UnitOfWork(app), "ada@example.com", ctx) is None


def test_a_requester_seen_first_joins_the_organisation_listing_their_domain(
    app: LedgerDesk, customers: CustomerService
) -> None:
    # Given an organisation that lists a domain
    acme = organisation(customers, "Acme", "acme.example")
    ctx = Context(actor=Actor.system("email"), correlation_id="mail-2")
    # When requesters of that domain, another domain and an unlistable one are first seen
    joined = ensure_contact(UnitOfWork(app), "bob@ACME.example", ctx)
    outside = ensure_contact(UnitOfWork(app), "bob@acme.example.org", ctx)
    odd = ensure_contact(UnitOfWork(app), "bob@under_score.example", ctx)
    # Then only the first joins it, and none of them fails
    assert [placed(c) for c in (joined, outside, odd)] == [str(acme), None, None]


def test_a_released_domain_no_longer_places_new_contacts(
    app: LedgerDesk, customers: CustomerService
) -> None:
    acme = organisation(customers, "Acme", "old.example")
    customers.change_organisation(
        acme, [ChangeOrganisationDomains(domains=["new.example"])], SYSTEM
    )
    old = ensure_contact(UnitOfWork(app), "a@old.example", SYSTEM)
    new = ensure_contact(UnitOfWork(app), "a@new.example", SYSTEM)
    assert [placed(old), placed(new)] == [None, str(acme)]


# --- turning into staff ------------------------------------------------------------------


def test_an_admin_turns_a_contact_into_a_member_staff_user_with_its_email_and_name(
    app: LedgerDesk, customers: CustomerService
) -> None:
    # Given a contact
    admin = staff(app, "admin@example.com", admin=True)
    ada = customers.register_contact(
        RegisterContact(email="ada@example.com", name="Ada"), SYSTEM
    ).id
    # When an admin turns it into staff
    result = customers.turn_contact_into_staff(TurnContactIntoStaff(contact_id=ada), admin)
    # Then a member user exists with its email and name, and the contact points at it
    user = AccountService(app).user(result.id)
    assert result.id == user_id_for("ada@example.com")
    assert (user.email, user.name, user.role, user.flags) == (
        "ada@example.com",
        "Ada",
        "member",
        [],
    )
    assert customers.contact(ada).user_id == str(user.id)
    # And it cannot happen twice
    with pytest.raises(ContactAlreadyStaffError):
        customers.turn_contact_into_staff(TurnContactIntoStaff(contact_id=ada), admin)


def test_a_contact_whose_email_a_staff_user_has_is_not_turned_into_staff(
    app: LedgerDesk, customers: CustomerService
) -> None:
    staff(app, "grace@example.com")
    grace = contact(customers, "grace@example.com")
    version = customers.contact(grace).version
    with pytest.raises(UserAlreadyExistsError):
        customers.turn_contact_into_staff(TurnContactIntoStaff(contact_id=grace), SYSTEM)
    assert customers.contact(grace).version == version
    assert customers.contact(grace).user_id is None


def test_only_admins_turn_contacts_into_staff(app: LedgerDesk, customers: CustomerService) -> None:
    manager = staff(app, "manager@example.com", Flag.MANAGE_CUSTOMERS)
    ada = contact(customers, "ada@example.com")
    with pytest.raises(PermissionDeniedError):
        customers.turn_contact_into_staff(TurnContactIntoStaff(contact_id=ada), manager)
    with pytest.raises(ContactNotFoundError):
        customers.turn_contact_into_staff(TurnContactIntoStaff(contact_id=uuid4()), SYSTEM)


# --- the view ------------------------------------------------------------------------------


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def test_the_directory_shows_organisations_with_contact_counts_and_whose_items_each_sees(
    views: SQLiteViews,
) -> None:
    # Given an organisation's events and two contacts' events
    org = Organisation.register(
        name="Acme", domains=["acme.example"], sharing=Sharing.NONE, actor=STAFF, correlation_id="c"
    )
    org.change_sharing(Sharing.PER_MEMBER, STAFF, "c")
    ada, bob = (
        Contact.register(
            email=email,
            name="",
            organisation_id=org.id,
            source=ContactSource.TICKET,
            actor=STAFF,
            correlation_id="c",
        )
        for email in ("ada@acme.example", "bob@acme.example")
    )
    ada.change_colleague_visibility(True, STAFF, "c")
    bob.change_colleague_visibility(True, STAFF, "c")
    bob.move_to(None, STAFF, "c")
    events = [*org.collect_events(), *ada.collect_events(), *bob.collect_events()]
    # When the view applies them
    projection, t = CustomerDirectoryProjection(), Tables(1)
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, [Positioned(i + 1, e) for i, e in enumerate(events)])
    # Then it shows the organisation, its one remaining contact, and whose items each sees
    with views.read() as tx:
        shown = get_organisation(tx, t, str(org.id))
        members, _ = list_contacts(tx, t, str(org.id), None, None, 10)
        gone = get_contact(tx, t, str(bob.id))
    assert shown is not None
    assert (shown["sharing"], shown["domains"], shown["contact_count"]) == (
        "per_member",
        ["acme.example"],
        1,
    )
    assert [(m["email"], m["sees"]) for m in members] == [("ada@acme.example", "organisation")]
    assert gone is not None
    assert (gone["organisation_id"], gone["sees_colleagues_items"], gone["sees"]) == (
        None,
        False,
        "own",
    )
