"""What service levels look like across items, on both backends: every round's outcome in
the log once (a round answered between two records too), the compliance report counting
them by policy, priority, metric and period, and the SLA view grouped by policy and state."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from commands.models import ReprioritiseTicket
from commands.sla.items import ItemSlaService
from commands.sla.policies import SlaPolicyService
from domain.item_numbers import item_id
from domain.sla.item_sla import item_sla_id
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.sla.compliance import ComplianceQuery, compliance, period_start
from projections.sla.groups import sla_groups
from projections.sla.view import summary_of_item
from tests.factories import SYSTEM, context, open_ticket, register
from tests.integration.test_sla_items import STANDARD, Clock, opened_at, reply

URGENT = {
    "name": "Urgent desk",
    "targets": {
        "urgent": {"first_response": 15, "resolution": 600},
        "normal": {"first_response": 60, "next_response": 30, "resolution": 480},
    },
}
BOTH = frozenset({"ticket", "task"})


def customer_writes(c: bootstrap.Container, number: int) -> None:
    """The customer's message, as the mail intake and the portal record it."""
    ticket = c.app.repository.get(item_id(number))
    ticket.post_message(
        message_id=uuid.uuid4(), body="And now?", visibility="customer", in_reply_to=None,
        actor=Actor.customer("ann@example.com"), correlation_id=str(uuid.uuid4()),
    )  # fmt: skip
    c.app.save(ticket)


def report(c: bootstrap.Container, **given: object) -> dict[str, object]:
    c.runner.catch_up()
    today = datetime.now().astimezone().date()
    span = {"since": today - timedelta(days=1), "until": today + timedelta(days=1)}
    query = ComplianceQuery(**{**span, **given})  # type: ignore[arg-type]
    with c.views.read() as tx:
        return compliance(tx, current_tables(tx, "sla"), query)


def tally(found: dict[str, object]) -> dict[tuple[str | None, str | None, str], tuple[int, int]]:
    rows = found["rows"]
    assert isinstance(rows, list)
    return {
        (r["policy"]["name"], r["priority"], r["metric"]): (r["met"], r["breached"]) for r in rows
    }


def asked_again(c: bootstrap.Container, clock: Clock) -> tuple[ItemSlaService, int]:
    """A ticket held to the standard policy a minute after it opened, then answered, asked,
    answered and asked again (not measured since)."""
    service = ItemSlaService(c.app, clock)
    policy_id, _ = SlaPolicyService(c.app).define(STANDARD, SYSTEM)
    number = open_ticket(c)
    agent = register(c, "agent@example.com", admin=True)
    clock.now = opened_at(c, number) + timedelta(minutes=1)
    service.apply(number, uuid.UUID(policy_id), SYSTEM)
    for _ in range(2):
        reply(c, number, agent)
        customer_writes(c, number)
    return service, number


def test_a_round_answered_between_two_records_is_recorded_once(
    container: bootstrap.Container,
) -> None:
    c, clock = container, Clock()
    service, number = asked_again(c, clock)  # and only then measured
    clock.now += timedelta(minutes=5)
    service.evaluate(item_id(number), "later")
    changes = [
        e for e in c.app.events.get(item_sla_id(item_id(number))) if type(e).__name__ == "Changed"
    ]
    last = changes[-1]
    assert [(r["metric"], r["state"]) for r in last.earlier] == [("next_response", "met")]
    assert last.metrics["next_response"]["answered_at"] is None  # the round now running
    assert last.earlier[0]["started_at"] < last.metrics["next_response"]["started_at"]
    assert last.metrics["first_response"]["priority"] == "normal"
    # Measured again: nothing new, and the earlier round is never recorded twice.
    service.evaluate(item_id(number), "again")
    assert len([e for e in c.app.events.get(item_sla_id(item_id(number)))]) == 2 + len(changes)
    counted = tally(report(c))
    assert counted[("Standard", "normal", "first_response")] == (1, 0)
    assert counted[("Standard", "normal", "next_response")] == (1, 0)  # the one answered
    # Past its due time unanswered: the running round is breached, and counted so.
    clock.now += timedelta(minutes=40)
    service.evaluate(item_id(number), "late")
    assert tally(report(c))[("Standard", "normal", "next_response")] == (1, 1)


