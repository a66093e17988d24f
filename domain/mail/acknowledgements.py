"""At most one acknowledgement per sender per day: an `Acknowledgement` aggregate keyed by
(sender, day) exists once the day's one is due, and the write model refuses a second."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.values import Actor

ACK_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/mail/acknowledgements")


def acknowledgement_id_for(sender: str, day: date) -> UUID:
    return uuid5(ACK_NAMESPACE, f"{sender.lower()}:{day.isoformat()}")


class Acknowledgement(Aggregate):
    """The one acknowledgement `sender` gets on `day`, for item `number`."""

    TOPIC = "ledgerdesk:Acknowledgement"

    @staticmethod
    def create_id(sender: str, day: str) -> UUID:
        return acknowledgement_id_for(sender, date.fromisoformat(day))

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Acknowledgement.Created"

    class Due(Aggregate.Created):
        TOPIC = "ledgerdesk:Acknowledgement.Due"
        sender: str
        day: str
        number: int
        actor: str
        correlation_id: str

    def __init__(self, sender: str, day: str, number: int, actor: str, correlation_id: str) -> None:
        self.sender = sender
        self.day = day
        self.number = number

    @classmethod
    def due(
        cls, sender: str, day: date, number: int, actor: Actor, correlation_id: str
    ) -> Acknowledgement:
        return cls._create(
            cls.Due,
            id=acknowledgement_id_for(sender, day),
            sender=sender.lower(),
            day=day.isoformat(),
            number=number,
            actor=actor.ref,
            correlation_id=correlation_id,
        )
