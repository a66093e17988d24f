"""Chats on both backends: a portal customer or (where admins allow it) an anonymous one
opens a chat and goes on with it (the anonymous one by the chat's token); staff claim,
answer, transfer and close; a chat becomes a ticket whose first customer-visible messages
are its transcript, or is linked to an existing item; what is refused writes nothing."""

from __future__ import annotations

import uuid

import pytest

from commands.chat.service import ChatService, ConvertChat, OpenChat, PostChatMessage, TransferChat
from commands.company_settings import CompanySettingsService
from commands.customers import RegisterContact
from commands.models import Context
from domain.chat.chats import ChatClosedError, ChatNotFoundError, ChatState
from domain.errors import InvalidCredentialsError, InvalidValueError, PermissionDeniedError
from domain.item_numbers import item_id
from domain.values import Actor
from ledgerdesk import bootstrap
from tests.factories import SYSTEM, open_ticket, register

ANN = Context(actor=Actor.customer("ann@example.com"), correlation_id="ann")


def staff(c: bootstrap.Container, email: str = "agent@example.com") -> Context:
    return Context(actor=Actor.user(register(c, email, admin=True)), correlation_id="agent")


def test_a_portal_customer_chats_and_staff_turn_it_into_a_ticket(
    container: bootstrap.Container,
) -> None:
    c = container
    c.customers.register_contact(RegisterContact(email="ann@example.com", name="Ann"), SYSTEM)
    chats = ChatService(c.app)
    chat, token, _ = chats.open(OpenChat(body="My printer is on fire"), ANN, "ann")
    assert token is None
    assert (chat.state, chat.name, chat.customer_actor) == (
        ChatState.WAITING, "Ann", "customer:ann@example.com",
    )  # fmt: skip
    agent = staff(c)
    chat, _ = chats.claim(chat.id, agent)
    assert chat.state is ChatState.OPEN
    chats.staff_post(chat.id, PostChatMessage(body="Unplug it"), agent)
    chats.customer_post(chat.id, PostChatMessage(body="Done, thanks"), ANN, "ann")

    chat, item, _ = chats.convert(chat.id, ConvertChat(kind="ticket"), agent)
    number = item.number
    ticket = c.app.repository.get(item_id(number))
    opened = next(iter(c.app.events.get(item_id(number))))
    assert (ticket.title, opened.channel, opened.requester_email) == (
        "My printer is on fire", "chat", "ann@example.com",
    )  # fmt: skip
    posted = [
        (e.actor, e.body)
        for e in c.app.events.get(item_id(number))
        if type(e).__name__ == "CustomerReplyPosted"
    ]
    assert posted == [
        ("customer:ann@example.com", "My printer is on fire"),
        (agent.actor.ref, "Unplug it"),
        ("customer:ann@example.com", "Done, thanks"),
    ]
    assert chat.item == {"kind": "ticket", "number": number, "how": "converted"}
    head = c.app.head()
    with pytest.raises(InvalidValueError):
        chats.convert(chat.id, ConvertChat(kind="task"), agent)
    assert c.app.head() == head

    chats.close(chat.id, agent)
    with pytest.raises(ChatClosedError):
        chats.customer_post(chat.id, PostChatMessage(body="One more"), ANN, "ann")
    assert c.app.head() == head + 1


def test_an_anonymous_customer_chats_only_where_admins_allow_it(
    container: bootstrap.Container,
) -> None:
    c = container
    chats = ChatService(c.app)
    visitor = OpenChat(body="Hello?", name="Bob", email="Bob@Example.com")
    head = c.app.head()
    with pytest.raises(PermissionDeniedError):
        chats.open(visitor, None, "bob")
    assert c.app.head() == head
    CompanySettingsService(c.app).change({}, {"anonymous_chats": True}, SYSTEM)
    with pytest.raises(InvalidValueError) as refused:
        chats.open(OpenChat(body="Hello?", name="Bob", email="not an address"), None, "bob")
    assert refused.value.field == "email"
    chat, token, _ = chats.open(visitor, None, "bob")
    assert token is not None
    assert token.startswith("ldk_")
    assert chat.customer_actor == "visitor:bob@example.com"
    chats.customer_post(chat.id, PostChatMessage(body="Anyone?"), token, "bob")
    with pytest.raises(InvalidCredentialsError):
        chats.customer_post(chat.id, PostChatMessage(body="x"), "ldk_wrong", "bob")
    # Another customer (signed in) learns nothing of it.
    with pytest.raises(ChatNotFoundError):
        chats.customer_post(chat.id, PostChatMessage(body="x"), ANN, "ann")


def test_staff_transfer_and_link_a_chat(container: bootstrap.Container) -> None:
    c = container
    CompanySettingsService(c.app).change({}, {"anonymous_chats": True}, SYSTEM)
    chats = ChatService(c.app)
    chat, _, _ = chats.open(OpenChat(body="Hi", name="Bob", email="bob@example.com"), None, "b")
    agent, other = staff(c), staff(c, "other@example.com")
    chats.claim(chat.id, agent)
    chat, _ = chats.transfer(chat.id, TransferChat(user_id=uuid.UUID(other.actor.ident)), agent)
    assert chat.agents == [other.actor.ident]
    with pytest.raises(InvalidValueError):
        chats.transfer(chat.id, TransferChat(), agent)
    number = open_ticket(c)
    chat, _ = chats.link(chat.id, number, other)
    assert chat.item == {"kind": "ticket", "number": number, "how": "linked"}
