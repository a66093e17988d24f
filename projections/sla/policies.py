"""The outbox policies of service levels: which committed events ask for an item's SLA to
be applied or measured again. The actors (`workers/sla.py`) decide from the write model."""

from __future__ import annotations

from typing import Any

from domain.sla.policies import SlaPolicies
from projections.policy import Policy, Send

# What may move an item's targets: its priority, its status, a message the customer sees
# (from either side), its conversion to a task.
MOVING_TOPICS = frozenset(
    f"ledgerdesk:Ticket.{name}"
    for name in ("Reprioritised", "StatusChanged", "CustomerReplyPosted", "ConvertedToTask")
)


def item_moved(event: Any) -> list[Send]:
    return [Send("sla.evaluate", {"item_id": str(event.originator_id)})]


def policy_defined(event: Any) -> list[Send]:
    return [Send("sla.follow_policy", {"policy_id": event.policy["id"]})]


# (`sla.ticket_opened`, which applied the default policy to each new ticket, is now the
# shipped automation rule "New tickets get the default SLA policy", which admins may edit
# or delete; its actor stays for the messages already in the outbox.)
SLA_POLICIES = (
    Policy("sla.item_moved", MOVING_TOPICS, item_moved),
    Policy("sla.policy_defined", frozenset({f"{SlaPolicies.TOPIC}.Defined"}), policy_defined),
)
