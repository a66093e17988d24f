"""A chat's rules, from its own events: waiting until an agent joins, staff joining as they
post, transfers to an agent or a team, a closed chat taking nothing more, one item per
chat, and text checked."""

from __future__ import annotations

import uuid

import pytest

from domain.chat.chats import BODY_LENGTH, Chat, ChatClosedError, ChatState
from domain.errors import InvalidValueError

AGENT = str(uuid.uuid4())
OTHER = str(uuid.uuid4())
TEAM = str(uuid.uuid4())


def chat() -> Chat:
    return Chat.open(
        uuid.uuid4(), email="Ann@Example.com", name=" Ann ", contact_id=None, source="widget",
        actor="customer:ann@example.com", correlation_id="c",
    )  # fmt: skip


def names(c: Chat) -> list[str]:
    return [type(e).__name__ for e in c.collect_events()]


def test_a_chat_waits_until_staff_answer_who_then_join_it() -> None:
    c = chat()
    assert (c.email, c.name, c.state) == ("ann@example.com", "Ann", ChatState.WAITING)
    c.post(uuid.uuid4(), "Hello?", c.customer_actor, "c")
    assert c.state is ChatState.WAITING
    c.post(uuid.uuid4(), "Hi Ann", f"user:{AGENT}", "c")
    assert (c.state, c.agents) == (ChatState.OPEN, [AGENT])
    assert names(c) == ["Opened", "MessagePosted", "AgentJoined", "MessagePosted"]


def test_the_same_message_twice_is_one() -> None:
    c = chat()
    message = uuid.uuid4()
    c.post(message, "Hello?", c.customer_actor, "c")
    c.post(message, "Hello?", c.customer_actor, "c")
    assert names(c).count("MessagePosted") == 1


def test_transfers_to_an_agent_or_a_team() -> None:
    c = chat()
    c.join(AGENT, f"user:{AGENT}", "c")
    c.transfer(OTHER, None, f"user:{AGENT}", "c")
    assert c.agents == [OTHER]
    c.transfer(None, TEAM, f"user:{OTHER}", "c")
    assert (c.agents, c.team_id, c.state) == ([], TEAM, ChatState.WAITING)
    with pytest.raises(InvalidValueError):
        c.transfer(None, None, f"user:{OTHER}", "c")
    c.collect_events()
    c.transfer(None, TEAM, f"user:{OTHER}", "c")  # Where it is already: nothing new.
    assert names(c) == []


def test_a_closed_chat_takes_nothing_more() -> None:
    c = chat()
    c.close(c.customer_actor, "c")
    c.close(c.customer_actor, "c")
    assert c.state is ChatState.CLOSED
    for change in (
        lambda: c.post(uuid.uuid4(), "More", c.customer_actor, "c"),
        lambda: c.join(AGENT, f"user:{AGENT}", "c"),
        lambda: c.transfer(AGENT, None, f"user:{AGENT}", "c"),
    ):
        with pytest.raises(ChatClosedError):
            change()
    assert names(c) == ["Opened", "Closed"]


def test_a_chat_has_one_item() -> None:
    c = chat()
    c.attach_item("ticket", 7, "converted", f"user:{AGENT}", "c")
    c.attach_item("ticket", 7, "converted", f"user:{AGENT}", "c")
    with pytest.raises(InvalidValueError) as refused:
        c.attach_item("task", 8, "linked", f"user:{AGENT}", "c")
    assert refused.value.field == "number"
    with pytest.raises(InvalidValueError):
        chat().attach_item("bug", 9, "linked", f"user:{AGENT}", "c")
    assert c.item == {"kind": "ticket", "number": 7, "how": "converted"}


@pytest.mark.parametrize("body", ["", "   ", "x" * (BODY_LENGTH + 1), "a\x00b"])
def test_a_message_needs_text_within_limits(body: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        chat().post(uuid.uuid4(), body, "customer:ann@example.com", "c")
    assert refused.value.field == "body"
