"""The Contact aggregate: a customer person, known by email, perhaps in an organisation."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.customer import Organisation, Sharing
from domain.errors import (
    ContactAlreadyStaffError,
    ContactWithoutOrganisationError,
    InvalidValueError,
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


class Contact(Aggregate):
    """A customer person: requester of tickets, member of at most one organisation."""

    TOPIC = "ledgerdesk:Contact"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Renamed: ClassVar[type[Aggregate.Event]]
        JoinedOrganisation: ClassVar[type[Aggregate.Event]]
        LeftOrganisation: ClassVar[type[Aggregate.Event]]
        ColleagueVisibilityChanged: ClassVar[type[Aggregate.Event]]
        TurnedIntoStaff: ClassVar[type[Aggregate.Event]]

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
