"""A chat as both sides read it, folded from its events (never behind): its document, and
the files its messages carry."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.unit_of_work import UnitOfWork
from domain.chat.chats import ChatNotFoundError, find_file, shown_file


def chat_document(app: LedgerDesk, chat_id: UUID) -> dict[str, Any]:
    """A chat as both sides read it, folded from its events: who the customer is, its
    state, agents, team and item, and its messages (each with its author's kind —
    `customer` or `staff` — and name)."""
    events: list[Any] = list(app.events.get(chat_id))
    if not events:
        raise ChatNotFoundError(str(chat_id))
    chat: Any = None
    for e in events:
        chat = e.mutate(chat)
    uow = UnitOfWork(app)
    names: dict[str, str] = {}

    def author(ref: str) -> dict[str, str]:
        kind, _, ident = ref.partition(":")
        if kind != "user":
            return {"kind": "customer", "name": chat.name or chat.email}
        if ref not in names:
            user = uow.find_user(UUID(ident))
            names[ref] = user.name if user is not None else ""
        return {"kind": "staff", "name": names[ref]}

    return {
        "id": str(chat_id),
        "state": chat.state.value,
        "name": chat.name,
        "email": chat.email,
        "anonymous": chat.contact_id is None,
        "agents": list(chat.agents),
        "team_id": chat.team_id,
        "item": chat.item,
        "opened_at": events[0].timestamp.isoformat(),
        "messages": [
            {
                "id": e.message_id,
                "body": e.body,
                "author": author(e.actor),
                "attachments": [shown_file(f) for f in e.attachments],
                "at": e.timestamp.isoformat(),
            }
            for e in events
            if type(e).__name__ == "MessagePosted"
        ],
        "version": chat.version,
    }


def file_count(app: LedgerDesk, chat_id: UUID) -> int:
    """How many files the chat's messages carry."""
    events: list[Any] = list(app.events.get(chat_id))
    return sum(len(e.attachments) for e in events if type(e).__name__ == "MessagePosted")


def chat_file(app: LedgerDesk, chat_id: UUID, attachment_id: UUID) -> dict[str, Any] | None:
    """A file one of the chat's messages carries (with its bytes' SHA-256), or None."""
    events: list[Any] = list(app.events.get(chat_id))
    messages = (e.attachments for e in events if type(e).__name__ == "MessagePosted")
    return find_file(messages, str(attachment_id))
