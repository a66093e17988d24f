"""The Contact aggregate: a customer person, known by email, perhaps in an organisation."""

from __future__ import annotations

import hmac
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.customer import Organisation, Sharing
from domain.errors import (
    ContactAlreadyStaffError,
    ContactWithoutOrganisationError,
    InvalidCredentialsError,
    InvalidValueError,
    TokenNotFoundError,
)
from domain.values import Actor, normalise_email

CONTACT_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/contacts")

ItemScope = Literal["own", "organisation"]


class ContactSource(StrEnum):
    """How the contact came to be known."""

    STAFF = "staff"
    TICKET = "ticket"
    IMPORT = "import"


def contact_id_for(email: str) -> UUID:
    """A contact's id follows from their email, so an email belongs to one contact."""
    return uuid5(CONTACT_NAMESPACE, normalise_email(email))


def item_scope(sharing: str | None, sees_colleagues_items: bool) -> ItemScope:
    """Whose items a contact sees, from their organisation's sharing (None: no organisation)."""
    if sharing == Sharing.EVERYONE or (sharing == Sharing.PER_MEMBER and sees_colleagues_items):
        return "organisation"
    return "own"


def sees_items_of(contact: Contact, organisation: Organisation | None) -> ItemScope:
    """Whether `contact` sees only their own items or their organisation's as well."""
    if organisation is None or contact.organisation_id != str(organisation.id):
        return "own"
    return item_scope(organisation.sharing, contact.sees_colleagues_items)


def may_see_item_of(
    viewer: Contact, organisation: Organisation | None, requester: Contact | None
) -> bool:
    """Whether `viewer` (in `organisation`, their current one) may see an item that
    `requester` asked for: their own always, a colleague's only as the sharing allows."""
    if requester is None:
        return False
    if requester.id == viewer.id:
        return True
    return (
        sees_items_of(viewer, organisation) == "organisation"
        and requester.organisation_id == viewer.organisation_id
    )


