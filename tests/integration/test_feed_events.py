"""The feed's harder public events, on both backends: a breached SLA target told once per
round, and an automation rule's action told with the event that caused it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from commands.models import ChangeTicketStatus
from commands.sla.items import ItemSlaService
from commands.sla.policies import SlaPolicyService
from domain.item_numbers import item_id
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.integrations.feed_query import FeedScope, feed_page
from projections.timesheet_query import EntryScope
from tests.conftest import wait_until
from tests.factories import SYSTEM, context, open_ticket, register
from tests.integration.test_automation_workers import post
from tests.integration.test_sla_items import STANDARD, Clock, opened_at
from tests.rules import status_of

EVERYTHING = FeedScope(
    True, frozenset({"ticket", "task"}), frozenset(), EntryScope("", True, frozenset()), True
)


def public(c: bootstrap.Container, *types: str) -> list[dict[str, Any]]:
    assert c.runner.wait_for(c.app.head(), ["feed"], 10)
    with c.views.read() as tx:
        return feed_page(tx, current_tables(tx, "feed"), EVERYTHING, 0, types, 1000)


def test_a_breach_is_told_once_per_round(live: bootstrap.Container) -> None:
    c, clock = live, Clock()
    service = ItemSlaService(c.app, clock)
    policy_id, _ = SlaPolicyService(c.app).define(STANDARD, SYSTEM)
    number = open_ticket(c)
    start = opened_at(c, number)
    clock.now = start + timedelta(minutes=10)
    service.apply(number, uuid.UUID(policy_id), SYSTEM)
    clock.now = start + timedelta(minutes=46)
    service.evaluate(item_id(number), "warn")
    assert public(c, "sla.breached") == []
    clock.now = start + timedelta(minutes=61)
    service.evaluate(item_id(number), "breach")
    clock.now = start + timedelta(minutes=62)
    service.evaluate(item_id(number), "later")
    breaches = public(c, "sla.breached")
    assert [b["data"]["metrics"] for b in breaches] == [["first_response"]]
    assert breaches[0]["data"]["policy"] == "Standard"
    assert breaches[0]["data"]["item"]["number"] == number


def test_an_automation_action_names_its_cause(working: bootstrap.Container) -> None:
    c = working
    agent = Actor.user(register(c, "agent@example.com", admin=True))
    number = open_ticket(c, requester_email="ann@example.com")
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Open")], context())
    post(c, number, agent)  # The shipped rule moves it to Waiting on customer
    wait_until(lambda: status_of(c, number) == "Waiting on customer", what="the rule's move")
    moves = public(c, "item.status_changed")
    by_rule = [m for m in moves if m["actor"].startswith("automation:")]
    assert [m["data"]["status"] for m in by_rule] == ["Waiting on customer"]
    assert by_rule[0]["causation_id"] is not None
    assert [m["causation_id"] for m in moves if m not in by_rule] == [None]
