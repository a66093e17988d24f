"""Automation rules run by the workers, on both backends: the shipped rules move a ticket as
the customer and staff answer, and close one resolved for 7 days on the tick; an event
committed while no worker ran (a crash between commit and action) is acted on once when
they run again, never before its commit and never again after."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

import workers.workflow
from commands.company_settings import CompanySettingsService
from commands.models import ChangeTicketStatus, Context, PostMessage, ReprioritiseTicket
from commands.portal import PostPortalReply
from commands.recurrence import RecurrenceService
from commands.workflow.automations import AutomationService
from commands.workflow.rule_runs import RuleRunner
from domain.item_numbers import item_id
from domain.values import Actor
from domain.workflow.automations import SHIPPED_RULES
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.conftest import wait_until
from tests.factories import SYSTEM, context, open_ticket, register
from tests.rules import status_of
from workers.actors import Delivery, WorkerServices


def post(c: bootstrap.Container, number: int, actor: Actor) -> None:
    ctx = Context(actor=actor, correlation_id="reply")
    if actor.kind == "customer":
        c.portal.post_reply(PostPortalReply(number=number, message_id=uuid.uuid4(), body="Hi"), ctx)
        return
    message = PostMessage(message_id=uuid.uuid4(), body="Hello", visibility="customer")
    c.commands.change_item(number, [message], ctx)


def test_the_shipped_rules_move_a_ticket_as_people_answer(
    working: bootstrap.Container,
) -> None:
    c = working
    agent = Actor.user(register(c, "agent@example.com", admin=True))
    number = open_ticket(c, requester_email="ann@example.com")
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Open")], context())
    post(c, number, agent)
    wait_until(lambda: status_of(c, number) == "Waiting on customer", what="waiting on customer")
    post(c, number, Actor.customer("ann@example.com"))
    wait_until(lambda: status_of(c, number) == "Open", what="open again")
    moved = [e for e in c.app.events.get(item_id(number)) if type(e).__name__ == "StatusChanged"]
    assert [e.actor.partition(":")[0] for e in moved] == ["system", "automation", "automation"]
    assert [e.actor.partition(":")[2] for e in moved[1:]] == [
        SHIPPED_RULES[1]["id"],
        SHIPPED_RULES[0]["id"],
    ]


def test_the_tick_closes_a_ticket_resolved_for_7_days(working: bootstrap.Container) -> None:
    c = working
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Resolved")], context())
    later = datetime.now(UTC) + timedelta(days=7, hours=1)
    runner = RuleRunner(c.app, clock=lambda: later)
    services = WorkerServices(
        c.app, c.commands, c.accounts, c.teams, c.customers, c.projects, c.views,
        RecurrenceService(c.app), c.mail_out, rules=runner,
    )  # fmt: skip
    assert c.runner.wait_for(c.app.head(), ["automation_clock"], 10)
    workers.workflow.tick(services, Delivery("tick:1", "workflow.tick", {}))
    assert status_of(c, number) == "Closed"
    closed = list(c.app.events.get(item_id(number)))[-1]
    assert closed.actor == f"automation:{SHIPPED_RULES[2]['id']}"
    # The next tick finds it done (the view shows the run; the run's id would refuse it).
    assert c.runner.wait_for(c.app.head(), ["automation_clock"], 10)
    version = c.app.repository.get(item_id(number)).version
    workers.workflow.tick(services, Delivery("tick:2", "workflow.tick", {}))
    assert c.app.repository.get(item_id(number)).version == version


def test_an_event_committed_while_no_worker_ran_is_acted_on_once(settings: Settings) -> None:
    bootstrap.migrate(settings)
    first = bootstrap.build(settings)
    rules = AutomationService(first.app)
    for shipped in SHIPPED_RULES:
        rules.delete(shipped["id"], SYSTEM)
    rule, _ = rules.create(
        {
            "name": "Urgent ones get a note",
            "item_type": "ticket",
            "trigger": {"type": "field_changed", "field": "priority", "to": "urgent"},
            "actions": [{"type": "internal_message", "body": "Urgent"}],
        },
        SYSTEM,
    )
    number = open_ticket(first)
    first.commands.change_ticket(number, [ReprioritiseTicket(priority="urgent")], context())
    first.close()  # "Crashed": committed, nothing ran.

    for _ in range(2):  # Started again, twice: acted on once.
        again = bootstrap.build(settings)
        again.follow()
        again.work()
        try:
            wait_until(
                lambda c=again: any(
                    type(e).__name__ == "InternalMessagePosted"
                    for e in c.app.events.get(item_id(number))
                ),
                what="the rule's note",
            )
            again.runner.wait_for(again.app.head(), ["outbox"], 10)
        finally:
            again.close()
    final = bootstrap.build(settings)
    notes = [
        e
        for e in final.app.events.get(item_id(number))
        if type(e).__name__ == "InternalMessagePosted"
    ]
    final.close()
    assert len(notes) == 1
    assert notes[0].actor == f"automation:{rule['id']}"


def test_no_rule_runs_while_automations_are_off(
    working: bootstrap.Container, caplog: pytest.LogCaptureFixture
) -> None:
    c = working
    caplog.set_level(logging.INFO, logger="ledgerdesk.workers")
    agent = Actor.user(register(c, "agent@example.com", admin=True))
    number = open_ticket(c, requester_email="ann@example.com")
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Open")], context())
    # When admins switch automations off and an agent answers
    CompanySettingsService(c.app).change({}, {"automations": False}, context())
    post(c, number, agent)
    # Then the worker takes the rules' message and drops it: the ticket stays Open
    wait_until(
        lambda: "workflow.run_rules: ['features.automations'] switched off" in caplog.text,
        what="the dropped message",
    )
    assert status_of(c, number) == "Open"
    # When they are on again, the next answer moves it as before
    CompanySettingsService(c.app).change({}, {"automations": True}, context())
    post(c, number, agent)
    wait_until(lambda: status_of(c, number) == "Waiting on customer", what="waiting on customer")
