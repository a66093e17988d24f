"""Every message we received, once: the `ReceivedMail` aggregate is keyed by its Message-ID
(uuid5), so the write model itself refuses a second copy, however many transports deliver it
at once. The same Message-ID with the same body is a duplicate; with another body, the second
is quarantined, never dropped."""

from __future__ import annotations

from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.values import Actor

RECEIVED_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/mail/message-id")


def received_id_for(message_id: str) -> UUID:
    """The id of the record of a Message-ID (compared as given, without angle brackets)."""
    return uuid5(RECEIVED_NAMESPACE, normalise_message_id(message_id))


def normalise_message_id(value: str) -> str:
    """A Message-ID the one way we compare it: trimmed, without its angle brackets."""
    return value.strip().removeprefix("<").removesuffix(">").strip()


class ReceivedMail(Aggregate):
    """A Message-ID we received, the hash of its body, and the item it went to (if any)."""

    TOPIC = "ledgerdesk:ReceivedMail"
    # The outcome a first delivery may have: the item it opened or joined, or a bounce.
    OUTCOMES: ClassVar[frozenset[str]] = frozenset({"created", "appended", "bounce"})

    @staticmethod
    def create_id(message_id: str) -> UUID:
        return received_id_for(message_id)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ReceivedMail.Created"

    class Recorded(Aggregate.Created):
        """A Message-ID seen for the first time: its body hash, raw blob, outcome, item."""

        TOPIC = "ledgerdesk:ReceivedMail.Recorded"
        message_id: str
        body_sha256: str
        raw_sha256: str
        outcome: str
        number: int | None
        actor: str
        correlation_id: str

    def __init__(
        self,
        message_id: str,
        body_sha256: str,
        raw_sha256: str,
        outcome: str,
        number: int | None,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.message_id = message_id
        self.body_sha256 = body_sha256
        self.raw_sha256 = raw_sha256
        self.outcome = outcome
        self.number = number

    @classmethod
    def record(
        cls,
        *,
        message_id: str,
        body_sha256: str,
        raw_sha256: str,
        outcome: str,
        number: int | None,
        actor: Actor,
        correlation_id: str,
    ) -> ReceivedMail:
        if outcome not in cls.OUTCOMES:
            raise ValueError(f"not an outcome of a first delivery: {outcome}")
        return cls._create(
            cls.Recorded,
            id=received_id_for(message_id),
            message_id=normalise_message_id(message_id),
            body_sha256=body_sha256,
            raw_sha256=raw_sha256,
            outcome=outcome,
            number=number,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def same_body(self, body_sha256: str) -> bool:
        return self.body_sha256 == body_sha256