class Contact(Aggregate):
    """A customer person: requester of tickets, member of at most one organisation."""

    TOPIC = "ledgerdesk:Contact"
    # class_version 2: snapshots of version 1 had no portal password and no failing mail;
    # version 3: nor had those of version 2 a sign-in link apart from the invitation.
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Bring a version-1 snapshot's state to the shape of version 2."""
        state["portal_password_hash"] = None
        state["mail_failing"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Bring a version-2 snapshot's state to the shape of version 3."""
        state["portal_sign_in_link"] = None

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Renamed: ClassVar[type[Aggregate.Event]]
        JoinedOrganisation: ClassVar[type[Aggregate.Event]]
        LeftOrganisation: ClassVar[type[Aggregate.Event]]
        ColleagueVisibilityChanged: ClassVar[type[Aggregate.Event]]
        TurnedIntoStaff: ClassVar[type[Aggregate.Event]]
        PortalInvitationIssued: ClassVar[type[Aggregate.Event]]
        PortalInvitationRedeemed: ClassVar[type[Aggregate.Event]]
        PortalSessionStarted: ClassVar[type[Aggregate.Event]]
        PortalSessionEnded: ClassVar[type[Aggregate.Event]]
        PortalPasswordSet: ClassVar[type[Aggregate.Event]]
        PortalSignInLinkIssued: ClassVar[type[Aggregate.Event]]
        PortalSignInLinkRedeemed: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(email: str) -> UUID:
        return contact_id_for(email)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Contact.Created"

    class Registered(Aggregate.Created):
        """The contact exists; `source` says how it came to be known."""

        TOPIC = "ledgerdesk:Contact.Registered"
        email: str
        name: str
        organisation_id: str | None
        source: str
        actor: str
        correlation_id: str

    @event(Registered)
    def __init__(
        self,
        email: str,
        name: str,
        organisation_id: str | None,
        source: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.email = email
        self.name = name
        self.organisation_id = organisation_id
        self.source = source
        self.sees_colleagues_items = False
        self.user_id: str | None = None
        # The pending portal invitation and the live sessions, by the hashes of their secrets.
        self.portal_invitation: dict[str, str] | None = None
        # The pending one-time sign-in link, kept apart: asking for one (anyone may) never
        # voids an invitation staff sent.
        self.portal_sign_in_link: dict[str, str] | None = None
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.portal_password_hash: str | None = None
        # Why mail to the contact's address fails, since a bounce said so; None: it works.
        self.mail_failing: dict[str, Any] | None = None

    @classmethod
    def register(
        cls,
        *,
        email: str,
        name: str,
        organisation_id: UUID | None,
        source: ContactSource,
        actor: Actor,
        correlation_id: str,
    ) -> Contact:
        email = normalise_email(email)
        return cls(
            email=email,
            name=name.strip() or email,
            organisation_id=str(organisation_id) if organisation_id else None,
            source=source.value,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def rename(self, name: str, actor: Actor, correlation_id: str) -> None:
        name = name.strip()
        if not name:
            raise InvalidValueError("name", "name must not be empty")
        if name != self.name:
            self._renamed(name=name, actor=actor.ref, correlation_id=correlation_id)

    @event("Renamed", topic="ledgerdesk:Contact.Renamed")
    def _renamed(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name

    # --- organisation ---------------------------------------------------------

    def move_to(self, organisation_id: UUID | None, actor: Actor, correlation_id: str) -> None:
        """Leave the current organisation (if any) and join `organisation_id` (if any)."""
        wanted = str(organisation_id) if organisation_id else None
        if wanted == self.organisation_id:
            return
        if self.organisation_id is not None:
            self._left(
                organisation_id=self.organisation_id, actor=actor.ref, correlation_id=correlation_id
            )
        if wanted is not None:
            self._joined(organisation_id=wanted, actor=actor.ref, correlation_id=correlation_id)

    @event("JoinedOrganisation", topic="ledgerdesk:Contact.JoinedOrganisation")
    def _joined(self, organisation_id: str, actor: str, correlation_id: str) -> None:
        self.organisation_id = organisation_id

    @event("LeftOrganisation", topic="ledgerdesk:Contact.LeftOrganisation")
    def _left(self, organisation_id: str, actor: str, correlation_id: str) -> None:
        # Seeing colleagues' items was granted within that organisation: it ends with it.
        self.organisation_id = None
        self.sees_colleagues_items = False

    def change_colleague_visibility(self, sees: bool, actor: Actor, correlation_id: str) -> None:
        """Let the contact see colleagues' items (or not) under per-member sharing."""
        if sees and self.organisation_id is None:
            raise ContactWithoutOrganisationError
        if sees != self.sees_colleagues_items:
            self._visibility_changed(
                sees_colleagues_items=sees, actor=actor.ref, correlation_id=correlation_id
            )

    @event("ColleagueVisibilityChanged", topic="ledgerdesk:Contact.ColleagueVisibilityChanged")
    def _visibility_changed(
        self, sees_colleagues_items: bool, actor: str, correlation_id: str
    ) -> None:
        self.sees_colleagues_items = sees_colleagues_items

    # --- staff ------------------------------------------------------------------

    def turn_into_staff(self, user_id: UUID, actor: Actor, correlation_id: str) -> None:
        """Record that the staff user `user_id` was made from this contact."""
        if self.user_id is not None:
            raise ContactAlreadyStaffError(self.email)
        self._turned_into_staff(
            user_id=str(user_id), actor=actor.ref, correlation_id=correlation_id
        )

    @event("TurnedIntoStaff", topic="ledgerdesk:Contact.TurnedIntoStaff")
    def _turned_into_staff(self, user_id: str, actor: str, correlation_id: str) -> None:
        self.user_id = user_id

    # --- mail -------------------------------------------------------------------

    class MailFailing(Aggregate.Event):
        """Mail we sent about item `number` bounced for good (`status` 5.x.x): the address
        fails until mail from it shows it lives again."""

        TOPIC = "ledgerdesk:Contact.MailFailing"
        status: str
        diagnostic: str
        number: int
        actor: str
        correlation_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.mail_failing = {
                "since": self.timestamp,
                "status": self.status,
                "diagnostic": self.diagnostic,
                "number": self.number,
            }

    class MailWorking(Aggregate.Event):
        """Mail came from the contact's failing address: it works again."""

        TOPIC = "ledgerdesk:Contact.MailWorking"
        actor: str
        correlation_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.mail_failing = None

    def mail_bounced(
        self, status: str, diagnostic: str, number: int, actor: Actor, correlation_id: str
    ) -> None:
        """A permanent delivery failure of mail we sent to the contact about item `number`."""
        self.trigger_event(
            self.MailFailing,
            status=status,
            diagnostic=diagnostic[:1000],
            number=number,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def mail_received(self, actor: Actor, correlation_id: str) -> None:
        """Mail came from the contact's address: a failing address works again."""
        if self.mail_failing is not None:
            self.trigger_event(self.MailWorking, actor=actor.ref, correlation_id=correlation_id)

    # --- portal -------------------------------------------------------------------

    def invite_to_portal(
        self, invitation_sha256: str, expires_at: str, actor: Actor, correlation_id: str
    ) -> None:
        """Issue a portal invitation by the hash of its one-time secret (it replaces any
        earlier one); staff users made from contacts use the staff app instead."""
        self._check_customer()
        self._portal_invitation_issued(
            invitation_sha256=invitation_sha256,
            expires_at=expires_at,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("PortalInvitationIssued", topic="ledgerdesk:Contact.PortalInvitationIssued")
    def _portal_invitation_issued(
        self, invitation_sha256: str, expires_at: str, actor: str, correlation_id: str
    ) -> None:
        self.portal_invitation = {"sha256": invitation_sha256, "expires_at": expires_at}

    def redeem_portal_invitation(
        self,
        *,
        invitation_sha256: str,
        now: datetime,
        token_id: str,
        secret_sha256: str,
        expires_at: str,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """Exchange the pending invitation (once, before it expires) for a portal session."""
        self.check_invitation(invitation_sha256, now)
        self._portal_invitation_redeemed(actor=actor.ref, correlation_id=correlation_id)
        self.start_portal_session(
            token_id=token_id, secret_sha256=secret_sha256, expires_at=expires_at, actor=actor,
            correlation_id=correlation_id,
        )  # fmt: skip

    def check_invitation(self, invitation_sha256: str, now: datetime) -> None:
        """InvalidCredentialsError unless the invitation is the pending one, unexpired."""
        _check_pending(
            self.portal_invitation if self.user_id is None else None, invitation_sha256, now
        )

    @event("PortalInvitationRedeemed", topic="ledgerdesk:Contact.PortalInvitationRedeemed")
    def _portal_invitation_redeemed(self, actor: str, correlation_id: str) -> None:
        self.portal_invitation = None

    def issue_sign_in_link(
        self, link_sha256: str, expires_at: str, actor: Actor, correlation_id: str
    ) -> None:
        """A one-time sign-in link by the hash of its secret (it replaces an earlier link,
        never the invitation); only for a customer who has chosen a password."""
        self._check_customer()
        if self.portal_password_hash is None:
            raise InvalidCredentialsError("the contact has not chosen a portal password")
        self._sign_in_link_issued(
            link_sha256=link_sha256,
            expires_at=expires_at,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("PortalSignInLinkIssued", topic="ledgerdesk:Contact.PortalSignInLinkIssued")
    def _sign_in_link_issued(
        self, link_sha256: str, expires_at: str, actor: str, correlation_id: str
    ) -> None:
        self.portal_sign_in_link = {"sha256": link_sha256, "expires_at": expires_at}

    def check_sign_in_link(self, link_sha256: str, now: datetime) -> None:
        """InvalidCredentialsError unless the link is the pending one, unexpired."""
        _check_pending(self.portal_sign_in_link if self.user_id is None else None, link_sha256, now)

    def redeem_sign_in_link(
        self,
        *,
        link_sha256: str,
        now: datetime,
        token_id: str,
        secret_sha256: str,
        expires_at: str,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """Exchange the pending sign-in link (once, before it expires) for a portal session."""
        self.check_sign_in_link(link_sha256, now)
        self._sign_in_link_redeemed(actor=actor.ref, correlation_id=correlation_id)
        self.start_portal_session(
            token_id=token_id, secret_sha256=secret_sha256, expires_at=expires_at, actor=actor,
            correlation_id=correlation_id,
        )  # fmt: skip

    @event("PortalSignInLinkRedeemed", topic="ledgerdesk:Contact.PortalSignInLinkRedeemed")
    def _sign_in_link_redeemed(self, actor: str, correlation_id: str) -> None:
        self.portal_sign_in_link = None

    @event("PortalSessionStarted", topic="ledgerdesk:Contact.PortalSessionStarted")
    def _portal_session_started(
        self, token_id: str, secret_sha256: str, expires_at: str, actor: str, correlation_id: str
    ) -> None:
        self.portal_sessions[token_id] = {"secret_sha256": secret_sha256, "expires_at": expires_at}

    def set_portal_password(self, password_hash: str, actor: Actor, correlation_id: str) -> None:
        """Record the contact's portal password by its argon2id hash (never the password).
        Every session started before ends: whoever held one may not keep it past the change."""
        self._check_customer()
        self._portal_password_set(
            password_hash=password_hash, actor=actor.ref, correlation_id=correlation_id
        )
        for token_id in list(self.portal_sessions):
            self._portal_session_ended(
                token_id=token_id, actor=actor.ref, correlation_id=correlation_id
            )

    @event("PortalPasswordSet", topic="ledgerdesk:Contact.PortalPasswordSet")
    def _portal_password_set(self, password_hash: str, actor: str, correlation_id: str) -> None:
        self.portal_password_hash = password_hash

    def start_portal_session(
        self,
        *,
        token_id: str,
        secret_sha256: str,
        expires_at: str,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """A session after a checked password (the caller checked it against the hash)."""
        self._check_customer()
        self._portal_session_started(
            token_id=token_id, secret_sha256=secret_sha256, expires_at=expires_at,
            actor=actor.ref, correlation_id=correlation_id,
        )  # fmt: skip

    def has_portal_session(self, token_id: str, secret_sha256: str, now: datetime) -> bool:
        """Whether a session token is live: known, matching, unexpired, and the contact is
        still a customer (a contact turned into staff keeps no portal session)."""
        held = self.portal_sessions.get(token_id)
        if self.user_id is not None or held is None:
            return False
        if not hmac.compare_digest(held["secret_sha256"], secret_sha256):
            return False
        return datetime.fromisoformat(held["expires_at"]) > now

    def end_portal_session(self, token_id: str, actor: Actor, correlation_id: str) -> None:
        """Log out: the session token stops working."""
        if token_id not in self.portal_sessions:
            raise TokenNotFoundError(token_id)
        self._portal_session_ended(
            token_id=token_id, actor=actor.ref, correlation_id=correlation_id
        )

    @event("PortalSessionEnded", topic="ledgerdesk:Contact.PortalSessionEnded")
    def _portal_session_ended(self, token_id: str, actor: str, correlation_id: str) -> None:
        del self.portal_sessions[token_id]

    def _check_customer(self) -> None:
        if self.user_id is not None:
            raise ContactAlreadyStaffError(self.email)


def _check_pending(held: dict[str, str] | None, sha256: str, now: datetime) -> None:
    """InvalidCredentialsError unless a pending one-time secret matches and is unexpired."""
    if held is None or not hmac.compare_digest(held["sha256"], sha256):
        raise InvalidCredentialsError("the invitation is not valid")
    if datetime.fromisoformat(held["expires_at"]) <= now:
        raise InvalidCredentialsError("the invitation has expired; ask for a new one")