def test_the_compliance_report_counts_outcomes_by_policy_priority_metric_and_period(
    container: bootstrap.Container,
) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    policies = SlaPolicyService(c.app)
    standard, _ = policies.define(STANDARD, SYSTEM)
    urgent_desk, _ = policies.define(URGENT, SYSTEM)
    agent = register(c, "agent@example.com", admin=True)
    met, late, urgent, running = (open_ticket(c) for _ in range(4))
    reply(c, met, agent)
    c.commands.change_ticket(urgent, [ReprioritiseTicket(priority="urgent")], context())
    reply(c, urgent, agent)
    clock.now = opened_at(c, running) + timedelta(minutes=61)
    for number in (met, late, running):
        service.apply(number, uuid.UUID(standard), SYSTEM)
    service.apply(urgent, uuid.UUID(urgent_desk), SYSTEM)
    service.apply(running, None, SYSTEM)  # No longer held: its breach was recorded, though.
    found = report(c)
    assert tally(found) == {
        ("Standard", "normal", "first_response"): (1, 2),  # met; late and running breached
        ("Urgent desk", "urgent", "first_response"): (1, 0),
    }
    assert found["totals"] == {"met": 2, "breached": 2, "compliance": 0.5}
    assert tally(report(c, policy_id=urgent_desk)) == {
        ("Urgent desk", "urgent", "first_response"): (1, 0)
    }
    # Counted in the period each was decided in: a met target when it was answered, a
    # breached one when it fell due.
    decided = {(opened_at(c, running) + timedelta(minutes=60)).astimezone(UTC).date()}
    for number in (met, urgent, late):
        first = ItemSlaService(c.app).of(number, SYSTEM)["metrics"]["first_response"]
        decided.add(date.fromisoformat((first["answered_at"] or first["due_at"])[:10]))
    days = report(c, period="day")  # (in UTC)
    assert {r["period_start"] for r in days["rows"]} == {d.isoformat() for d in decided}
    before = report(c, since=date(2000, 1, 1), until=date(2000, 12, 31))
    assert before["rows"] == []
    assert before["totals"]["compliance"] is None

    # A later change of the priority or of the policy never rewrites a decided outcome (the
    # late first response is on track again under the relaxed target, but it was breached).
    c.commands.change_ticket(met, [ReprioritiseTicket(priority="urgent")], context())
    policies.change(standard, {"targets": {"normal": {"first_response": 100_000}}}, SYSTEM)
    for number in (met, late):
        service.evaluate(item_id(number), "later")
    assert tally(report(c)) == {
        ("Standard", "normal", "first_response"): (1, 2),
        ("Urgent desk", "urgent", "first_response"): (1, 0),
    }
    # Nor does holding the item to another policy: its answered round stays the first's.
    service.apply(met, uuid.UUID(urgent_desk), SYSTEM)
    assert tally(report(c)) == {
        ("Standard", "normal", "first_response"): (1, 2),
        ("Urgent desk", "urgent", "first_response"): (1, 0),
    }


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    thursday = date(2026, 12, 3)
    assert period_start(thursday, "day") == thursday
    assert period_start(thursday, "week") == date(2026, 11, 30)
    assert period_start(thursday, "month") == date(2026, 12, 1)


