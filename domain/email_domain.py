"""The email-domain index: which customer organisation an email domain belongs to.

Its id follows from the domain, so a domain belongs to one organisation at most, and a
contact seen for the first time finds its organisation without asking a read model.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import EmailDomainTakenError, InvalidEmailDomainError
from domain.values import Actor

EMAIL_DOMAIN_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/email-domains")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+$")


def normalise_domain(value: str) -> str:
    """An email domain in the one form the model compares: trimmed, lower case, no `@`."""
    domain = value.strip().lower().removeprefix("@")
    if len(domain) > 253 or not _DOMAIN.match(domain):
        raise InvalidEmailDomainError(value)
    return domain


def domain_of(email: str) -> str:
    """The domain part of an already normalised email address."""
    return email.rpartition("@")[2]


def email_domain_id(domain: str) -> UUID:
    """The id of the index entry for `domain`."""
    return uuid5(EMAIL_DOMAIN_NAMESPACE, normalise_domain(domain))


class EmailDomain(Aggregate):
    """One email domain and the organisation that holds it (if any, after a release)."""

    TOPIC = "ledgerdesk:EmailDomain"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Claimed: ClassVar[type[Aggregate.Event]]
        Released: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(domain: str) -> UUID:
        return email_domain_id(domain)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:EmailDomain.Created"

    class Registered(Aggregate.Created):
        """The domain is indexed, held by `organisation_id`."""

        TOPIC = "ledgerdesk:EmailDomain.Registered"
        domain: str
        organisation_id: str
        actor: str
        correlation_id: str

    @event(Registered)
    def __init__(self, domain: str, organisation_id: str, actor: str, correlation_id: str) -> None:
        self.domain = domain
        self.organisation_id: str | None = organisation_id

    @classmethod
    def register(
        cls, domain: str, organisation_id: UUID, actor: Actor, correlation_id: str
    ) -> EmailDomain:
        return cls(
            domain=normalise_domain(domain),
            organisation_id=str(organisation_id),
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def claim(self, organisation_id: UUID, actor: Actor, correlation_id: str) -> None:
        """Give the domain to `organisation_id`, unless another organisation holds it."""
        if self.organisation_id == str(organisation_id):
            return
        if self.organisation_id is not None:
            raise EmailDomainTakenError(self.domain)
        self._claimed(
            organisation_id=str(organisation_id), actor=actor.ref, correlation_id=correlation_id
        )

    @event("Claimed", topic="ledgerdesk:EmailDomain.Claimed")
    def _claimed(self, organisation_id: str, actor: str, correlation_id: str) -> None:
        self.organisation_id = organisation_id

    def release(self, organisation_id: UUID, actor: Actor, correlation_id: str) -> None:
        """Free the domain, if `organisation_id` holds it."""
        if self.organisation_id == str(organisation_id):
            self._released(
                organisation_id=str(organisation_id), actor=actor.ref, correlation_id=correlation_id
            )

    @event("Released", topic="ledgerdesk:EmailDomain.Released")
    def _released(self, organisation_id: str, actor: str, correlation_id: str) -> None:
        self.organisation_id = None

    def holder(self) -> UUID | None:
        """The organisation that holds the domain now."""
        return UUID(self.organisation_id) if self.organisation_id else None
