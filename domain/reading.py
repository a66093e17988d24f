"""Who has read which message of an item: `Ticket.MessagesRead`, recorded when a reader
opens the conversation (staff through the API, a customer through the portal or widget).

Reads matter because a message is mailed only to those who have not read it in time
(`LEDGERDESK_FORWARD_UNREAD_AFTER`). The item keeps, per message, who has read it; the
event is shared by tickets and tasks like every item event."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.values import Actor
from domain.work_item import CUSTOMER


class MessagesRead(Aggregate.Event):
    """`reader` (an actor ref: `user:<id>` or `customer:<address>`) has read `message_ids`."""

    TOPIC = "ledgerdesk:Ticket.MessagesRead"
    reader: str
    message_ids: list[str]
    actor: str
    correlation_id: str

    def apply(self, aggregate: Any) -> None:
        read_by = aggregate.__dict__.setdefault("read_by", {})
        for message_id in self.message_ids:
            readers = read_by.setdefault(message_id, [])
            if self.reader not in readers:
                readers.append(self.reader)


register_topic(MessagesRead.TOPIC, MessagesRead)


def has_read(item: Any, reader: str, message_id: str) -> bool:
    """Whether `reader` has read message `message_id` of `item`."""
    return reader in getattr(item, "read_by", {}).get(message_id, [])


def mark_read(item: Any, reader: Actor, correlation_id: str) -> list[str]:
    """Record that `reader` has read every message of `item` they may see (a customer sees
    customer-visible ones only); the ids newly read (none: no event)."""
    visible = item.message_visibility.items()
    unread = [
        message_id
        for message_id, visibility in visible
        if (reader.kind != "customer" or visibility == CUSTOMER)
        and not has_read(item, reader.ref, message_id)
    ]
    if unread:
        item.trigger_event(
            MessagesRead,
            reader=reader.ref,
            message_ids=unread,
            actor=reader.ref,
            correlation_id=correlation_id,
        )
    return unread
