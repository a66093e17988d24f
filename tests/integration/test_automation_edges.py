"""Automation rules at their edges, on both backends: tickets of every type get the default
SLA; mail a program sent is no customer reply; time-based rules keep the loop guard, are
judged once (a failing action too), never act on history and follow a changed trigger from
then on; a template that fails on a real item fails its rule only, and one that would be
too large is refused; a rule's mail is recorded as the rule; a stale rule can still be
disabled; a rule after a converting one stops quietly; causation is not a change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from commands.intake.catalogue import IntakeCatalogue
from commands.models import ChangeTicketStatus, ReprioritiseTicket
from commands.sla.policies import SlaPolicyService
from commands.workflow.automations import AutomationService
from commands.workflow.rule_runs import RuleRunner
from commands.workflow.statuses import StatusService
from domain.errors import InvalidValueError
from domain.item_numbers import item_id
from domain.mail.addresses import reply_address
from domain.mail.outgoing import outbound_id_for
from domain.sla.item_sla import item_sla_id
from domain.values import utc_text
from domain.workflow.automations import SHIPPED_RULES
from domain.workflow.rules import MAX_DEPTH
from domain.workflow.runs import causation_of, event_id, run_id_for
from domain.workflow.statuses import STATUSES_ID, status_id
from domain.workflow.triggers import clock_start
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.base import current_tables, event_fields
from projections.workflow.automations import due_items
from tests.factories import SYSTEM, context, open_ticket
from tests.integration.mail.test_receive import deliver, mail
from tests.rules import CREATED, HIGH, own_rules, rule, status_of, version_of


def test_tickets_of_every_type_get_the_default_sla(container: bootstrap.Container) -> None:
    c = container
    IntakeCatalogue(c.app).define_item_type("incident", {"name": "Incident"}, SYSTEM)
    policy = {"name": "S", "default": True, "targets": {"normal": {"first_response": 60}}}
    SlaPolicyService(c.app).define(policy, SYSTEM)
    runner = RuleRunner(c.app)
    for number in (open_ticket(c), open_ticket(c, item_type="incident")):
        assert runner.on_event(item_id(number), 1) == [SHIPPED_RULES[3]["id"]]
        assert list(c.app.events.get(item_sla_id(item_id(number))))


def test_mail_a_program_sent_is_no_customer_reply(container: bootstrap.Container) -> None:
    c = container
    number = deliver(c, mail()).number
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Resolved")], context())
    address = reply_address(c.mail.secret, "support@ledgerdesk.local", number)
    away = mail(subject="Out of office", body="Away", extra="Auto-Submitted: auto-replied\r\n")
    assert deliver(c, away, address).auto_submitted
    reply = next(
        e for e in reversed(list(c.app.events.get(item_id(number))))
        if type(e).__name__ == "CustomerReplyPosted"
    )  # fmt: skip
    assert RuleRunner(c.app).on_event(item_id(number), reply.originator_version) == []
    assert status_of(c, number) == "Resolved"

    # A person's answer does reopen it (the shipped rule).
    deliver(c, mail(subject="Re: it", body="Still broken"), address)
    reply = next(
        e for e in reversed(list(c.app.events.get(item_id(number))))
        if type(e).__name__ == "CustomerReplyPosted"
    )  # fmt: skip
    assert RuleRunner(c.app).on_event(item_id(number), reply.originator_version)
    assert status_of(c, number) == "Open"


def test_time_based_rules_that_trigger_each_other_act_once_each(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    clock = {"type": "time_elapsed", "hours": 1, "since": "status_changed"}

    def flip(name: str, status: str, to: str) -> dict[str, Any]:
        only = {"match": "all", "rules": [{"field": "status", "operator": "is", "value": status}]}
        made, _ = rules.create(
            rule(name=name, trigger=clock, conditions=only,
                 actions=[{"type": "set_status", "status": to}]),
            SYSTEM,
        )  # fmt: skip
        return made

    flips = (flip("A", "Open", "Waiting on customer"), flip("B", "Waiting on customer", "Open"))
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Open")], context())
    now = [datetime.now(UTC)]
    runner = RuleRunner(c.app, clock=lambda: now[0])
    acted = 0
    for _ in range(3 * MAX_DEPTH):
        now[0] = max(now[0], datetime.now(UTC)) + timedelta(hours=2)
        acted += sum(runner.on_time(f["id"], item_id(number)) for f in flips)
    # A flipped it, B flipped it back; A's clock then started from what A caused: judged,
    # never acted on (nor asked again: the view shows it judged).
    assert acted == 2
    c.runner.catch_up(["automation_clock"])
    for flipper in flips:
        found = AutomationService(c.app).get(flipper["id"], SYSTEM)
        with c.views.read() as tx:
            cutoff = utc_text(now[0] - timedelta(hours=1))
            assert due_items(tx, current_tables(tx, "automation_clock"), found, cutoff) == []


def test_a_time_based_rule_whose_action_fails_is_judged_once(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    policy_id, _ = SlaPolicyService(c.app).define({"name": "Gold"}, SYSTEM)
    made, _ = rules.create(
        rule(
            trigger={"type": "time_elapsed", "hours": 1, "since": "created"},
            actions=[{"type": "apply_sla", "policy_id": policy_id}],
        ),
        SYSTEM,
    )
    number = open_ticket(c)
    SlaPolicyService(c.app).retire(policy_id, SYSTEM)
    later = datetime.now(UTC) + timedelta(hours=2)
    assert not RuleRunner(c.app, clock=lambda: later).on_time(made["id"], item_id(number))
    c.runner.catch_up(["automation_clock"])
    found = AutomationService(c.app).get(made["id"], SYSTEM)
    with c.views.read() as tx:
        cutoff = utc_text(later - timedelta(hours=1))
        assert due_items(tx, current_tables(tx, "automation_clock"), found, cutoff) == []


def test_time_based_rules_never_act_on_history(container: bootstrap.Container) -> None:
    c = container
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Resolved")], context())
    later = datetime.now(UTC) + timedelta(days=8)
    runner = RuleRunner(c.app, clock=lambda: later)
    closing = SHIPPED_RULES[2]["id"]
    # Rules started running on this install with the event that resolved it: history.
    began = utc_text(list(c.app.events.get(item_id(number)))[-1].timestamp)
    assert not runner.on_time(closing, item_id(number), began)
    assert status_of(c, number) == "Resolved"

    # A rule given another trigger acts from then on, like a new one.
    rules = own_rules(c)
    made, _ = rules.create(rule(trigger=CREATED, actions=HIGH), SYSTEM)
    changed, _ = rules.change(
        made["id"], {"trigger": {"type": "time_elapsed", "hours": 1, "since": "status_changed"}},
        SYSTEM,
    )  # fmt: skip
    assert changed["since"] > made["since"]
    assert not runner.on_time(made["id"], item_id(number))


def test_a_template_that_fails_on_a_real_item_fails_its_rule_only(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    rules.create(rule(trigger=CREATED, actions=HIGH), SYSTEM)
    note = {"type": "internal_message", "body": "Domain: {{ item.requester.split('@')[1] }}"}
    rules.create(rule(trigger=CREATED, actions=[note]), SYSTEM)
    number = open_ticket(c)  # No requester: the template fails on it.
    assert len(RuleRunner(c.app).on_event(item_id(number), 1)) == 1
    assert c.app.repository.get(item_id(number)).priority == "high"


@pytest.mark.parametrize(
    "body",
    [
        "{{ 1/0 }}",
        "{{ item.number + 'x' }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{{ 'x' * 10**8 }}",
    ],
)
def test_a_template_that_cannot_render_is_refused(
    container: bootstrap.Container, body: str
) -> None:
    head = container.app.head()
    with pytest.raises(InvalidValueError) as refused:
        AutomationService(container.app).create(
            rule(trigger=CREATED, actions=[{"type": "reply", "body": body}]), SYSTEM
        )
    assert refused.value.field == "actions[0].body"
    assert str(refused.value).count("actions[0].body") == 1
    assert container.app.head() == head


def test_a_rules_mail_is_recorded_as_the_rule(settings: Settings) -> None:
    with_mail = settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:2525"})
    bootstrap.migrate(with_mail)
    c = bootstrap.build(with_mail)
    try:
        made, _ = own_rules(c).create(
            rule(trigger=CREATED, actions=[{
                "type": "send_email", "to": ["boss@example.com"], "subject": "New", "body": "x",
            }]),
            SYSTEM,
        )  # fmt: skip
        number = open_ticket(c)
        opened = next(iter(c.app.events.get(item_id(number))))
        assert RuleRunner(c.app, c.mail_out).on_event(item_id(number), 1) == [made["id"]]
        run = run_id_for(event_id(opened))
        key = f"automation:{run}:{made['id']}:0:boss@example.com"
        queued = next(iter(c.app.events.get(outbound_id_for(key))))
        assert queued.actor == f"automation:{made['id']}"
        assert causation_of(queued) == event_id(opened)
        assert queued.correlation_id == opened.correlation_id
    finally:
        c.close()


def test_a_rule_naming_a_retired_status_can_still_be_disabled(
    container: bootstrap.Container,
) -> None:
    c = container
    StatusService(c.app).retire(
        status_id("ticket", "Waiting on customer"), None, lambda *_: 0, SYSTEM
    )
    rules = AutomationService(c.app)
    disabled, _ = rules.change(SHIPPED_RULES[1]["id"], {"enabled": False}, SYSTEM)
    assert disabled["enabled"] is False
    with pytest.raises(InvalidValueError) as refused:
        rules.change(disabled["id"], {"actions": disabled["actions"]}, SYSTEM)
    assert refused.value.field == "actions[0].status"


def test_what_a_rule_names_is_a_problem_naming_where(container: bootstrap.Container) -> None:
    c = container
    rules = AutomationService(c.app)
    nobody = "00000000-0000-4000-8000-000000000001"
    cases = [
        ({"actions": [{"type": "assign", "user_ids": [nobody]}]}, "actions[0].user_ids"),
        ({"actions": [{"type": "set_team", "team_id": nobody}]}, "actions[0].team_id"),
        ({"actions": [{"type": "move", "project_id": nobody}]}, "actions[0].project_id"),
        ({"actions": [{"type": "apply_sla", "policy_id": nobody}]}, "actions[0].policy_id"),
        ({"trigger": {"type": "field_changed", "field": "priority", "to": "urgnet"}}, "trigger.to"),
        ({"trigger": {"type": "field_changed", "field": "assignee", "to": "bob"}}, "trigger.to"),
    ]
    for change, where in cases:
        given = rule(trigger=CREATED, actions=[{"type": "set_priority", "priority": "low"}])
        with pytest.raises(InvalidValueError) as refused:
            rules.create({**given, **change}, SYSTEM)
        assert refused.value.field == where, change
    IntakeCatalogue(c.app).define_item_type("chore", {"name": "Chore", "kind": "task"}, SYSTEM)
    with pytest.raises(InvalidValueError) as refused:
        rules.create(rule(item_type="chore", trigger=CREATED, actions=HIGH), SYSTEM)
    assert refused.value.field == "item_type"


def test_a_rule_after_a_converting_one_stops_quietly(container: bootstrap.Container) -> None:
    c = container
    rules = own_rules(c)
    urgent = {"type": "field_changed", "field": "priority", "to": "urgent"}
    convert, _ = rules.create(rule(trigger=urgent, actions=[{"type": "convert_to_task"}]), SYSTEM)
    rules.create(rule(trigger=urgent, actions=[{"type": "internal_message", "body": "hi"}]), SYSTEM)
    number = open_ticket(c)
    c.commands.change_ticket(number, [ReprioritiseTicket(priority="urgent")], context())
    runner = RuleRunner(c.app)
    assert runner.on_event(item_id(number), version_of(c, number)) == [convert["id"]]
    assert c.app.repository.get(item_id(number)).converted_to


def test_causation_is_not_a_change_in_history(container: bootstrap.Container) -> None:
    c = container
    own_rules(c).create(
        rule(trigger=CREATED, actions=[{"type": "set_priority", "priority": "high"}]), SYSTEM
    )
    number = open_ticket(c)
    RuleRunner(c.app).on_event(item_id(number), 1)
    changed = list(c.app.events.get(item_id(number)))[-1]
    assert causation_of(changed) is not None
    assert event_fields(changed) == {"priority": "high"}


def _away_with_images(address: str) -> bytes:
    """An out-of-office answer with three inline images (as mail programs send them)."""
    message = EmailMessage()
    message["From"] = "Ada <ada@acme.example>"
    message["To"] = address
    message["Subject"] = "Out of office"
    message["Message-ID"] = f"<{uuid.uuid4()}@acme.example>"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("I am away.")
    for n in range(3):
        message.add_attachment(b"\x89PNG" + bytes([n]) * 20, maintype="image", subtype="png",
                               filename=f"logo{n}.png")  # fmt: skip
    return message.as_bytes()


def test_an_out_of_office_with_images_is_no_reply_either(
    container: bootstrap.Container,
) -> None:
    c = container
    number = deliver(c, mail()).number
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Resolved")], context())
    address = reply_address(c.mail.secret, "support@ledgerdesk.local", number)
    assert deliver(c, _away_with_images(address), address).auto_submitted
    events = list(c.app.events.get(item_id(number)))
    reply = next(e for e in reversed(events) if type(e).__name__ == "CustomerReplyPosted")
    assert [type(e).__name__ for e in events[reply.originator_version :]].count(
        "AttachmentAdded"
    ) == 3
    assert RuleRunner(c.app).on_event(item_id(number), reply.originator_version) == []
    assert status_of(c, number) == "Resolved"
    # Nor does it start or spoil a time-based clock counted from customer replies.
    chase = {"type": "time_elapsed", "hours": 1, "since": "customer_replied"}
    assert clock_start(chase, events) is None


def test_a_status_renamed_moves_its_items_without_firing_rules_or_restarting_clocks(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    made, _ = rules.create(
        rule(
            trigger={"type": "field_changed", "field": "status", "to": "Resolved"},
            actions=HIGH,
        ),
        SYSTEM,
    )
    statuses = StatusService(c.app)
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Resolved")], context())
    runner = RuleRunner(c.app)
    assert runner.on_event(item_id(number), version_of(c, number)) == [made["id"]]
    resolved_at = list(c.app.events.get(item_id(number)))[-2].timestamp
    statuses.change(status_id("ticket", "Resolved"), {"name": "Solved"}, SYSTEM)
    moves = list(c.app.events.get(STATUSES_ID))[-1].moves
    statuses.move_item(number, moves, "rename")
    assert status_of(c, number) == "Solved"
    assert runner.on_event(item_id(number), version_of(c, number)) == []
    closing = {"type": "time_elapsed", "hours": 168, "since": "status_changed"}
    start = clock_start(closing, list(c.app.events.get(item_id(number))))
    assert start is not None
    assert start.timestamp <= resolved_at

    # The rule, saved with the old name, fires on the status by its new name.
    other = open_ticket(c)
    c.commands.change_ticket(other, [ChangeTicketStatus(status="Solved")], context())
    assert runner.on_event(item_id(other), version_of(c, other)) == [made["id"]]
    # A name no status has is refused.
    typo = rule(trigger={"type": "field_changed", "field": "status", "to": "Reslved"},
                actions=HIGH)  # fmt: skip
    with pytest.raises(InvalidValueError) as refused:
        rules.create(typo, SYSTEM)
    assert refused.value.field == "trigger.to"


def test_loops_over_ranges_and_missing_targets_are_refused(
    container: bootstrap.Container,
) -> None:
    rules = AutomationService(container.app)
    looping = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    cases = [
        ({"type": "reply", "body": looping}, "actions[0].body"),
        ({"type": "set_team"}, "actions[0].team_id"),
        ({"type": "apply_sla"}, "actions[0].policy_id"),
    ]
    for action, where in cases:
        with pytest.raises(InvalidValueError) as refused:
            rules.create(rule(trigger=CREATED, actions=[action]), SYSTEM)
        assert refused.value.field == where
