"""What mail leaves on an item: `Ticket.MailReceived` beside the message it posted (the
message itself is an ordinary customer reply or internal message, so every view shows it),
and `Ticket.MailBounced` when a mail we sent about the item could not be delivered. Both are
`Ticket.*` events for tickets and tasks alike, as every shared item event is."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.values import Actor


class MailReceived(Aggregate.Event):
    """Message `message_id` on the item came by mail: the headers that matter, how it found
    the item (`threaded_by`, None for the mail that opened it), whether a program sent it
    (`automatic`, the reason) or someone outside the item (`non_participant`), the whole text
    with its quoted history, the raw message's blob, and whether it is acknowledged."""

    TOPIC = "ledgerdesk:Ticket.MailReceived"
    message_id: str
    mail_message_id: str
    sender: str
    sender_name: str
    recipient: str
    subject: str
    full_text: str
    html: str | None
    threaded_by: str | None
    automatic: str | None
    non_participant: bool
    acknowledge: bool
    raw_sha256: str
    actor: str
    correlation_id: str

    def apply(self, aggregate: Any) -> None:
        """Nothing of the item's state changes beyond the message itself."""


class MailBounced(Aggregate.Event):
    """A mail we sent about the item (`mail_message_id`) could not be delivered to
    `recipients`: the report's status and diagnostic."""

    TOPIC = "ledgerdesk:Ticket.MailBounced"
    mail_message_id: str
    recipients: list[str]
    status: str
    diagnostic: str
    actor: str
    correlation_id: str

    def apply(self, aggregate: Any) -> None:
        """The item's state is unchanged; the bounce is its history."""


register_topic(MailReceived.TOPIC, MailReceived)
register_topic(MailBounced.TOPIC, MailBounced)


def record_mail(
    item: Any, *, message_id: UUID, actor: Actor, correlation_id: str, **mail: Any
) -> None:
    """Record on `item` that message `message_id` (already posted) came by mail."""
    item.trigger_event(
        MailReceived,
        message_id=str(message_id),
        actor=actor.ref,
        correlation_id=correlation_id,
        **mail,
    )


def record_bounce(
    item: Any,
    *,
    mail_message_id: str,
    recipients: list[str],
    status: str,
    diagnostic: str,
    actor: Actor,
    correlation_id: str,
) -> None:
    item.trigger_event(
        MailBounced,
        mail_message_id=mail_message_id,
        recipients=recipients,
        status=status,
        diagnostic=diagnostic,
        actor=actor.ref,
        correlation_id=correlation_id,
    )


class MailNotSent(Aggregate.Event):
    """A mail about the item (`kind`, to `recipient`, Message-ID `mail_message_id`) could
    not be sent: the SMTP server refused it for good, or we gave up retrying (`error`)."""

    TOPIC = "ledgerdesk:Ticket.MailNotSent"
    mail_message_id: str
    kind: str
    recipient: str
    error: str
    actor: str
    correlation_id: str

    def apply(self, aggregate: Any) -> None:
        """The item's state is unchanged; the failure is its history."""


register_topic(MailNotSent.TOPIC, MailNotSent)


def record_not_sent(
    item: Any,
    *,
    mail_message_id: str,
    kind: str,
    recipient: str,
    error: str,
    actor: Actor,
    correlation_id: str,
) -> None:
    item.trigger_event(
        MailNotSent,
        mail_message_id=mail_message_id,
        kind=kind,
        recipient=recipient,
        error=error[:2000],
        actor=actor.ref,
        correlation_id=correlation_id,
    )
