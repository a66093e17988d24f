"""Automation rules running, on both backends: each trigger, condition and action acts as
written; a run acts exactly once (run again, by a second worker at the same moment, or after
a crash between the commit of its trigger and its action); events carry the rule as actor
and the trigger as causation; a rule never reacts to its own action, nor to what happened
before it existed; two rules that trigger each other stop at the depth limit with an event
naming them; time-based rules act once their time has come."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from commands.company_settings import CompanySettingsService
from commands.models import (
    ChangeTicketStatus,
    ReprioritiseTicket,
)
from commands.sla.policies import SlaPolicyService
from commands.workflow.automations import AutomationService
from commands.workflow.rule_runs import RuleRunner
from commands.workflow.statuses import StatusService
from domain.errors import InvalidValueError
from domain.item_numbers import item_id
from domain.workflow.automations import SHIPPED_RULES
from domain.workflow.rules import MAX_DEPTH
from domain.workflow.runs import causation_of, event_id, run_id_for
from domain.workflow.statuses import status_id
from ledgerdesk import bootstrap
from tests.factories import SYSTEM, context, open_ticket
from tests.rules import (
    CREATED,
    customer_reply,
    events_of,
    item,
    own_rules,
    rule,
    run_last,
    version_of,
)

IS_NEW = {"field": "status", "operator": "is", "value": "New"}
WAITING = {"field": "status", "operator": "is", "value": "Waiting on customer"}
OPEN_ID = status_id("ticket", "Open")


def test_a_rule_acts_once_as_itself_caused_by_its_trigger(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    made, _ = rules.create(
        rule(
            trigger={"type": "field_changed", "field": "priority", "to": "urgent"},
            conditions={
                "match": "all",
                "rules": [{"field": "status", "operator": "is", "value": "New"}],
            },
            actions=[
                {"type": "set_status", "status": "Open"},
                {"type": "internal_message", "body": "Urgent: #{{ item.number }} {{ item.title }}"},
            ],
        ),
        SYSTEM,
    )
    runner = RuleRunner(c.app)
    number = open_ticket(c)
    assert run_last(c, runner, number) == []  # Created: this rule does not fire.
    c.commands.change_ticket(number, [ReprioritiseTicket(priority="high")], context())
    assert run_last(c, runner, number) == []  # Not to urgent.
    c.commands.change_ticket(number, [ReprioritiseTicket(priority="urgent")], context())
    trigger = events_of(c, number)[-1]
    assert run_last(c, runner, number) == [made["id"]]
    assert item(c, number).status == "Open"
    acted = events_of(c, number)[trigger.originator_version :]
    assert [type(e).__name__ for e in acted] == ["StatusChanged", "InternalMessagePosted"]
    for event in acted:
        assert event.actor == f"automation:{made['id']}"
        assert causation_of(event) == event_id(trigger)
        assert event.correlation_id == trigger.correlation_id
    assert acted[1].body == f"Urgent: #{number} {item(c, number).title}"
    run = c.app.repository.get(run_id_for(event_id(trigger)))
    assert (run.rules, run.item_id) == ([made["id"]], str(item_id(number)))

    # Again (a redelivery): nothing more.
    version = version_of(c, number)
    assert runner.on_event(item_id(number), trigger.originator_version) == []
    assert version_of(c, number) == version

    # Its own action (a status change) never triggers it, nor does a person's event lack
    # a causation.
    assert causation_of(trigger) is None


def test_two_workers_at_once_act_once(container: bootstrap.Container) -> None:
    c = container
    rules = own_rules(c)
    rules.create(
        rule(
            trigger={"type": "item_created"}, actions=[{"type": "set_priority", "priority": "high"}]
        ),
        SYSTEM,
    )
    number = open_ticket(c)
    version = version_of(c, number)
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        runner = RuleRunner(c.app)
        barrier.wait()
        results.append(runner.on_event(item_id(number), version))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 1]
    names = [type(e).__name__ for e in events_of(c, number)]
    assert names.count("Reprioritised") == 1


def test_a_rule_never_acts_on_what_happened_before_it_existed(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    number = open_ticket(c)
    version = version_of(c, number)
    rules.create(
        rule(
            trigger={"type": "item_created"}, actions=[{"type": "set_priority", "priority": "high"}]
        ),
        SYSTEM,
    )
    assert RuleRunner(c.app).on_event(item_id(number), version) == []
    assert item(c, number).priority == "normal"


def test_two_rules_that_trigger_each_other_act_once_each(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    for name, when, then in (("Ping", "high", "urgent"), ("Pong", "urgent", "high")):
        rules.create(
            rule(
                name=name,
                trigger={"type": "field_changed", "field": "priority", "to": when},
                actions=[{"type": "set_priority", "priority": then}],
            ),
            SYSTEM,
        )
    runner = RuleRunner(c.app)
    number = open_ticket(c)
    c.commands.change_ticket(number, [ReprioritiseTicket(priority="high")], context())
    rounds = 0
    while run_last(c, runner, number):
        rounds += 1
        assert rounds <= MAX_DEPTH
    # Ping acted on the person's change, Pong on Ping's; Ping never on what it caused.
    assert rounds == 2
    assert item(c, number).priority == "high"


def test_a_causal_chain_deeper_than_the_limit_stops_naming_its_rules(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    steps = (
        ("priority", "high", {"type": "set_status", "status": "Open"}),
        ("status", "Open", {"type": "set_priority", "priority": "urgent"}),
        ("priority", "urgent", {"type": "set_status", "status": "Waiting on customer"}),
        ("status", "Waiting on customer", {"type": "set_priority", "priority": "low"}),
        ("priority", "low", {"type": "set_status", "status": "Resolved"}),
        ("status", "Resolved", {"type": "set_priority", "priority": "normal"}),
    )
    made = [
        rules.create(
            rule(
                name=f"Step {i}",
                trigger={"type": "field_changed", "field": field, "to": value},
                actions=[action],
            ),
            SYSTEM,
        )[0]["id"]
        for i, (field, value, action) in enumerate(steps)
    ]
    runner = RuleRunner(c.app)
    number = open_ticket(c)
    c.commands.change_ticket(number, [ReprioritiseTicket(priority="high")], context())
    rounds = 0
    while run_last(c, runner, number):
        rounds += 1
        assert rounds <= len(steps)
    assert rounds == MAX_DEPTH
    last = events_of(c, number)[-1]
    stopped = c.app.repository.get(run_id_for(event_id(last)))
    assert stopped.looped
    assert stopped.rules == made
    stored = list(c.app.events.get(stopped.id))
    assert type(stored[0]).__name__ == "LoopStopped"
    assert causation_of(stored[0]) == event_id(last)
    assert item(c, number).status == "Resolved"  # The sixth rule did not act.


def test_a_failing_action_leaves_its_rule_out_and_the_others_act(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    policies = SlaPolicyService(c.app)
    policy_id, _ = policies.define({"name": "Gold"}, SYSTEM)
    broken, _ = rules.create(
        rule(
            name="Broken since",
            trigger=CREATED,
            actions=[
                {"type": "set_priority", "priority": "urgent"},
                {"type": "apply_sla", "policy_id": policy_id},
            ],
        ),
        SYSTEM,
    )
    fine, _ = rules.create(
        rule(trigger=CREATED, actions=[{"type": "set_status", "status": "Open"}]),
        SYSTEM,
    )
    policies.retire(policy_id, SYSTEM)  # After the rule was saved: its action fails.
    number = open_ticket(c)
    assert run_last(c, RuleRunner(c.app), number) == [fine["id"]]
    found = item(c, number)
    # Nothing of the broken rule is written, not even its first action.
    assert (found.status, found.priority) == ("Open", "normal")
    run = c.app.repository.get(run_id_for(event_id(events_of(c, number)[0])))
    assert broken["id"] not in run.rules


def test_a_status_renamed_or_retired_since_the_rule_was_saved_is_followed(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    made, _ = rules.create(
        rule(
            trigger={"type": "customer_replied"},
            conditions={"match": "all", "rules": [WAITING]},
            actions=[{"type": "set_status", "status": "Resolved"}],
        ),
        SYSTEM,
    )
    statuses = StatusService(c.app)
    statuses.change(status_id("ticket", "Waiting on customer"), {"name": "Pending"}, SYSTEM)
    statuses.retire(status_id("ticket", "Resolved"), OPEN_ID, lambda *_: 0, SYSTEM)
    number = open_ticket(c, requester_email="ann@example.com")
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Pending")], context())
    customer_reply(c, number)
    assert run_last(c, RuleRunner(c.app), number) == [made["id"]]
    assert item(c, number).status == "Open"  # Resolved's replacement.


def test_a_rule_that_names_what_does_not_exist_is_refused_and_nothing_is_written(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = AutomationService(c.app)
    head = c.app.head()
    bad = [
        ({"actions": [{"type": "set_status", "status": "Nope"}]}, "actions[0].status"),
        ({"actions": [{"type": "reply", "body": "{{ item.nope }}"}]}, "actions[0].body"),
        ({"actions": [{"type": "reply", "body": "{% if %}"}]}, "actions[0].body"),
        ({"item_type": "nope", "actions": [{"type": "set_priority", "priority": "low"}]}, None),
    ]
    for given, where in bad:
        body = rule(trigger={"type": "item_created"}, **given)
        with pytest.raises(Exception) as raised:
            rules.create(body, SYSTEM)
        if where is not None:
            assert isinstance(raised.value, InvalidValueError)
            assert raised.value.field == where
    assert c.app.head() == head


def test_time_based_rules_act_once_their_time_has_come(
    container: bootstrap.Container,
) -> None:
    c = container
    now = [datetime.now(UTC)]
    runner = RuleRunner(c.app, clock=lambda: now[0])
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Resolved")], context())
    closing = SHIPPED_RULES[2]["id"]
    assert not runner.on_time(closing, item_id(number))  # Not 7 days yet.
    now[0] += timedelta(days=7, minutes=1)
    assert runner.on_time(closing, item_id(number))
    assert item(c, number).status == "Closed"
    assert not runner.on_time(closing, item_id(number))  # Once.
    last = events_of(c, number)[-1]
    assert last.actor == f"automation:{closing}"

    # Not resolved when its time came: judged once, never acts for that start.
    other = open_ticket(c)
    c.commands.change_ticket(other, [ChangeTicketStatus(status="Open")], context())
    now[0] += timedelta(days=8)
    assert not runner.on_time(closing, item_id(other))
    run = c.app.repository.get(run_id_for(f"{closing}:{item_id(other)}:{_start(c, other)}"))
    assert run.rules == []
    assert run.skipped == [closing]


def test_no_rule_acts_on_the_items_of_a_switched_off_app_until_it_is_on(
    container: bootstrap.Container,
) -> None:
    c = container
    now = [datetime.now(UTC)]
    runner = RuleRunner(c.app, clock=lambda: now[0])
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Resolved")], context())
    closing = SHIPPED_RULES[2]["id"]
    settings = CompanySettingsService(c.app)
    settings.change({"tickets": False}, {}, SYSTEM)

    # Its time comes while the tickets app is off: the rule neither acts nor is judged
    now[0] += timedelta(days=7, minutes=1)
    assert not runner.on_time(closing, item_id(number))
    assert item(c, number).status == "Resolved"

    # Switched on again, the next tick closes it
    settings.change({"tickets": True}, {}, SYSTEM)
    assert runner.on_time(closing, item_id(number))
    assert item(c, number).status == "Closed"


def test_no_rule_runs_on_an_event_of_an_item_whose_app_is_switched_off(
    container: bootstrap.Container,
) -> None:
    c = container
    made, _ = own_rules(c).create(
        rule(
            trigger={"type": "field_changed", "field": "priority", "to": "urgent"},
            actions=[{"type": "set_status", "status": "Open"}],
        ),
        SYSTEM,
    )
    runner = RuleRunner(c.app)
    number = open_ticket(c)
    c.commands.change_ticket(number, [ReprioritiseTicket(priority="urgent")], context())
    settings = CompanySettingsService(c.app)
    settings.change({"tickets": False}, {}, SYSTEM)
    assert runner.on_event(item_id(number), version_of(c, number)) == []
    assert item(c, number).status == "New"
    # Switched on again, the rules run on what happens from then on (the event they were
    # not run on while it was off is not taken up again, as when automations are off)
    settings.change({"tickets": True}, {}, SYSTEM)
    for priority in ("low", "urgent"):
        c.commands.change_ticket(number, [ReprioritiseTicket(priority=priority)], context())
    assert runner.on_event(item_id(number), version_of(c, number)) == [made["id"]]
    assert item(c, number).status == "Open"


def _start(c: bootstrap.Container, number: int) -> str:
    from domain.values import utc_text

    return utc_text(events_of(c, number)[-1].timestamp)
