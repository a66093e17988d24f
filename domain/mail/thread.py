"""The `MailThread` of an item: who takes part in it by mail (the requester, Cc'd people who
follow it, senders let in), kept apart from the item so that the item's snapshots do not
change shape. Its id follows from the item number."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.values import Actor

THREAD_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/mail/threads")


def thread_id_for(number: int) -> UUID:
    return uuid5(THREAD_NAMESPACE, str(number))


class MailThread(Aggregate):
    """The addresses that take part in an item's mail conversation."""

    TOPIC = "ledgerdesk:MailThread"

    if TYPE_CHECKING:
        ParticipantAdded: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(number: int) -> UUID:
        return thread_id_for(number)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:MailThread.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:MailThread.Started"
        number: int
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, number: int, actor: str, correlation_id: str) -> None:
        self.number = number
        # address -> how it takes part ("requester", "cc", "sender")
        self.participants: dict[str, str] = {}

    @classmethod
    def start(cls, number: int, actor: Actor, correlation_id: str) -> MailThread:
        return cls(number=number, actor=actor.ref, correlation_id=correlation_id)

    def takes_part(self, address: str) -> bool:
        return address.lower() in self.participants

    def add(self, address: str, role: str, actor: Actor, correlation_id: str) -> None:
        address = address.lower()
        if address not in self.participants:
            self._added(address=address, role=role, actor=actor.ref, correlation_id=correlation_id)

    @event("ParticipantAdded", topic="ledgerdesk:MailThread.ParticipantAdded")
    def _added(self, address: str, role: str, actor: str, correlation_id: str) -> None:
        self.participants[address] = role
