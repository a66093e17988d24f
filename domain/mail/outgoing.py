"""Mail we send: one `OutboundMail` per (reason, recipient), and who gets what.

An outbound mail's id follows from why it is sent (`key`: the message and recipient, the
acknowledgement, the assignment event), so deciding twice (two workers, a restart, a
redelivered message) queues it once; its Message-ID follows from the same key, so even a
resend after a crash carries the same Message-ID and the recipient's client shows it once.
The mail records what became of it: sent, or failed for good (a failure the item shows too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError
from domain.mail.addresses import our_message_id
from domain.values import Actor
from domain.work_item import INTERNAL

OUTBOUND_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/mail/outbound")


class MailKind(StrEnum):
    """The kinds of mail we send (each has its template)."""

    CUSTOMER_MESSAGE = "customer_message"
    STAFF_MESSAGE = "staff_message"
    ACKNOWLEDGEMENT = "acknowledgement"
    ASSIGNMENT = "assignment"
    MENTION = "mention"
    AUTOMATION = "automation"
    PORTAL_INVITATION = "portal_invitation"
    PORTAL_SIGN_IN = "portal_sign_in"
    FORM_CONFIRMATION = "form_confirmation"
    NOTIFICATION = "notification"
    REPORT = "report"

    @property
    def about_an_account(self) -> bool:
        """Mail about a person's access, not about an item (number 0): the portal's, or the
        confirmation of the address a web form was sent from."""
        return self in (
            MailKind.PORTAL_INVITATION,
            MailKind.PORTAL_SIGN_IN,
            MailKind.FORM_CONFIRMATION,
        )

    def auto_submitted(self, passes_on_automatic: bool = False) -> str | None:
        """RFC 3834: an acknowledgement is an automatic reply, a notice automatic; a message
        a person wrote is neither, but one a program wrote (it came by mail flagged
        automatic, an out-of-office say) is passed on as automatic, so that its recipients'
        responders do not answer it (two responders would mail each other for ever)."""
        own = {
            MailKind.ACKNOWLEDGEMENT: "auto-replied",
            MailKind.ASSIGNMENT: "auto-generated",
            MailKind.MENTION: "auto-generated",
            MailKind.AUTOMATION: "auto-generated",
            MailKind.PORTAL_INVITATION: "auto-generated",
            MailKind.PORTAL_SIGN_IN: "auto-generated",
            MailKind.FORM_CONFIRMATION: "auto-generated",
            MailKind.NOTIFICATION: "auto-generated",
            MailKind.REPORT: "auto-generated",
        }.get(self)
        return own or ("auto-generated" if passes_on_automatic else None)


class MailState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


def outbound_id_for(key: str) -> UUID:
    return uuid5(OUTBOUND_NAMESPACE, key)


def thread_root_id(secret: bytes, number: int, domain: str) -> str:
    """The Message-ID every mail about item `number` refers to first (after the mail that
    opened it, if one did), so mail clients keep all of them in one thread, and a reply
    naming only it finds the item (it is one of ours: `our_number` reads it). No mail
    carries it as its own Message-ID."""
    return our_message_id(secret, number, "root", domain)


@dataclass(frozen=True)
class Recipient:
    """Someone a mail may go to: their address and name, and who they are as a reader
    (`user:<id>` for staff, `customer:<address>` for customers)."""

    address: str
    name: str
    reader: str

    @property
    def is_staff(self) -> bool:
        return self.reader.startswith("user:")


# Authors whose messages are history (an import), not news: never mailed.
QUIET_AUTHORS = ("system:import", "import:")


def is_news(author: str) -> bool:
    """Whether a message by `author` is news to mail about."""
    return not author.startswith(QUIET_AUTHORS)


def message_recipients(
    visibility: str, author: str, customers: list[Recipient], staff: list[Recipient]
) -> list[Recipient]:
    """Who a message is mailed to: an internal message to staff (followers, assignees)
    only, never to a customer; a customer reply to the requester and customer followers,
    and to the staff who follow the item. Never to its author (a mail that came in is not
    mailed back to its sender); each address once."""
    people = staff if visibility == INTERNAL else [*customers, *staff]
    chosen: dict[str, Recipient] = {}
    for person in people:
        if person.reader == author or person.address in chosen:
            continue
        if author in (f"customer:{person.address}", f"visitor:{person.address}"):
            continue
        chosen[person.address] = person
    return list(chosen.values())


# `@` and a staff member's address: `@ana@example.com`.
_MENTION = re.compile(r"(?<![\w.+-])@([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def mentioned_addresses(body: str) -> list[str]:
    """The addresses mentioned in a message (`@ana@example.com`), each once, in order."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(body):
        seen.setdefault(match.group(1).rstrip(".").lower(), None)
    return list(seen)


