"""What automation rules see of an item's history, from a real ticket's events: its fields as
conditions read them, what each event did as triggers see it, and when a time-based
trigger's time comes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from domain.ticket import Ticket
from domain.values import Actor, Channel
from domain.workflow.rules import Happened, fires
from domain.workflow.triggers import due_at, fields_at, step

STAFF = Actor.user(uuid.UUID("6b0f1c8e-2f4a-4c1e-9d7b-3a5e8f2c1d40"))
CUSTOMER = Actor.customer("ann@example.com")


def ticket() -> Ticket:
    return Ticket.open(
        number=7, title="Printer", description="On fire", requester_email="Ann@Example.com",
        channel=Channel.EMAIL, priority="normal", actor=CUSTOMER, correlation_id="c",
    )  # fmt: skip


def post(item: Ticket, actor: Actor, visibility: str = "customer") -> None:
    item.post_message(
        message_id=uuid.uuid4(), body="…", visibility=visibility, in_reply_to=None,
        actor=actor, correlation_id="c",
    )  # fmt: skip


def walk(events: list[Any]) -> list[list[Happened]]:
    fields = None
    seen = []
    for event in events:
        fields, happened = step(fields, event)
        seen.append(happened)
    return seen


def test_each_event_says_what_it_did_and_the_fields_follow() -> None:
    item = ticket()
    item.change_status("Open", STAFF, "c")
    item.reprioritise("urgent", STAFF, "c")
    item.assign(uuid.UUID(STAFF.ident), STAFF, "c")
    post(item, CUSTOMER)
    post(item, STAFF)
    post(item, STAFF, "internal")
    item.retitle("Printer (2nd floor)", STAFF, "c")
    events = list(item.collect_events())
    assert walk(events) == [
        [Happened("item_created")],
        [Happened("field_changed", "status", "New", "Open"),
         Happened("field_changed", "state", "not_started", "in_progress")],
        [Happened("field_changed", "priority", "normal", "urgent")],
        [Happened("field_changed", "assignee", None, STAFF.ident)],
        [Happened("customer_replied")],
        [Happened("staff_replied")],
        [Happened("internal_message")],
        [Happened("field_changed", "title", "Printer", "Printer (2nd floor)")],
    ]  # fmt: skip
    fields = fields_at(events)
    assert fields is not None
    assert (fields["status"], fields["state"], fields["priority"]) == (
        "Open", "in_progress", "urgent",
    )  # fmt: skip
    assert (fields["requester"], fields["channel"], fields["item_type"]) == (
        "ann@example.com", "email", "ticket",
    )  # fmt: skip
    assert fields["assignee"] == [STAFF.ident]
    assert fields["text"] == "Printer (2nd floor)\nOn fire"
    trigger = {"type": "field_changed", "field": "status", "to": "open"}
    assert [any(fires(trigger, h) for h in hs) for hs in walk(events)][:3] == [False, True, False]


def test_a_time_based_trigger_comes_due_hours_after_its_start_unless_answered() -> None:
    item = ticket()
    item.change_status("Resolved", STAFF, "c")
    events = list(item.collect_events())
    resolved_at = events[-1].timestamp
    closing = {"type": "time_elapsed", "hours": 168, "since": "status_changed"}
    assert due_at(closing, events) == resolved_at + timedelta(hours=168)
    waiting = {**closing, "since": "staff_replied", "without": "customer_replied", "hours": 48}
    assert due_at(waiting, events) is None  # no staff reply yet
    post(item, STAFF)
    events += list(item.collect_events())
    assert due_at(waiting, events) == events[-1].timestamp + timedelta(hours=48)
    post(item, CUSTOMER)  # the customer answered: it no longer comes due
    events += list(item.collect_events())
    assert due_at(waiting, events) is None
    # A later status change starts the closing clock again.
    item.change_status("Closed", STAFF, "c")
    events += list(item.collect_events())
    assert due_at(closing, events) == events[-1].timestamp + timedelta(hours=168)
