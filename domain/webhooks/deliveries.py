"""One public event delivered to one subscription: each attempt (claimed before it is
sent, so that two workers never send the same attempt), what came back and how long it
took, until one succeeds or the retries are spent; and the rules of the attempts — the
Standard Webhooks signature and the retry schedule.

Signature (https://www.standardwebhooks.com): `webhook-id` (the delivery's message id, the
same on every attempt), `webhook-timestamp` (seconds since the epoch) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret
(`whsec_<base64 key>`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError

SECRET_PREFIX = "whsec_"  # noqa: S105 (the scheme's prefix, not a secret)
# Attempts in all: the first, then retries after base, 2 base, 4 base, ... (12 retries: at
# the default base of 30 s the last is about 34 hours after the first, past a day).
MAX_ATTEMPTS = 13
# How much of a response is kept in the delivery log.
RESPONSE_KEPT = 2000
DELIVERY_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/webhook-deliveries")


def delivery_id_for(webhook_id: UUID, event_id: str) -> UUID:
    return uuid5(DELIVERY_NAMESPACE, f"{webhook_id}:{event_id}")


def message_id_for(event_id: str) -> str:
    """The `webhook-id` of an event's deliveries: the same on every attempt and redelivery."""
    return f"msg_{event_id}"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def checked_secret(value: Any) -> str:
    """A secret in the Standard Webhooks form, `whsec_` and 24 to 64 bytes in base64."""
    if not isinstance(value, str) or not value.startswith(SECRET_PREFIX):
        raise InvalidValueError("secret", "whsec_ followed by 24 to 64 bytes in base64")
    try:
        key = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError as wrong:
        raise InvalidValueError("secret", "the part after whsec_ is not base64") from wrong
    if not 24 <= len(key) <= 64:
        raise InvalidValueError("secret", "the key must be 24 to 64 bytes")
    return value


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value for this message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def retry_delay(attempt: int, base_seconds: float) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): base, 2 base, 4 base, ..."""
    return float(base_seconds * 2 ** (attempt - 1))


def succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


class AttemptTakenError(ConflictError):
    """Raised when this attempt was claimed already (another worker, or a redelivered
    message): it is not sent twice."""

    def __init__(self, attempt: int) -> None:
        super().__init__(f"attempt {attempt} of this delivery was taken already")


class WebhookDelivery(Aggregate):
    """One event to one subscription: its attempts, in order."""

    TOPIC = "ledgerdesk:WebhookDelivery"

    if TYPE_CHECKING:
        AttemptStarted: ClassVar[type[Aggregate.Event]]
        AttemptEnded: ClassVar[type[Aggregate.Event]]
        Abandoned: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:WebhookDelivery.Created"

    class Queued(Aggregate.Created):
        TOPIC = "ledgerdesk:WebhookDelivery.Queued"
        webhook_id: str
        event_id: str
        event_type: str
        actor: str
        correlation_id: str

    @event(Queued)
    def __init__(
        self, webhook_id: str, event_id: str, event_type: str, actor: str, correlation_id: str
    ) -> None:
        self.webhook_id = webhook_id
        self.event_id = event_id
        self.event_type = event_type
        self.attempts: list[dict[str, Any]] = []
        self.abandoned = False

    @classmethod
    def queue(
        cls, webhook_id: UUID, event_id: str, event_type: str, actor: str, correlation_id: str
    ) -> WebhookDelivery:
        return cls._create(
            cls.Queued,
            id=delivery_id_for(webhook_id, event_id),
            webhook_id=str(webhook_id),
            event_id=event_id,
            event_type=event_type,
            actor=actor,
            correlation_id=correlation_id,
        )

    @property
    def delivered(self) -> bool:
        return any(succeeded(a.get("status")) for a in self.attempts)

    @property
    def scheduled(self) -> list[dict[str, Any]]:
        """The attempts on the schedule (not an admin's redeliveries)."""
        return [a for a in self.attempts if not a.get("manual")]

    def next_due(self, base_seconds: float, timeout_seconds: float = 0.0) -> datetime | None:
        """When the next scheduled attempt is due (None: the first, at once). While the last
        one has no outcome yet it may still be on its way (up to `timeout_seconds`): the
        next is not due before that has passed too (its worker may have died)."""
        scheduled = self.scheduled
        if not scheduled:
            return None
        last = scheduled[-1]
        wait = retry_delay(len(scheduled), base_seconds)
        if last.get("status") is None and last.get("error") is None:
            wait += timeout_seconds
        return datetime.fromisoformat(last["at"]) + timedelta(seconds=wait)

    def start_attempt(
        self, attempt: int, url: str, at: str, manual: bool, actor: str, correlation_id: str
    ) -> None:
        """Claim attempt `attempt` (the next one) before sending it."""
        if attempt != len(self.attempts) + 1:
            raise AttemptTakenError(attempt)
        self._attempt_started(
            attempt=attempt, url=url, at=at, manual=manual, actor=actor,
            correlation_id=correlation_id,
        )  # fmt: skip

    @event("AttemptStarted", topic="ledgerdesk:WebhookDelivery.AttemptStarted")
    def _attempt_started(
        self, attempt: int, url: str, at: str, manual: bool, actor: str, correlation_id: str
    ) -> None:
        self.attempts.append({"attempt": attempt, "url": url, "at": at, "manual": manual})

    def end_attempt(
        self,
        attempt: int,
        status: int | None,
        error: str | None,
        duration_ms: int,
        request_headers: dict[str, str],
        response: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self._attempt_ended(
            attempt=attempt, status=status, error=error, duration_ms=duration_ms,
            request_headers=request_headers, response=response[:RESPONSE_KEPT], actor=actor,
            correlation_id=correlation_id,
        )  # fmt: skip

    @event("AttemptEnded", topic="ledgerdesk:WebhookDelivery.AttemptEnded")
    def _attempt_ended(
        self,
        attempt: int,
        status: int | None,
        error: str | None,
        duration_ms: int,
        request_headers: dict[str, str],
        response: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.attempts[attempt - 1].update(status=status, error=error, duration_ms=duration_ms)

    def abandon(self, reason: str, actor: str, correlation_id: str) -> None:
        """No more attempts on schedule (the retries are spent, or the target is gone)."""
        if not self.abandoned:
            self._abandoned(reason=reason, actor=actor, correlation_id=correlation_id)

    @event("Abandoned", topic="ledgerdesk:WebhookDelivery.Abandoned")
    def _abandoned(self, reason: str, actor: str, correlation_id: str) -> None:
        self.abandoned = True
