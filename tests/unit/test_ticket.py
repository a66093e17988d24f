"""Ticket rules: guards before events, one event per real change."""

from __future__ import annotations

import uuid

import pytest

from domain.errors import (
    EmptyTitleError,
    InternalMessageReplyError,
    InvalidEmailError,
    MessageNotFoundError,
    UnknownPriorityError,
    UnknownStatusError,
)
from domain.item_numbers import ItemNumberCounter, item_id
from domain.ticket import Ticket
from domain.values import Actor, Channel

AGENT = Actor.user(uuid.uuid4())


def opened(**fields: object) -> Ticket:
    values: dict[str, object] = {
        "number": 7,
        "title": "Printer jammed",
        "description": "",
        "requester_email": None,
        "channel": Channel.API,
        "priority": "normal",
        "actor": AGENT,
        "correlation_id": "c1",
    }
    values.update(fields)
    ticket = Ticket.open(**values)  # type: ignore[arg-type]
    ticket.collect_events()
    return ticket


def event_names(ticket: Ticket) -> list[str]:
    return [type(e).__name__ for e in ticket.collect_events()]


def test_opening_trims_the_title_and_normalises_the_requester_email() -> None:
    ticket = Ticket.open(
        number=3,
        title="  Help  ",
        description="d",
        requester_email=" Ada@Example.COM ",
        channel=Channel.EMAIL,
        priority="high",
        actor=AGENT,
        correlation_id="c",
    )
    (event,) = ticket.collect_events()
    assert (event.title, event.requester_email, event.channel) == (  # type: ignore[attr-defined]
        "Help",
        "ada@example.com",
        "email",
    )
    assert event.status == "New"
    assert event.state == "not_started"
    assert event.actor == AGENT.ref  # type: ignore[attr-defined]
    assert ticket.id == item_id(3)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"title": "   "}, EmptyTitleError),
        ({"priority": "asap"}, UnknownPriorityError),
        ({"requester_email": "not-an-address"}, InvalidEmailError),
    ],
)
def test_opening_refuses_invalid_values(fields: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        opened(**fields)


def test_a_change_to_the_same_value_records_nothing() -> None:
    ticket = opened()
    ticket.retitle("Printer jammed", AGENT, "c")
    ticket.reprioritise("normal", AGENT, "c")
    ticket.change_status("new", AGENT, "c")
    assert event_names(ticket) == []


def test_each_changed_field_is_its_own_event() -> None:
    ticket = opened()
    ticket.retitle("Printer on fire", AGENT, "c")
    ticket.edit_description("Smoke", AGENT, "c")
    ticket.reprioritise("urgent", AGENT, "c")
    ticket.change_status("waiting on customer", AGENT, "c")
    assert event_names(ticket) == [
        "Retitled",
        "DescriptionEdited",
        "Reprioritised",
        "StatusChanged",
    ]
    assert ticket.status == "Waiting on customer"


def test_a_status_change_records_the_state_it_maps_to() -> None:
    ticket = opened()
    ticket.change_status("Resolved", AGENT, "c")
    (event,) = ticket.collect_events()
    assert (event.status, event.state) == ("Resolved", "finished")  # type: ignore[attr-defined]


def test_an_unknown_status_is_refused_naming_the_known_ones() -> None:
    ticket = opened()
    with pytest.raises(UnknownStatusError, match="Waiting on customer"):
        ticket.change_status("Done-ish", AGENT, "c")


def test_assigning_twice_or_unassigning_a_stranger_records_nothing_more() -> None:
    ticket = opened()
    ada, bob = uuid.uuid4(), uuid.uuid4()
    ticket.assign(ada, AGENT, "c")
    ticket.assign(ada, AGENT, "c")
    ticket.assign(bob, AGENT, "c")
    ticket.unassign(uuid.uuid4(), AGENT, "c")
    ticket.add_follower(ada, AGENT, "c")
    ticket.remove_follower(ada, AGENT, "c")
    ticket.remove_follower(ada, AGENT, "c")
    assert event_names(ticket) == [
        "UserAssigned",
        "UserAssigned",
        "FollowerAdded",
        "FollowerRemoved",
    ]
    assert ticket.assignees == [str(ada), str(bob)]


def test_a_message_can_answer_only_a_message_of_the_same_ticket() -> None:
    ticket = opened()
    with pytest.raises(MessageNotFoundError):
        ticket.post_message(
            message_id=uuid.uuid4(),
            body="hi",
            visibility="customer",
            in_reply_to=uuid.uuid4(),
            actor=AGENT,
            correlation_id="c",
        )


def test_a_customer_reply_cannot_answer_an_internal_message() -> None:
    ticket = opened()
    note = uuid.uuid4()
    ticket.post_message(
        message_id=note,
        body="internal",
        visibility="internal",
        in_reply_to=None,
        actor=AGENT,
        correlation_id="c",
    )
    with pytest.raises(InternalMessageReplyError):
        ticket.post_message(
            message_id=uuid.uuid4(),
            body="hi",
            visibility="customer",
            in_reply_to=note,
            actor=AGENT,
            correlation_id="c",
        )
    ticket.post_message(
        message_id=uuid.uuid4(),
        body="agreed",
        visibility="internal",
        in_reply_to=note,
        actor=AGENT,
        correlation_id="c",
    )
    assert event_names(ticket) == ["InternalMessagePosted", "InternalMessagePosted"]


def test_the_counter_issues_numbers_in_order_from_one() -> None:
    counter = ItemNumberCounter.start()
    assert [counter.issue("ticket", AGENT, "c") for _ in range(3)] == [1, 2, 3]
    assert item_id(2) == item_id(2) != item_id(3)
