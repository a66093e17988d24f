"""A web form sent by someone who is not signed in: held, with what they wrote, until they
confirm their address by the link mailed to it; then their request opens. An unconfirmed
submission opens nothing, and its link stops working after a day."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCredentialsError
from domain.values import Actor


class FormSubmission(Aggregate):
    """What a person sent through form `form`, waiting for their address to be confirmed."""

    TOPIC = "ledgerdesk:FormSubmission"

    if TYPE_CHECKING:
        Confirmed: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:FormSubmission.Created"

    class Received(Aggregate.Created):
        """Sent, not yet confirmed: the link's secret is kept by its SHA-256 only."""

        TOPIC = "ledgerdesk:FormSubmission.Received"
        form: str
        item_type: str
        email: str
        name: str
        title: str
        description: str
        priority: str
        fields: dict[str, str]
        attachments: list[dict[str, Any]]
        confirm_sha256: str
        expires_at: str
        actor: str
        correlation_id: str

    @event(Received)
    def __init__(
        self,
        form: str,
        item_type: str,
        email: str,
        name: str,
        title: str,
        description: str,
        priority: str,
        fields: dict[str, str],
        attachments: list[dict[str, Any]],
        confirm_sha256: str,
        expires_at: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.form = form
        self.item_type = item_type
        self.email = email
        self.name = name
        self.title = title
        self.description = description
        self.priority = priority
        self.fields = dict(fields)
        self.attachments = list(attachments)
        self.confirm_sha256 = confirm_sha256
        self.expires_at = expires_at
        self.number: int | None = None

    @classmethod
    def receive(cls, submission_id: UUID, *, actor: Actor, **sent: Any) -> FormSubmission:
        """Hold a submission (`sent`: every field of `Received` but the actor)."""
        return cls._create(cls.Received, id=submission_id, actor=actor.ref, **sent)

    def check_link(self, sha256: str, now: datetime) -> None:
        """InvalidCredentialsError unless the link is this submission's, unused, unexpired."""
        if self.number is not None or not hmac.compare_digest(self.confirm_sha256, sha256):
            raise InvalidCredentialsError("the confirmation link is not valid")
        if datetime.fromisoformat(self.expires_at) <= now:
            raise InvalidCredentialsError("the confirmation link has expired")

    def confirm(
        self, sha256: str, now: datetime, number: int, actor: str, correlation_id: str
    ) -> None:
        """The sender confirmed their address: request `number` opened (in the same write)."""
        self.check_link(sha256, now)
        self._confirmed(number=number, actor=actor, correlation_id=correlation_id)

    @event("Confirmed", topic="ledgerdesk:FormSubmission.Confirmed")
    def _confirmed(self, number: int, actor: str, correlation_id: str) -> None:
        self.number = number
