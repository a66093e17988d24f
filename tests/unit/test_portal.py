"""The customer portal: invitation and session rules, the visibility rule, the portal
handlers on the in-memory store, and the portal view fed events directly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr

from commands.application import LedgerDesk
from commands.blobs import LocalBlobStore
from commands.customers import (
    ChangeColleagueVisibility,
    ChangeSharing,
    CustomerService,
    MoveContactToOrganisation,
    RegisterContact,
    RegisterOrganisation,
    TurnContactIntoStaff,
)
from commands.errors import InvalidTokenError, TicketNotFoundError
from commands.models import Context, OpenTicket
from commands.portal import (
    IssuePortalInvitation,
    OpenPortalTicket,
    PortalService,
    PostPortalReply,
    StartPortalSession,
)
from commands.service import CommandService
from domain.contact import Contact, ContactSource, contact_id_for, may_see_item_of
from domain.customer import Organisation, Sharing
from domain.errors import (
    ContactAlreadyStaffError,
    InvalidCredentialsError,
    PermissionDeniedError,
)
from domain.project import INBOX_ID
from domain.ticket import Ticket
from domain.user import Flag
from domain.values import Actor, Channel
from projections.base import Positioned, Tables
from projections.db import SQLiteViews
from projections.portal import (
    PortalProjection,
    customer_document,
    get_portal_ticket,
    list_portal_tickets,
)
from tests.factories import SYSTEM
from tests.unit.test_customers import staff

STAFF = Actor.user(UUID(int=1))
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LATER = (NOW + timedelta(hours=1)).isoformat()


def person(email: str = "ada@acme.example", organisation_id: UUID | None = None) -> Contact:
    return Contact.register(
        email=email,
        name="",
        organisation_id=organisation_id,
        source=ContactSource.STAFF,
        actor=STAFF,
        correlation_id="c",
    )


def redeem(contact: Contact, invitation_sha256: str, now: datetime = NOW) -> None:
    contact.redeem_portal_invitation(
        invitation_sha256=invitation_sha256,
        now=now,
        token_id="t1",
        secret_sha256="s" * 64,
        expires_at=LATER,
        actor=Actor.customer(contact.email),
        correlation_id="c",
    )


# --- invitations and sessions on the Contact ------------------------------------------------


def test_an_invitation_is_redeemed_once_for_a_session() -> None:
    # Given a contact with a pending invitation
    ada = person()
    ada.invite_to_portal("i" * 64, LATER, STAFF, "c")
    # When it is redeemed
    redeem(ada, "i" * 64)
    # Then a session is live, and the invitation cannot be redeemed again
    assert ada.has_portal_session("t1", "s" * 64, NOW)
    with pytest.raises(InvalidCredentialsError):
        redeem(ada, "i" * 64)


def test_a_forged_or_expired_invitation_is_refused() -> None:
    # Given a contact with a pending invitation that expires in an hour
    ada = person()
    ada.invite_to_portal("i" * 64, LATER, STAFF, "c")
    # Then another secret is refused, and so is the right one after the hour
    with pytest.raises(InvalidCredentialsError, match="not valid"):
        redeem(ada, "x" * 64)
    with pytest.raises(InvalidCredentialsError, match="expired"):
        redeem(ada, "i" * 64, now=NOW + timedelta(hours=2))
    assert ada.portal_sessions == {}


def test_a_new_invitation_replaces_the_one_before() -> None:
    ada = person()
    ada.invite_to_portal("a" * 64, LATER, STAFF, "c")
    ada.invite_to_portal("b" * 64, LATER, STAFF, "c")
    with pytest.raises(InvalidCredentialsError):
        redeem(ada, "a" * 64)
    redeem(ada, "b" * 64)


def test_a_session_stops_at_its_expiry_at_logout_and_when_made_staff() -> None:
    # Given a live session
    ada = person()
    ada.invite_to_portal("i" * 64, LATER, STAFF, "c")
    redeem(ada, "i" * 64)
    # Then it fails with another secret and after it expires
    assert not ada.has_portal_session("t1", "x" * 64, NOW)
    assert not ada.has_portal_session("t1", "s" * 64, NOW + timedelta(hours=1))
    # And it fails once the contact is a staff user, who may not be invited either
    ada.turn_into_staff(UUID(int=9), STAFF, "c")
    assert not ada.has_portal_session("t1", "s" * 64, NOW)
    with pytest.raises(ContactAlreadyStaffError):
        ada.invite_to_portal("j" * 64, LATER, STAFF, "c")


def test_logging_out_ends_the_session() -> None:
    ada = person()
    ada.invite_to_portal("i" * 64, LATER, STAFF, "c")
    redeem(ada, "i" * 64)
    ada.end_portal_session("t1", Actor.customer(ada.email), "c")
    assert not ada.has_portal_session("t1", "s" * 64, NOW)


# --- the visibility rule -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sharing", "flag", "sees_colleague"),
    [
        (Sharing.NONE, True, False),
        (Sharing.EVERYONE, False, True),
        (Sharing.PER_MEMBER, False, False),
        (Sharing.PER_MEMBER, True, True),
    ],
)
def test_a_contact_sees_a_colleagues_item_exactly_as_the_sharing_says(
    sharing: Sharing, flag: bool, sees_colleague: bool
) -> None:
    # Given two contacts of one organisation, and one of another
    acme = Organisation.register(
        name="Acme", domains=[], sharing=sharing, actor=STAFF, correlation_id="c"
    )
    ada, bob = person("ada@acme.example", acme.id), person("bob@acme.example", acme.id)
    eve = person("eve@other.example")
    if flag:
        ada.change_colleague_visibility(True, STAFF, "c")
    # Then Ada always sees her own items, her colleague's as the sharing says, never Eve's
    assert may_see_item_of(ada, acme, ada)
    assert may_see_item_of(ada, acme, bob) is sees_colleague
    assert not may_see_item_of(ada, acme, eve)
    assert not may_see_item_of(ada, acme, None)


# --- the portal's handlers on the in-memory store ------------------------------------------


@pytest.fixture
def app() -> Iterator[LedgerDesk]:
    app = LedgerDesk(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


@pytest.fixture
def portal(app: LedgerDesk) -> PortalService:
    return PortalService(app, timedelta(hours=1))


def customer(email: str) -> Context:
    return Context(actor=Actor.customer(email), correlation_id=str(uuid.uuid4()))


def signed_in(app: LedgerDesk, portal: PortalService, email: str, org: UUID | None = None) -> str:
    """Register a contact, invite them and redeem the invitation; their session token."""
    contact_id = (
        CustomerService(app)
        .register_contact(RegisterContact(email=email, organisation_id=org), SYSTEM)
        .id
    )
    _, invitation, _, _ = portal.issue_invitation(
        IssuePortalInvitation(contact_id=contact_id), SYSTEM
    )
    cmd = StartPortalSession(invitation=SecretStr(invitation))
    return portal.start_session(cmd, customer(email))[2]


def test_only_staff_who_manage_customers_issue_portal_invitations(
    app: LedgerDesk, portal: PortalService
) -> None:
    # Given a contact, a plain member, a customer manager and a customer
    ada = CustomerService(app).register_contact(RegisterContact(email="ada@x.example"), SYSTEM)
    invite = IssuePortalInvitation(contact_id=ada.id)
    # Then only the manager's invitation is issued
    with pytest.raises(PermissionDeniedError):
        portal.issue_invitation(invite, staff(app, "member@example.com"))
    with pytest.raises(PermissionDeniedError):
        portal.issue_invitation(invite, customer("ada@x.example"))
    manager = staff(app, "cm@example.com", Flag.MANAGE_CUSTOMERS)
    _, invitation, expires_at, mailed = portal.issue_invitation(invite, manager)
    assert mailed is False  # No mail is configured here.
    assert datetime.fromisoformat(expires_at) > datetime.now(UTC) + timedelta(days=6)
    assert invitation.startswith(f"ldp_{ada.id.hex}_")


def test_only_hashes_of_portal_secrets_are_stored(app: LedgerDesk, portal: PortalService) -> None:
    # When a contact is invited and signs in
    token = signed_in(app, portal, "ada@x.example")
    # Then neither secret is in any stored event
    stored = repr([e.__dict__ for e in app.events.get(contact_id_for("ada@x.example"))])
    assert token.split("_", 3)[3] not in stored
    assert "PortalSessionStarted" in repr(list(app.events.get(contact_id_for("ada@x.example"))))
    assert portal.authenticate(token).contact.email == "ada@x.example"


def test_only_a_live_customer_session_token_authenticates(
    app: LedgerDesk, portal: PortalService
) -> None:
    # Given a session token
    token = signed_in(app, portal, "ada@x.example")
    prefix, contact_hex, token_id, secret = token.split("_", 3)
    forged = ("A" if secret[0] != "A" else "B") + secret[1:]
    # Then a staff-shaped, a forged, a truncated or an invitation-shaped token fails
    for bad in (
        f"ld_{contact_hex}_{token_id}_{secret}",
        f"{prefix}_{contact_hex}_{token_id}_{forged}",
        f"{prefix}_{contact_hex}_{token_id}_",
        f"ldp_{contact_hex}_{secret}",
        f"{prefix}_nothex_{token_id}_{secret}",
    ):
        with pytest.raises(InvalidTokenError):
            portal.authenticate(bad)
    # And the contact turned into staff has no portal session any more
    CustomerService(app).turn_contact_into_staff(
        TurnContactIntoStaff(contact_id=contact_id_for("ada@x.example")), SYSTEM
    )
    with pytest.raises(InvalidTokenError):
        portal.authenticate(token)


def test_a_portal_ticket_is_opened_in_the_inbox_with_the_customer_as_requester(
    app: LedgerDesk, portal: PortalService
) -> None:
    signed_in(app, portal, "ada@x.example")
    # When Ada opens a ticket in the portal
    result = portal.open_ticket(OpenPortalTicket(title="Help"), customer("ada@x.example"))
    # Then it is hers, from the portal, in the Inbox, by her
    opened = next(iter(app.events.get(result.id, limit=1)))
    assert isinstance(opened, Ticket.Opened)
    assert (opened.requester_email, opened.channel) == ("ada@x.example", Channel.PORTAL.value)
    assert (opened.project_id, opened.actor) == (str(INBOX_ID), "customer:ada@x.example")


def test_customer_handlers_refuse_contexts_that_are_not_customers(
    app: LedgerDesk, portal: PortalService
) -> None:
    with pytest.raises(PermissionDeniedError):
        portal.open_ticket(OpenPortalTicket(title="Help"), SYSTEM)
    with pytest.raises(PermissionDeniedError):
        portal.open_ticket(OpenPortalTicket(title="Help"), customer("nobody@x.example"))


def test_a_customer_replies_only_on_tickets_they_may_see(
    app: LedgerDesk, portal: PortalService, tmp_path: Path
) -> None:
    # Given Ada and Bob in an organisation that shares nothing, and Bob's ticket
    acme = CustomerService(app).register_organisation(RegisterOrganisation(name="Acme"), SYSTEM)
    signed_in(app, portal, "ada@acme.example", acme.id)
    signed_in(app, portal, "bob@acme.example", acme.id)
    commands = CommandService(app, LocalBlobStore(tmp_path))
    bob_ticket = commands.open_ticket(
        OpenTicket(title="Bob's", requester_email="bob@acme.example"), SYSTEM
    ).number
    assert bob_ticket is not None
    reply = PostPortalReply(number=bob_ticket, message_id=uuid.uuid4(), body="Me too")
    # Then Ada's reply is refused as if the ticket did not exist (and so is a missing one)
    with pytest.raises(TicketNotFoundError):
        portal.post_reply(reply, customer("ada@acme.example"))
    with pytest.raises(TicketNotFoundError):
        portal.post_reply(reply.model_copy(update={"number": 999}), customer("ada@acme.example"))
    # When the organisation shares with Ada, her reply is a customer-visible message
    CustomerService(app).change_contact(
        contact_id_for("ada@acme.example"),
        [ChangeColleagueVisibility(sees_colleagues_items=True)],
        SYSTEM,
    )
    CustomerService(app).change_organisation(
        acme.id, [ChangeSharing(sharing=Sharing.PER_MEMBER)], SYSTEM
    )
    portal.post_reply(reply, customer("ada@acme.example"))
    last = list(app.events.get(Ticket.create_id(bob_ticket)))[-1]
    assert isinstance(last, Ticket.CustomerReplyPosted)
    # And once Ada leaves the organisation, she may not reply there any more
    CustomerService(app).change_contact(
        contact_id_for("ada@acme.example"),
        [MoveContactToOrganisation(organisation_id=None)],
        SYSTEM,
    )
    with pytest.raises(TicketNotFoundError):
        portal.post_reply(reply, customer("ada@acme.example"))


# --- the portal view -------------------------------------------------------------------------


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def ticket(number: int, requester: str) -> Ticket:
    return Ticket.open(
        number=number,
        title=f"Ticket {number}",
        description="It beeps",
        requester_email=requester,
        channel=Channel.PORTAL,
        priority="high",
        actor=STAFF,
        correlation_id="c",
    )


def post(t: Ticket, body: str, visibility: str) -> None:
    t.post_message(
        message_id=uuid.uuid4(),
        body=body,
        visibility=visibility,
        in_reply_to=None,
        actor=STAFF,
        correlation_id="c",
    )


def positioned(events: list[Any]) -> list[Positioned]:
    return [Positioned(i + 1, e) for i, e in enumerate(events)]


def test_the_portal_view_never_holds_internal_content() -> None:
    # Given a ticket with an internal message, an assignee and a team
    t = ticket(1, "ada@acme.example")
    post(t, "SECRET-INTERNAL", "internal")
    t.assign(UUID(int=5), STAFF, "c")
    t.assign_team(UUID(int=6), STAFF, "c")
    t.reprioritise("low", STAFF, "c")
    events = list(t.collect_events())
    # Then the view does not even subscribe to those events
    topics = PortalProjection().topics
    assert "ledgerdesk:Ticket.InternalMessagePosted" not in topics
    assert {"ledgerdesk:Ticket.UserAssigned", "ledgerdesk:Ticket.TeamAssigned"}.isdisjoint(topics)
    # And its document, fed every event, shows none of it, nor when it happened
    doc = customer_document(events)
    assert doc is not None
    assert "SECRET-INTERNAL" not in repr(doc)
    assert doc["messages"] == []
    assert doc["updated_at"] == doc["created_at"]
    assert set(doc) == {
        "number", "title", "description", "status", "state", "requester_email",
        "messages", "attachments", "created_at", "updated_at",
    }  # fmt: skip


def test_the_portal_view_scopes_tickets_by_requester_and_current_organisation(
    views: SQLiteViews,
) -> None:
    # Given Ada and Bob in Acme, Eve elsewhere, and a ticket of each
    projection, t = PortalProjection(), Tables(1)
    acme = str(UUID(int=7))
    ada, bob = person("ada@acme.example", UUID(acme)), person("bob@acme.example", UUID(acme))
    eve = person("eve@other.example")
    tickets = [ticket(1, "ada@acme.example"), ticket(2, "bob@acme.example")]
    tickets.append(ticket(3, "eve@other.example"))
    events = [e for a in (ada, bob, eve, *tickets) for e in a.collect_events()]
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, positioned(events))
    ada_id, bob_id = str(ada.id), str(bob.id)
    with views.read() as tx:
        # Then Ada sees her own only, or Acme's when the sharing lets her
        assert [r["number"] for r in list_portal_tickets(tx, t, ada_id, None, None, 10)[0]] == [1]
        assert [r["number"] for r in list_portal_tickets(tx, t, ada_id, acme, None, 10)[0]] == [
            2,
            1,
        ]
        assert get_portal_ticket(tx, t, ada_id, acme, 3) is None
        assert get_portal_ticket(tx, t, ada_id, None, 2) is None
    # When Bob leaves Acme
    bob.move_to(None, STAFF, "c")
    with views.write() as tx:
        projection.apply(tx, t, positioned(list(bob.collect_events())))
    # Then Ada no longer sees his ticket, and Bob still sees his own
    with views.read() as tx:
        assert get_portal_ticket(tx, t, ada_id, acme, 2) is None
        assert get_portal_ticket(tx, t, bob_id, None, 2) is not None


def test_the_portal_view_pages_newest_first_without_repeats(views: SQLiteViews) -> None:
    projection, t = PortalProjection(), Tables(1)
    ada = person()
    events = [
        e for a in (ada, *(ticket(n, ada.email) for n in range(1, 6))) for e in a.collect_events()
    ]
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, positioned(events))
    seen: list[int] = []
    cursor = None
    with views.read() as tx:
        while True:
            rows, cursor = list_portal_tickets(tx, t, str(ada.id), None, cursor, 2)
            seen += [r["number"] for r in rows]
            if cursor is None:
                break
    assert seen == [5, 4, 3, 2, 1]
