"""Item numbers: one counter, shared by every item kind, that never reuses a number.

An item's id is derived from its number, so a number always resolves to its
item without asking a read model.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.values import Actor

ITEM_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/items")
COUNTER_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/item-number-counter")
# The largest number any item can have: every client (JavaScript's doubles included) and every
# store (64-bit integers) holds it exactly.
MAX_ITEM_NUMBER = 2**53 - 1


def item_id(number: int) -> UUID:
    """The aggregate id of the item that was issued `number`."""
    return uuid5(ITEM_NAMESPACE, str(number))


class ItemNumberCounter(Aggregate):
    """Issues item numbers in order; saved with the item it numbers, atomically."""

    TOPIC = "ledgerdesk:ItemNumberCounter"

    @staticmethod
    def create_id() -> UUID:
        return COUNTER_ID

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ItemNumberCounter.Created"

    @event("Started", topic="ledgerdesk:ItemNumberCounter.Started")
    def __init__(self, first_number: int) -> None:
        self.last_issued = first_number - 1

    @classmethod
    def start(cls, first_number: int = 1) -> ItemNumberCounter:
        return cls(first_number=first_number)

    def issue(self, kind: str, actor: Actor, correlation_id: str) -> int:
        """Issue the next number for an item of `kind`."""
        number = self.last_issued + 1
        self._issued(number=number, kind=kind, actor=actor.ref, correlation_id=correlation_id)
        return number

    @event("NumberIssued", topic="ledgerdesk:ItemNumberCounter.NumberIssued")
    def _issued(self, number: int, kind: str, actor: str, correlation_id: str) -> None:
        self.last_issued = number
