"""Where an item stands against an SLA policy, from its history (fixed instants)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.sla.clock import SlaState
from domain.sla.item_sla import settled
from domain.sla.measure import Fact, facts_of, measure
from domain.sla.policies import blank_policy, checked_policy
from domain.ticket import Ticket
from domain.values import Actor, Channel

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)


def policy(**given: Any) -> dict[str, Any]:
    """Around the clock: urgent first response in 60 min, normal in 240; next response in
    120 min (normal); resolution in 480 min (normal)."""
    targets = {
        "urgent": {"first_response": 60},
        "normal": {"first_response": 240, "next_response": 120, "resolution": 480},
    }
    return checked_policy({"name": "P", "targets": targets, **given}, blank_policy("p"))


def opened(priority: str = "normal") -> Fact:
    return Fact(T0, "opened", priority, "New", "not_started")


def at(minutes: int) -> datetime:
    return T0 + minutes * MIN


def status(minutes: int, name: str, state: str = "in_progress") -> Fact:
    return Fact(at(minutes), "status", status=name, state=state)


def test_first_response_is_owed_from_the_opening_until_staff_reply_to_the_customer() -> None:
    pending = measure(policy(), [opened()])["first_response"]
    assert pending.due() == at(240)
    assert pending.warns() == at(180)
    assert [pending.state(at(m)) for m in (10, 180, 240)] == [
        SlaState.ON_TRACK, SlaState.WARNING, SlaState.BREACHED,
    ]  # fmt: skip
    # The customer writing again does not answer it; staff's reply does.
    facts = [opened(), Fact(at(30), "customer_wrote"), Fact(at(200), "staff_replied")]
    answered = measure(policy(), facts)["first_response"]
    assert answered.round.answered == at(200)
    assert answered.state(at(10_000)) == SlaState.MET
    late = measure(policy(), [opened(), Fact(at(241), "staff_replied")])["first_response"]
    assert late.state(at(241)) == SlaState.BREACHED


def test_targets_follow_the_current_priority() -> None:
    raised = measure(policy(), [opened(), Fact(at(20), "priority", priority="urgent")])
    assert raised["first_response"].due() == at(60)
    # Urgent has no resolution target in this policy.
    assert raised["resolution"].target is None
    assert raised["resolution"].due() is None
    assert raised["resolution"].state(at(5)) is None


def test_each_customer_message_after_a_reply_starts_a_next_response_round() -> None:
    facts = [
        opened(),
        Fact(at(10), "customer_wrote"),  # Before any reply: first response still owed.
        Fact(at(20), "staff_replied"),
        Fact(at(30), "customer_wrote"),
        Fact(at(40), "customer_wrote"),  # The round started at 30 already.
        Fact(at(100), "staff_replied"),
        Fact(at(200), "customer_wrote"),
    ]
    measured = measure(policy(), facts)["next_response"]
    assert [(m.round.started, m.round.answered) for m in measured.earlier] == [(at(30), at(100))]
    assert measured.earlier[0].due() == at(150)
    assert measured.round.started == at(200)
    assert measured.due() == at(320)
    assert "next_response" not in measure(policy(), facts[:3])


def test_waiting_on_the_customer_pauses_the_clocks_when_the_policy_says_so() -> None:
    facts = [
        opened(),
        status(60, "Waiting on customer"),
        status(180, "Open"),
    ]
    assert measure(policy(), facts)["first_response"].due() == at(360)
    assert measure(policy(), facts)["resolution"].due() == at(600)
    assert measure(policy(pause_while_waiting=False), facts)["first_response"].due() == at(240)
    # Still waiting: no due time until it stops.
    still = measure(policy(), facts[:2])["first_response"]
    assert still.due() is None
    assert still.state(at(10_000)) == SlaState.ON_TRACK


def test_resolution_counts_the_time_the_item_was_not_finished() -> None:
    facts = [
        opened(),
        Fact(at(10), "staff_replied"),
        status(100, "Resolved", "finished"),
        status(400, "Open"),  # Reopened: the 300 minutes finished do not count.
        status(700, "Resolved", "finished"),
    ]
    resolution = measure(policy(), facts)["resolution"]
    assert resolution.round.answered == at(700)
    assert resolution.state(at(700)) == SlaState.MET  # 100 + 300 minutes < 480
    reopened = measure(policy(), facts[:4])["resolution"]
    assert reopened.round.answered is None
    assert reopened.due() == at(780)


def test_finishing_an_item_answers_the_responses_it_still_owed() -> None:
    facts = [opened(), status(30, "Closed", "finished")]
    assert measure(policy(), facts)["first_response"].round.answered == at(30)
    owed = [
        opened(),
        Fact(at(5), "staff_replied"),
        Fact(at(10), "customer_wrote"),
        status(50, "Resolved", "finished"),
    ]
    assert measure(policy(), owed)["next_response"].round.answered == at(50)


def test_an_items_events_become_facts_by_who_wrote_what() -> None:
    staff = Actor.user(uuid.uuid4())
    ticket = Ticket.open(
        number=1, title="Printer", description="", requester_email="ana@example.com",
        channel=Channel.EMAIL, priority="high", actor=Actor.customer("ana@example.com"),
        correlation_id="c",
    )  # fmt: skip

    def post(actor: Actor, visibility: str = "customer") -> None:
        ticket.post_message(
            message_id=uuid.uuid4(), body="Hello", visibility=visibility, in_reply_to=None,
            actor=actor, correlation_id="c",
        )  # fmt: skip

    post(Actor.system("mail"))  # an acknowledgement: neither side
    post(staff, "internal")  # not seen by the customer
    post(staff)
    post(Actor.customer("ana@example.com"))
    ticket.reprioritise("urgent", staff, "c")
    ticket.change_status("Resolved", staff, "c")
    facts = facts_of(ticket.collect_events())
    assert [(f.kind, f.priority, f.status, f.state) for f in facts] == [
        ("opened", "high", "New", "not_started"),
        ("staff_replied", None, None, None),
        ("customer_wrote", None, None, None),
        ("priority", "urgent", None, None),
        ("status", None, "Resolved", "finished"),
    ]
    assert all(f.at.tzinfo is not None for f in facts)


def test_a_customer_message_on_a_finished_item_asks_for_nothing() -> None:
    facts = [
        opened(),
        Fact(at(5), "staff_replied"),
        status(10, "Resolved", "finished"),
        Fact(at(20), "customer_wrote"),  # "Thanks!"
    ]
    assert "next_response" not in measure(policy(), facts)
    # Reopened first, it does.
    reopened = [*facts[:3], status(15, "Open"), Fact(at(20), "customer_wrote")]
    assert measure(policy(), reopened)["next_response"].round.started == at(20)


def test_waiting_ends_when_the_customer_answers() -> None:
    facts = [
        opened(),
        status(60, "Waiting on customer"),
        Fact(at(100), "customer_wrote"),  # The status stays "Waiting on customer".
    ]
    first = measure(policy(), facts)["first_response"]
    assert first.round.pauses[0].end == at(100)
    assert first.due() == at(280)  # 240 minutes less the 40 spent waiting.


def test_an_answered_target_is_judged_by_the_priority_when_it_was_answered() -> None:
    facts = [opened(), Fact(at(120), "staff_replied"), Fact(at(130), "priority", priority="urgent")]
    first = measure(policy(), facts)["first_response"]
    assert first.state(at(500)) == SlaState.MET  # 120 < 240 (normal); urgent's 60 came later.
    # One still running follows today's priority.
    running = measure(policy(), [opened(), Fact(at(20), "priority", priority="urgent")])
    assert running["first_response"].due() == at(60)


def test_a_converted_ticket_is_measured_up_to_its_conversion() -> None:
    facts = [
        opened(),
        Fact(at(10), "staff_replied"),
        Fact(at(20), "customer_wrote"),
        Fact(at(30), "converted"),
        Fact(at(40), "staff_replied"),  # not the ticket's any more
    ]
    measured = measure(policy(), facts)
    assert measured["first_response"].round.answered == at(10)
    # What it still owed then (a next response, its resolution) is no longer measured.
    assert set(measured) == {"first_response"}


def test_facts_keep_their_order_when_clocks_disagree() -> None:
    class Event:
        def __init__(self, name: str, timestamp: datetime, **fields: Any) -> None:
            self.__class__ = type(name, (Event,), {})
            self.timestamp = timestamp
            self.__dict__.update(fields)

    events = [
        Event("Opened", at(10), priority="normal", status="New", state="not_started"),
        Event("StatusChanged", at(20), status="Waiting on customer", state="in_progress"),
        Event("StatusChanged", at(19), status="Open", state="in_progress"),  # a clock behind
    ]
    facts = facts_of(events)
    assert [f.at for f in facts] == [at(10), at(20), at(20)]
    assert measure(policy(), facts)["first_response"].due() == at(250)


def test_an_answered_round_keeps_the_outcome_it_was_recorded_with() -> None:
    met = {"started_at": "a", "due_at": "b", "warn_at": "c", "answered_at": "d", "paused": False,
           "state": "met"}  # fmt: skip
    running = {**met, "answered_at": None, "state": "on_track"}
    # Judged again under a tighter policy: the answered round stays met, the rest follow.
    again = {
        "first_response": {**met, "due_at": "x", "state": "breached"},
        "resolution": {**running, "state": "warning"},
    }
    kept = settled({"first_response": met, "resolution": running}, again)
    assert kept == {"first_response": met, "resolution": again["resolution"]}
    # A new round (another start, or an answer that moved) is judged afresh.
    new_round = {"next_response": {**met, "started_at": "e", "state": "breached"}}
    assert settled({"next_response": met}, new_round) == new_round
    assert settled({}, again) == again
