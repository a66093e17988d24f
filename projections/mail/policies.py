"""The outbox policies of mail out: which committed events ask for mail.

Each names the actor (`purpose`) and the ids it acts on; the actors (`workers/mail/
outgoing.py`) decide who gets what when they run, from the write model."""

from __future__ import annotations

from typing import Any

from projections.base import iso
from projections.policy import Policy, Send

MESSAGE_TOPICS = frozenset(
    {"ledgerdesk:Ticket.CustomerReplyPosted", "ledgerdesk:Ticket.InternalMessagePosted"}
)


def message_posted(event: Any) -> list[Send]:
    """A message: mailed to those who have not read it in time; its mentions told at once."""
    ids = {"item_id": str(event.originator_id), "message_id": event.message_id}
    return [
        Send("mail.forward", {**ids, "posted_at": iso(event.timestamp)}),
        Send("mail.mention", ids),
    ]


def user_assigned(event: Any) -> list[Send]:
    return [
        Send(
            "mail.assignment",
            {
                "item_id": str(event.originator_id),
                "version": event.originator_version,
                "user_id": event.user_id,
                "by": event.actor,
            },
        )
    ]


def acknowledgement_due(event: Any) -> list[Send]:
    return [Send("mail.acknowledge", {"acknowledgement_id": str(event.originator_id)})]


def mail_queued(event: Any) -> list[Send]:
    return [Send("mail.send", {"outbound_id": str(event.originator_id)})]


MAIL_POLICIES = (
    Policy("mail.message_posted", MESSAGE_TOPICS, message_posted),
    Policy("mail.user_assigned", frozenset({"ledgerdesk:Ticket.UserAssigned"}), user_assigned),
    Policy(
        "mail.acknowledgement_due",
        frozenset({"ledgerdesk:Acknowledgement.Due"}),
        acknowledgement_due,
    ),
    Policy("mail.queued", frozenset({"ledgerdesk:OutboundMail.Queued"}), mail_queued),
)