class MailBusyError(ConflictError):
    """Another worker holds this mail (or it is settled): this one does not send it."""

    def __init__(self) -> None:
        super().__init__("another worker is sending this mail")


class OutboundMail(Aggregate):
    """One mail to one recipient: queued, then sent or failed for good."""

    TOPIC = "ledgerdesk:OutboundMail"

    if TYPE_CHECKING:
        Attempted: ClassVar[type[Aggregate.Event]]
        Sent: ClassVar[type[Aggregate.Event]]
        Failed: ClassVar[type[Aggregate.Event]]
        Released: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(key: str) -> UUID:
        return outbound_id_for(key)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:OutboundMail.Created"

    class Queued(Aggregate.Created):
        """`kind` of mail about item `number` to `recipient`; `context` names what it is
        about (the message id, the assigning actor...); `mail_message_id` is its
        Message-ID."""

        TOPIC = "ledgerdesk:OutboundMail.Queued"
        key: str
        kind: str
        number: int
        recipient: str
        recipient_name: str
        reader: str
        context: dict[str, Any]
        mail_message_id: str
        actor: str
        correlation_id: str

    @event(Queued)
    def __init__(
        self,
        key: str,
        kind: str,
        number: int,
        recipient: str,
        recipient_name: str,
        reader: str,
        context: dict[str, Any],
        mail_message_id: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.key = key
        self.kind = kind
        self.number = number
        self.recipient = recipient
        self.recipient_name = recipient_name
        self.reader = reader
        self.context = context
        self.mail_message_id = mail_message_id
        self.state = MailState.QUEUED.value
        self.attempts = 0
        self.sending_until: str | None = None

    @classmethod
    def queue(
        cls,
        *,
        key: str,
        kind: MailKind,
        number: int,
        to: Recipient,
        context: dict[str, Any],
        mail_message_id: str,
        actor: Actor,
        correlation_id: str,
    ) -> OutboundMail:
        return cls._create(
            cls.Queued,
            id=outbound_id_for(key),
            key=key,
            kind=kind.value,
            number=number,
            recipient=to.address,
            recipient_name=to.name,
            reader=to.reader,
            context=context,
            mail_message_id=mail_message_id,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @property
    def settled(self) -> bool:
        return self.state != MailState.QUEUED.value

    def being_sent(self, now: datetime) -> bool:
        """Whether a worker claimed this mail and may still be sending it."""
        until = self.sending_until
        return until is not None and datetime.fromisoformat(until) > now

    def attempt(self, now: datetime, hold: timedelta, actor: Actor, correlation_id: str) -> None:
        """Claim the mail for one sending attempt until `now + hold`: saved before the mail
        goes out, so two workers racing for it conflict in the log and only one sends."""
        if self.settled or self.being_sent(now):
            raise MailBusyError
        self._attempted(
            attempt=self.attempts + 1,
            until=(now + hold).isoformat(),
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("Attempted", topic="ledgerdesk:OutboundMail.Attempted")
    def _attempted(self, attempt: int, until: str, actor: str, correlation_id: str) -> None:
        self.attempts = attempt
        self.sending_until = until

    def sent(self, server: str, actor: Actor, correlation_id: str) -> None:
        if not self.settled:
            self._sent(server=server, actor=actor.ref, correlation_id=correlation_id)

    @event("Sent", topic="ledgerdesk:OutboundMail.Sent")
    def _sent(self, server: str, actor: str, correlation_id: str) -> None:
        self.state = MailState.SENT.value
        self.sending_until = None

    def failed(self, error: str, actor: Actor, correlation_id: str) -> None:
        """It cannot be delivered (the server refused it for good, or we gave up)."""
        if not self.settled:
            self._failed(error=error[:2000], actor=actor.ref, correlation_id=correlation_id)

    @event("Failed", topic="ledgerdesk:OutboundMail.Failed")
    def _failed(self, error: str, actor: str, correlation_id: str) -> None:
        self.state = MailState.FAILED.value
        self.sending_until = None

    def released(self, error: str, actor: Actor, correlation_id: str) -> None:
        """The attempt failed in a way worth retrying: the claim ends now."""
        if not self.settled:
            self._released(error=error[:2000], actor=actor.ref, correlation_id=correlation_id)

    @event("Released", topic="ledgerdesk:OutboundMail.Released")
    def _released(self, error: str, actor: str, correlation_id: str) -> None:
        self.sending_until = None
