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
        ParticipantLeft: ClassVar[type[Aggregate.Event]]

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
        # address -> how it takes part ("requester", "cc", "sender", "follower")
        self.participants: dict[str, str] = {}
        # Addresses that stopped following (the requester among them): mailed nothing more.
        self.left: set[str] = set()

    @classmethod
    def start(cls, number: int, actor: Actor, correlation_id: str) -> MailThread:
        return cls(number=number, actor=actor.ref, correlation_id=correlation_id)

    def takes_part(self, address: str) -> bool:
        return address.lower() in self.participants

    def add(self, address: str, role: str, actor: Actor, correlation_id: str) -> None:
        """Mail from or to `address` makes it take part (unless it stopped following)."""
        address = address.lower()
        if address not in self.participants and address not in self.left:
            self._added(address=address, role=role, actor=actor.ref, correlation_id=correlation_id)

    @event("ParticipantAdded", topic="ledgerdesk:MailThread.ParticipantAdded")
    def _added(self, address: str, role: str, actor: str, correlation_id: str) -> None:
        self.participants[address] = role
        self.left.discard(address)

    def follows(self, address: str, is_requester: bool) -> bool:
        """Whether `address` gets the item's mail: it takes part (the requester always
        does) and has not stopped following."""
        address = address.lower()
        return (is_requester or address in self.participants) and address not in self.left

    def follow(self, address: str, actor: Actor, correlation_id: str) -> None:
        """A customer follows the item by mail (again)."""
        address = address.lower()
        if address not in self.participants or address in self.left:
            role = self.participants.get(address, "follower")
            self._added(address=address, role=role, actor=actor.ref, correlation_id=correlation_id)

    def leave(self, address: str, actor: Actor, correlation_id: str) -> None:
        """A customer stops following: no more mail about the item (they still see it)."""
        address = address.lower()
        if address not in self.left:
            self._left(address=address, actor=actor.ref, correlation_id=correlation_id)

    @event("ParticipantLeft", topic="ledgerdesk:MailThread.ParticipantLeft")
    def _left(self, address: str, actor: str, correlation_id: str) -> None:
        self.left.add(address)
