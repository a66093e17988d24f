"""What the automation rules' tests share: a rule's skeleton, the rules without the shipped
ones, an item's state and stream, running the rules on an item's last event, and a
customer's reply through the portal."""

from __future__ import annotations

import uuid
from typing import Any

from commands.models import Context
from commands.portal import PostPortalReply
from commands.workflow.automations import AutomationService
from commands.workflow.rule_runs import RuleRunner
from domain.item_numbers import item_id
from domain.values import Actor
from domain.workflow.automations import SHIPPED_RULES
from ledgerdesk import bootstrap
from tests.factories import SYSTEM

CREATED = {"type": "item_created"}
HIGH = [{"type": "set_priority", "priority": "high"}]


def rule(**given: Any) -> dict[str, Any]:
    return {"name": "A rule", "item_type": "ticket", **given}


def own_rules(c: bootstrap.Container) -> AutomationService:
    """The rules, the shipped ones deleted (each test names the rules it runs)."""
    service = AutomationService(c.app)
    for shipped in SHIPPED_RULES:
        service.delete(shipped["id"], SYSTEM)
    return service


def item(c: bootstrap.Container, number: int) -> Any:
    return c.app.repository.get(item_id(number))


def version_of(c: bootstrap.Container, number: int) -> int:
    return int(item(c, number).version)


def status_of(c: bootstrap.Container, number: int) -> str:
    return str(item(c, number).status)


def events_of(c: bootstrap.Container, number: int) -> list[Any]:
    return list(c.app.events.get(item_id(number)))


def run_last(c: bootstrap.Container, runner: RuleRunner, number: int) -> list[str]:
    """Run the rules on the item's last event."""
    return runner.on_event(item_id(number), version_of(c, number))


def customer_reply(c: bootstrap.Container, number: int, email: str = "ann@example.com") -> None:
    ctx = Context(actor=Actor.customer(email), correlation_id="customer")
    c.portal.post_reply(PostPortalReply(number=number, message_id=uuid.uuid4(), body="Hi"), ctx)