def test_the_sla_view_groups_items_by_policy_and_state(container: bootstrap.Container) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    policies = SlaPolicyService(c.app)
    standard, _ = policies.define(STANDARD, SYSTEM)
    urgent_desk, _ = policies.define(URGENT, SYSTEM)
    late, also_late, fine, other, none = (open_ticket(c) for _ in range(5))
    clock.now = opened_at(c, fine) + timedelta(minutes=10)
    service.apply(fine, uuid.UUID(standard), SYSTEM)
    service.apply(other, uuid.UUID(urgent_desk), SYSTEM)
    clock.now = opened_at(c, late) + timedelta(minutes=61)
    service.apply(also_late, uuid.UUID(standard), SYSTEM)
    service.apply(late, uuid.UUID(standard), SYSTEM)
    c.runner.catch_up()
    with c.views.read() as tx:
        t = current_tables(tx, "flat")
        groups = sla_groups(tx, t, None, BOTH)
        shown = [
            (g["policy"]["name"], g["state"], g["count"], [i["number"] for i in g["items"]])
            for g in groups
        ]
        assert shown == [
            ("Standard", "breached", 2, [late, also_late]),  # earliest due first
            ("Standard", "on_track", 1, [fine]),
            ("Urgent desk", "on_track", 1, [other]),
        ]
        assert none not in [i["number"] for g in groups for i in g["items"]]
        assert [g["count"] for g in sla_groups(tx, t, None, BOTH, state="breached")] == [2]
        only = sla_groups(tx, t, None, BOTH, policy_id=urgent_desk, per_group=0)
        assert [(g["count"], g["items"]) for g in only] == [(1, [])]
        # Scoped as the flat list is: no project, or no app, shows nothing.
        assert sla_groups(tx, t, frozenset(), BOTH) == []
        assert sla_groups(tx, t, None, frozenset({"task"})) == []
        brief = summary_of_item(tx, current_tables(tx, "sla"), str(item_id(late)))
    assert brief["policy"] == {"id": standard, "name": "Standard"}
    assert brief["state"] == "breached"
    held = ItemSlaService(c.app).of(late, SYSTEM)
    owed = held["metrics"]["first_response"]["due_at"]  # breached, owed still
    assert (brief["due"], brief["next_due"]) == (owed, held["next_due"])
    assert owed < held["next_due"]  # the resolution's warning


def test_an_earlier_round_is_recorded_once_when_the_current_one_has_no_target(
    container: bootstrap.Container,
) -> None:
    c, clock = container, Clock()
    service, number = asked_again(c, clock)
    # Low priority: this policy sets no target for it, so the current round is not recorded.
    c.commands.change_ticket(number, [ReprioritiseTicket(priority="low")], context())
    for _ in range(3):
        service.evaluate(item_id(number), "again")
    earlier = [
        r
        for e in c.app.events.get(item_sla_id(item_id(number)))
        if type(e).__name__ == "Changed"
        for r in e.earlier
    ]
    assert [(r["metric"], r["state"], r["priority"]) for r in earlier] == [
        ("next_response", "met", "normal")
    ]


def test_changes_recorded_before_earlier_rounds_were_still_replay(
    container: bootstrap.Container,
) -> None:
    c = container
    service = ItemSlaService(c.app, Clock())
    policy_id, _ = SlaPolicyService(c.app).define(STANDARD, SYSTEM)
    number = open_ticket(c)
    service.apply(number, uuid.UUID(policy_id), SYSTEM)
    # Its stream as the first records wrote it (`Changed` without `earlier`), stored as the
    # SLA of another item.
    transcoder = c.app.mapper.transcoder
    old = []
    for stored in c.app.recorder.select_events(item_sla_id(item_id(number))):
        state = transcoder.decode(stored.state)
        if stored.topic.endswith("ItemSla.Changed"):
            del state["earlier"]
        old.append(replace(stored, state=transcoder.encode(state)))
    other_id = item_sla_id(item_id(open_ticket(c)))
    c.app.recorder.insert_events([replace(s, originator_id=other_id) for s in old])
    loaded = c.app.repository.get(other_id)
    assert loaded.metrics["first_response"]["state"] == "on_track"
    assert loaded.recorded_answered == {}
