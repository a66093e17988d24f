"""Each automation action does what it says, as the rule, on both backends; and the triggers
and conditions that read more than an item's own fields (who replied, the requester's
organisation, the SLA state) judge as written."""

from __future__ import annotations

import uuid
from typing import Any

from commands.customers import RegisterContact, RegisterOrganisation
from commands.folders import CreateFolder
from commands.models import Context, PostMessage
from commands.portal import PostPortalReply
from commands.projects import CreateProject
from commands.sla.policies import SlaPolicyService
from commands.teams import CreateTeam
from commands.workflow.rule_runs import RuleRunner
from domain.item_numbers import item_id
from domain.sla.item_sla import item_sla_id
from domain.values import Actor
from domain.workflow.runs import causation_of, event_id
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.factories import SYSTEM, open_ticket, register
from tests.rules import CREATED, own_rules, rule, run_last


def test_each_action_acts_as_the_rule(settings: Settings) -> None:
    with_mail = settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:2525"})
    bootstrap.migrate(with_mail)
    c = bootstrap.build(with_mail)
    try:
        rules = own_rules(c)
        agent = register(c, "agent@example.com", admin=True)
        other = register(c, "other@example.com")
        team = c.teams.create_team(CreateTeam(name="Second line"), SYSTEM).id
        project = c.projects.create_project(CreateProject(name="Support"), SYSTEM).id
        folder = c.projects.create_folder(
            CreateFolder(project_id=project, name="Urgent"), SYSTEM
        ).id
        policy, _ = SlaPolicyService(c.app).define({"name": "Gold"}, SYSTEM)
        made, _ = rules.create(
            rule(
                trigger=CREATED,
                actions=[
                    {"type": "assign", "user_ids": [str(agent)]},
                    {"type": "set_team", "team_id": str(team)},
                    {"type": "move", "project_id": str(project), "folder_id": str(folder)},
                    {"type": "add_follower", "user_id": str(other)},
                    {"type": "reply", "body": "Thanks, we have #{{ item.number }}."},
                    {"type": "apply_sla", "policy_id": policy},
                    {
                        "type": "send_email",
                        "to": ["requester", "assignees", "boss@example.com"],
                        "subject": "New: {{ item.title }}",
                        "body": "From {{ item.requester }}",
                    },
                    {"type": "convert_to_task"},
                ],
            ),
            SYSTEM,
        )
        number = open_ticket(c, title="Printer", requester_email="ann@example.com")
        opened = next(iter(c.app.events.get(item_id(number))))
        assert run_last(c, RuleRunner(c.app, c.mail_out), number) == [made["id"]]

        ticket = c.app.repository.get(item_id(number))
        assert ticket.assignees == [str(agent)]
        assert (ticket.team_id, ticket.project_id, ticket.folder_id) == (
            str(team), str(project), str(folder),
        )  # fmt: skip
        assert str(other) in ticket.followers
        task = c.app.repository.get(item_id(ticket.converted_to))
        assert task.converted_from == number

        acted = list(c.app.events.get(item_id(number)))[1:]
        assert {e.actor for e in acted} == {f"automation:{made['id']}"}
        assert {causation_of(e) for e in acted} == {event_id(opened)}
        reply = next(e for e in acted if type(e).__name__ == "CustomerReplyPosted")
        assert reply.body == f"Thanks, we have #{number}."

        sla = list(c.app.events.get(item_sla_id(item_id(number))))
        assert sla[1].policy["id"] == policy
        assert causation_of(sla[1]) == event_id(opened)

        queued = _queued_rule_mail(c)
        assert sorted(m.recipient for m in queued) == [
            "agent@example.com", "ann@example.com", "boss@example.com",
        ]  # fmt: skip
        assert {m.context["subject"] for m in queued} == {"New: Printer"}
        assert {m.context["body"] for m in queued} == {"From ann@example.com"}
        assert {m.kind for m in queued} == {"automation"}
    finally:
        c.close()


def _queued_rule_mail(c: bootstrap.Container) -> list[Any]:
    queued = c.app.recorder.select_notifications(  # type: ignore[attr-defined]
        start=1, limit=10_000, topics=["ledgerdesk:OutboundMail.Queued"]
    )
    return [c.app.repository.get(n.originator_id) for n in queued]


def test_who_replied_and_what_is_not_an_items_own_field_are_judged(
    container: bootstrap.Container,
) -> None:
    c = container
    rules = own_rules(c)
    org = c.customers.register_organisation(RegisterOrganisation(name="Acme"), SYSTEM).id
    c.customers.register_contact(
        RegisterContact(email="ann@acme.example", organisation_id=org), SYSTEM
    )
    note = {"type": "internal_message", "body": "noted"}
    acme, _ = rules.create(
        rule(
            name="Acme customers",
            trigger={"type": "customer_replied"},
            conditions={"match": "all", "rules": [
                {"field": "organisation", "operator": "is", "value": str(org)},
                {"field": "channel", "operator": "is", "value": "api"},
            ]},
            actions=[note],
        ),
        SYSTEM,
    )  # fmt: skip
    staff, _ = rules.create(rule(trigger={"type": "staff_replied"}, actions=[note]), SYSTEM)
    internal, _ = rules.create(
        rule(
            trigger={"type": "internal_message"},
            conditions={"match": "any", "rules": [
                {"field": "sla_state", "operator": "is_set"},
                {"field": "assignee", "operator": "is_set"},
            ]},
            actions=[{"type": "set_priority", "priority": "high"}],
        ),
        SYSTEM,
    )  # fmt: skip
    runner = RuleRunner(c.app)
    agent = Actor.user(register(c, "agent@example.com", admin=True))
    ours = open_ticket(c, requester_email="ann@acme.example")
    theirs = open_ticket(c, requester_email="bob@elsewhere.example")
    for number, email in ((ours, "ann@acme.example"), (theirs, "bob@elsewhere.example")):
        reply = PostPortalReply(number=number, message_id=uuid.uuid4(), body="Hello")
        c.portal.post_reply(reply, Context(actor=Actor.customer(email), correlation_id="r"))
    assert run_last(c, runner, ours) == [acme["id"]]
    assert run_last(c, runner, theirs) == []

    post = PostMessage(message_id=uuid.uuid4(), body="Hi", visibility="customer")
    c.commands.change_item(theirs, [post], Context(actor=agent, correlation_id="s"))
    assert run_last(c, runner, theirs) == [staff["id"]]
    # The rule's own note is internal, but not a person's: no trigger.
    assert run_last(c, runner, theirs) == []

    # An internal message on an item with neither an SLA nor an assignee: no match.
    post = PostMessage(message_id=uuid.uuid4(), body="Hmm", visibility="internal")
    c.commands.change_item(theirs, [post], Context(actor=agent, correlation_id="s"))
    assert run_last(c, runner, theirs) == []
    assert internal["id"]
