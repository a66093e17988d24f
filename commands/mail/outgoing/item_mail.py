"""What an item's own events say about its mail: its messages, who wrote them, the mail it
came by (the mailbox it reached, the Message-IDs to thread under), its attachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from commands.unit_of_work import UnitOfWork
from domain.item_numbers import item_id
from domain.mail.on_items import MailReceived

MESSAGE_EVENTS = ("CustomerReplyPosted", "InternalMessagePosted")
# At most this many Message-IDs in References: the thread's first ones and the newest.
MAX_REFERENCES = 20


@dataclass(frozen=True)
class Message:
    message_id: str
    body: str
    author: str
    internal: bool
    correlation_id: str
    in_reply_to: str | None


@dataclass
class ItemMail:
    """The mail facts of one item, read off its event stream."""

    number: int
    # The item its mail thread began on: a converted ticket's, else this one.
    origin: int = 0
    messages: dict[str, Message] = field(default_factory=dict)
    # Message id -> the Message-ID of the mail it came by.
    came_by: dict[str, str] = field(default_factory=dict)
    # The messages that came by mail a program sent (flagged automatic).
    automatic: set[str] = field(default_factory=set)
    # Every received Message-ID, oldest first, and the address the first mail reached.
    received: list[str] = field(default_factory=list)
    mailbox: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    requester_email: str | None = None

    def references(self, root: str, message_id: str | None = None) -> tuple[list[str], str]:
        """Message-IDs to thread a mail under, and the one it answers directly.

        First the mail that opened the item (if one did), then the item's `root` (see
        `thread_root_id`), which every mail about the item names whether or not it came by
        mail, then the mail received since, the newest kept when there are too many."""
        answered = None
        message = self.messages.get(message_id or "")
        if message is not None and message.in_reply_to:
            answered = self.came_by.get(message.in_reply_to)
        first = [*self.received[:1], root]
        later = self.received[1:][-(MAX_REFERENCES - len(first)) :]
        return [*first, *later], answered or (self.received[-1] if self.received else root)

    def attachments_of(self, message: Message) -> list[dict[str, Any]]:
        """Attachments added with a message: by its author, in the same request (the same
        correlation id), that the message's readers may see."""
        return [
            a
            for a in self.attachments
            if a["actor"] == message.author
            and a["correlation_id"] == message.correlation_id
            and (message.internal or a["visibility"] == "customer")
        ]


def read_item_mail(uow: UnitOfWork, number: int) -> ItemMail:
    facts = ItemMail(number, origin=number)
    events: list[Any] = list(uow.app.events.get(item_id(number)))
    for event in events:
        name = type(event).__name__
        if name in ("Opened", "Planned"):
            facts.requester_email = getattr(event, "requester_email", None)
            converted_from = getattr(event, "converted_from", None)
            if converted_from:  # A task carries on its ticket's mail thread.
                ticket = read_item_mail(uow, converted_from)
                facts.came_by.update(ticket.came_by)
                facts.received += ticket.received
                facts.mailbox = ticket.mailbox
                facts.automatic |= ticket.automatic
                facts.origin = ticket.origin
        elif name in MESSAGE_EVENTS:
            facts.messages[event.message_id] = Message(
                message_id=event.message_id,
                body=event.body,
                author=event.actor,
                internal=name == "InternalMessagePosted",
                correlation_id=event.correlation_id,
                in_reply_to=event.in_reply_to,
            )
        elif isinstance(event, MailReceived):
            facts.came_by[event.message_id] = event.mail_message_id
            if event.automatic:
                facts.automatic.add(event.message_id)
            if event.mail_message_id:
                facts.received.append(event.mail_message_id)
            if facts.mailbox is None:
                facts.mailbox = event.recipient
        elif name == "AttachmentAdded":
            facts.attachments.append(
                {
                    "id": event.attachment_id,
                    "sha256": event.sha256,
                    "name": event.name,
                    "size": event.size,
                    "media_type": event.media_type,
                    "visibility": event.visibility,
                    "actor": event.actor,
                    "correlation_id": event.correlation_id,
                }
            )
    return facts
