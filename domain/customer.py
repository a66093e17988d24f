"""The customer Organisation aggregate: a name, its email domains and how its members share."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from eventsourcing.domain import Aggregate, event

from domain.email_domain import normalise_domain
from domain.values import Actor, check_name


class Sharing(StrEnum):
    """Which items of their colleagues the organisation's contacts see."""

    NONE = "none"
    PER_MEMBER = "per_member"
    EVERYONE = "everyone"


def _domains(domains: list[str]) -> list[str]:
    return sorted({normalise_domain(d) for d in domains})


class Organisation(Aggregate):
    """A customer company: its contacts may see each other's items, as `sharing` says."""

    TOPIC = "ledgerdesk:Organisation"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Renamed: ClassVar[type[Aggregate.Event]]
        SharingChanged: ClassVar[type[Aggregate.Event]]
        DomainsChanged: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Organisation.Created"

    class Registered(Aggregate.Created):
        """The organisation exists (its id is random: names need not be unique)."""

        TOPIC = "ledgerdesk:Organisation.Registered"
        name: str
        domains: list[str]
        sharing: str
        actor: str
        correlation_id: str

    @event(Registered)
    def __init__(
        self, name: str, domains: list[str], sharing: str, actor: str, correlation_id: str
    ) -> None:
        self.name = name
        self.domains = domains
        self.sharing = sharing

    @classmethod
    def register(
        cls,
        *,
        name: str,
        domains: list[str],
        sharing: Sharing,
        actor: Actor,
        correlation_id: str,
    ) -> Organisation:
        return cls(
            name=check_name(name),
            domains=_domains(domains),
            sharing=sharing.value,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def rename(self, name: str, actor: Actor, correlation_id: str) -> None:
        name = check_name(name)
        if name != self.name:
            self._renamed(name=name, actor=actor.ref, correlation_id=correlation_id)

    @event("Renamed", topic="ledgerdesk:Organisation.Renamed")
    def _renamed(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name

    def change_sharing(self, sharing: Sharing, actor: Actor, correlation_id: str) -> None:
        if sharing.value != self.sharing:
            self._sharing_changed(
                sharing=sharing.value, actor=actor.ref, correlation_id=correlation_id
            )

    @event("SharingChanged", topic="ledgerdesk:Organisation.SharingChanged")
    def _sharing_changed(self, sharing: str, actor: str, correlation_id: str) -> None:
        self.sharing = sharing

    def change_domains(self, domains: list[str], actor: Actor, correlation_id: str) -> None:
        """List the email domains whose senders join this organisation on first sight."""
        wanted = _domains(domains)
        if wanted != self.domains:
            self._domains_changed(domains=wanted, actor=actor.ref, correlation_id=correlation_id)

    @event("DomainsChanged", topic="ledgerdesk:Organisation.DomainsChanged")
    def _domains_changed(self, domains: list[str], actor: str, correlation_id: str) -> None:
        self.domains = domains
