"""Mail we could not process is held, never dropped: a `QuarantinedMail` keeps the raw
message's blob and the reason until staff release it (process it again, now) or discard it
(with who and why). The same raw bytes quarantined again are the same entry."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError
from domain.values import Actor

QUARANTINE_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/mail/quarantine")


class QuarantineReason(StrEnum):
    UNPARSEABLE = "unparseable"
    MESSAGE_ID_REUSED = "message-id-reused"
    LOOP = "loop"
    UNMATCHED_BOUNCE = "unmatched-bounce"
    REJECTED = "rejected"


class QuarantineState(StrEnum):
    HELD = "held"
    RELEASED = "released"
    DISCARDED = "discarded"


class QuarantineSettledError(ConflictError):
    def __init__(self, state: str) -> None:
        super().__init__(f"this mail was already {state}")


def quarantine_id_for(raw_sha256: str, recipient: str) -> UUID:
    return uuid5(QUARANTINE_NAMESPACE, f"{raw_sha256}:{recipient.lower()}")


class QuarantinedMail(Aggregate):
    """A received message held back, with why; released or discarded by staff."""

    TOPIC = "ledgerdesk:QuarantinedMail"

    if TYPE_CHECKING:
        Released: ClassVar[type[Aggregate.Event]]
        Discarded: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(raw_sha256: str, recipient: str) -> UUID:
        return quarantine_id_for(raw_sha256, recipient)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:QuarantinedMail.Created"

    class Held(Aggregate.Created):
        """A message held back: its raw blob, the address it came to, why, and what we could
        read of it (for the list)."""

        TOPIC = "ledgerdesk:QuarantinedMail.Held"
        raw_sha256: str
        size: int
        recipient: str
        reason: str
        detail: str
        sender: str
        subject: str
        message_id: str
        actor: str
        correlation_id: str

    @event(Held)
    def __init__(
        self,
        raw_sha256: str,
        size: int,
        recipient: str,
        reason: str,
        detail: str,
        sender: str,
        subject: str,
        message_id: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.raw_sha256 = raw_sha256
        self.recipient = recipient
        self.reason = reason
        self.state = QuarantineState.HELD.value

    @classmethod
    def hold(
        cls,
        *,
        raw_sha256: str,
        size: int,
        recipient: str,
        reason: QuarantineReason,
        detail: str,
        sender: str,
        subject: str,
        message_id: str,
        actor: Actor,
        correlation_id: str,
    ) -> QuarantinedMail:
        return cls(
            raw_sha256=raw_sha256,
            size=size,
            recipient=recipient,
            reason=reason.value,
            detail=detail[:1000],
            sender=sender[:320],
            subject=subject[:500],
            message_id=message_id[:1000],
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def _check_held(self) -> None:
        if self.state != QuarantineState.HELD:
            raise QuarantineSettledError(self.state)

    def release(self, outcome: str, number: int | None, actor: Actor, correlation_id: str) -> None:
        """Processed on staff's word; `outcome` and `number` say what came of it."""
        self._check_held()
        self._released(
            outcome=outcome, number=number, actor=actor.ref, correlation_id=correlation_id
        )

    @event("Released", topic="ledgerdesk:QuarantinedMail.Released")
    def _released(self, outcome: str, number: int | None, actor: str, correlation_id: str) -> None:
        self.state = QuarantineState.RELEASED.value

    def discard(self, why: str, actor: Actor, correlation_id: str) -> None:
        self._check_held()
        why = why.strip()
        if not why:
            raise InvalidValueError("why", "say why the mail is discarded")
        self._discarded(why=why, actor=actor.ref, correlation_id=correlation_id)

    @event("Discarded", topic="ledgerdesk:QuarantinedMail.Discarded")
    def _discarded(self, why: str, actor: str, correlation_id: str) -> None:
        self.state = QuarantineState.DISCARDED.value
