"""One attempt to deliver one public event to one subscription: claimed in the write model
before it is sent (so two workers, or a message handed out twice, never send the same
attempt), signed per Standard Webhooks, sent to the address the guard judged, and recorded
with what came back and how long it took. A failed scheduled attempt asks to be retried
after `retry_delay`; the last one gives the delivery up and disables the subscription. A
410 from a REST hook's target unsubscribes it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import orjson

from commands.application import LedgerDesk
from commands.credentials import CredentialUnreadableError
from commands.unit_of_work import UnitOfWork, run
from commands.webhooks.guard import Guard, Sent, TargetRefusedError, post
from commands.webhooks.subscriptions import SubscriptionService
from domain.values import Actor
from domain.webhooks.deliveries import (
    MAX_ATTEMPTS,
    AttemptTakenError,
    WebhookDelivery,
    delivery_id_for,
    message_id_for,
    retry_delay,
    signature,
    succeeded,
)
from domain.webhooks.subscriptions import Webhook

WEBHOOKS = Actor.system("webhooks")
Outcome = Literal["delivered", "retry", "wait", "abandoned", "skipped", "failed"]


@dataclass(frozen=True)
class Attempted:
    """What one call of `deliver` did: its outcome, the attempt's number and what came
    back; `retry_after` (seconds) when the schedule asks for another attempt."""

    outcome: Outcome
    attempt: int | None = None
    sent: Sent | None = None
    retry_after: float | None = None
    position: int | None = None  # Of the attempt's record in the log.


def body_of(event: dict[str, Any]) -> bytes:
    """A public event as it is POSTed (the feed's shape, without the position)."""
    return orjson.dumps({k: v for k, v in event.items() if k != "position"})


class DeliveryService:
    def __init__(
        self,
        app: LedgerDesk,
        subscriptions: SubscriptionService,
        guard: Guard,
        retry_base_seconds: float,
        timeout_seconds: float,
        clock: Any = time.time,
    ) -> None:
        self.app = app
        self.subscriptions = subscriptions
        self.guard = guard
        self.retry_base = retry_base_seconds
        self.timeout = timeout_seconds
        self.clock = clock

    def queue(self, webhook_id: UUID, event: dict[str, Any], correlation_id: str) -> None:
        """Record that `event` is owed to the subscription (once), before its message goes:
        a message lost on the way is found owed by the sweep and sent again."""
        delivery_id = delivery_id_for(webhook_id, event["id"])

        def decide(uow: UnitOfWork) -> list[Any]:
            if uow.get(delivery_id, WebhookDelivery) is not None:
                return []
            return [
                WebhookDelivery.queue(
                    webhook_id, event["id"], event["type"], WEBHOOKS.ref, correlation_id
                )
            ]

        run(self.app, delivery_id, decide)

    def overdue(self, delivery: dict[str, Any], grace_seconds: float) -> bool:
        """Whether a delivery the view shows owed is past when its next attempt was due, by
        more than `grace_seconds` (its message was lost: a restart of an in-memory broker,
        retries spent on errors)."""
        scheduled = int(delivery["scheduled"])
        if scheduled == 0:
            due = datetime.fromisoformat(delivery["queued_at"])
        else:
            last = datetime.fromisoformat(delivery["scheduled_at"])
            due = last + timedelta(seconds=retry_delay(scheduled, self.retry_base))
        now = datetime.fromtimestamp(self.clock(), UTC)
        return now > due + timedelta(seconds=grace_seconds)

    def deliver(
        self, webhook_id: UUID, event: dict[str, Any], correlation_id: str, *, manual: bool = False
    ) -> Attempted:
        """The next attempt of `event` to the subscription (`manual`: an admin's redelivery,
        one attempt off the schedule, sent whether or not an earlier one succeeded)."""
        webhook = UnitOfWork(self.app).get(webhook_id, Webhook)
        delivery_id = delivery_id_for(webhook_id, event["id"])
        known = UnitOfWork(self.app).get(delivery_id, WebhookDelivery)
        now = datetime.fromtimestamp(self.clock(), UTC)
        if webhook is None or webhook.removed:
            if known is not None and not manual:
                self._abandon(delivery_id, "the subscription was removed", correlation_id)
            return Attempted("skipped")
        if not manual:
            if not webhook.takes(event["type"]):
                # Switched off (or its events changed): what it was owed is owed no more.
                self._abandon(delivery_id, "the subscription no longer takes it", correlation_id)
                return Attempted("skipped")
            if known is not None and (known.delivered or known.abandoned):
                return Attempted("skipped")
            # (An attempt still on its way, at most `timeout` long, counts as not yet failed.)
            due = known.next_due(self.retry_base, 2 * self.timeout) if known is not None else None
            if due is not None and now < due:
                # Early: a second message for the delivery (a publish run twice), or a retry
                # sooner than the schedule (another base, a crash's redelivery). It comes back
                # when due, where only one of them claims the attempt.
                return Attempted("wait", retry_after=(due - now).total_seconds())
        seen = len(known.scheduled) if known is not None else 0
        claimed: list[int] = []

        def claim(uow: UnitOfWork) -> list[Any]:
            delivery = uow.get(delivery_id, WebhookDelivery)
            if delivery is None:
                delivery = WebhookDelivery.queue(
                    webhook_id, event["id"], event["type"], WEBHOOKS.ref, correlation_id
                )
            if not manual and len(delivery.scheduled) != seen:  # Another worker took it.
                raise AttemptTakenError(seen + 1)
            attempt = len(delivery.attempts) + 1
            delivery.start_attempt(
                attempt, webhook.url, now.isoformat(), manual, WEBHOOKS.ref, correlation_id
            )
            claimed[:] = [attempt]
            return [delivery]

        try:
            run(self.app, delivery_id, claim)
        except AttemptTakenError:
            return Attempted("skipped")
        headers, sent = self._send(webhook, event)
        return self._record(
            webhook_id, delivery_id, claimed[0], seen + 1, manual, headers, sent, correlation_id
        )

    def _abandon(self, delivery_id: UUID, reason: str, correlation_id: str) -> None:
        def decide(uow: UnitOfWork) -> list[Any]:
            delivery = uow.get(delivery_id, WebhookDelivery)
            if delivery is None or delivery.delivered or delivery.abandoned:
                return []
            delivery.abandon(reason, WEBHOOKS.ref, correlation_id)
            return [delivery]

        run(self.app, delivery_id, decide)

    def _send(self, webhook: Webhook, event: dict[str, Any]) -> tuple[dict[str, str], Sent]:
        body = body_of(event)
        message_id = message_id_for(event["id"])
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ledgerdesk-webhooks",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
        }
        shown = dict(headers)  # The log keeps the headers, never the signature.
        try:
            secret = self.subscriptions.secret(webhook)
        except CredentialUnreadableError:
            return shown, Sent(None, "its secret cannot be read with this install's keys", 0, "")
        headers["webhook-signature"] = signature(secret, message_id, timestamp, body)
        try:
            target = self.guard.judge(webhook.url)
        except TargetRefusedError as refused:
            return shown, Sent(None, f"refused: {refused}", 0, "")
        return shown, post(target, body, headers, self.timeout)

    def _record(
        self,
        webhook_id: UUID,
        delivery_id: UUID,
        attempt: int,
        scheduled: int,
        manual: bool,
        headers: dict[str, str],
        sent: Sent,
        correlation_id: str,
    ) -> Attempted:
        """Record what came of `attempt` (the `scheduled`th on the schedule, unless
        `manual`), and what follows: another attempt in time, or none."""
        outcome: list[Outcome] = []

        def decide(uow: UnitOfWork) -> list[Any]:
            delivery = uow.get(delivery_id, WebhookDelivery)
            webhook = uow.get(webhook_id, Webhook)
            assert delivery is not None
            assert webhook is not None
            outcome.clear()
            # A redelivery that succeeded meanwhile: nothing more is owed.
            delivered_before = delivery.delivered
            delivery.end_attempt(
                attempt, sent.status, sent.error, sent.duration_ms, headers, sent.response,
                WEBHOOKS.ref, correlation_id,
            )  # fmt: skip
            changed: list[Any] = [delivery]
            if succeeded(sent.status):
                outcome.append("delivered")
            elif sent.status == 410 and webhook.kind == "hook":
                delivery.abandon("the target answered 410 Gone", WEBHOOKS.ref, correlation_id)
                webhook.disable("the target answered 410 Gone", WEBHOOKS.ref, correlation_id)
                changed.append(webhook)
                outcome.append("abandoned")
            elif manual or delivered_before:
                outcome.append("failed")
            elif scheduled >= MAX_ATTEMPTS:
                why = f"{MAX_ATTEMPTS} attempts of a delivery failed"
                delivery.abandon(why, WEBHOOKS.ref, correlation_id)
                webhook.disable(why, WEBHOOKS.ref, correlation_id)
                changed.append(webhook)
                outcome.append("abandoned")
            else:
                outcome.append("retry")
            return changed

        position = run(self.app, delivery_id, decide)[1]
        delay = retry_delay(scheduled, self.retry_base) if outcome[0] == "retry" else None
        return Attempted(outcome[0], attempt, sent, delay, position)
