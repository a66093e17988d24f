"""A chat (the messenger): a customer — a portal contact, or anonymous with a name and an
address — talks live with the support team. Each chat is its own aggregate; every fact is
an event: opened, a message from either side, an agent joining or leaving, a transfer to
another agent or a team, closed, and the item it became or was linked to. Typing is
ephemeral and never recorded.

A chat is **waiting** until an agent joins, **open** while one is in it, **closed** at the
end (a closed chat takes no more messages). Staff who post join the chat as they do.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError, NotFoundError
from domain.text import check_text
from domain.values import Actor

BODY_LENGTH = 20_000
MAX_FILES = 50  # Files one chat takes, from both sides.
NAME_LENGTH = 200
KINDS = ("ticket", "task")


class ChatState(StrEnum):
    WAITING = "waiting"
    OPEN = "open"
    CLOSED = "closed"


class ChatNotFoundError(NotFoundError):
    def __init__(self, chat_id: str) -> None:
        super().__init__(f"no chat {chat_id}")


class ChatFileNotFoundError(NotFoundError):
    def __init__(self, attachment_id: str) -> None:
        super().__init__(f"no file {attachment_id} in this chat")


class ChatClosedError(ConflictError):
    """A closed chat takes no more messages, agents or transfers."""

    def __init__(self) -> None:
        super().__init__("the chat is closed")


def shown_file(attachment: dict[str, Any]) -> dict[str, Any]:
    """A chat file as either side reads it: no hash of its bytes."""
    return {k: attachment[k] for k in ("id", "name", "size", "media_type")}


def find_file(attachments: Any, attachment_id: str) -> dict[str, Any] | None:
    """The file with this id among a chat's messages' files (each a list), or None."""
    for files in attachments:
        for f in files:
            if f["id"] == attachment_id:
                return dict(f)
    return None


def check_room_for_file(files_so_far: int) -> None:
    """A chat takes at most MAX_FILES files (a conversation, not a file store)."""
    if files_so_far >= MAX_FILES:
        raise InvalidValueError("file", f"a chat takes at most {MAX_FILES} files")


def check_body(body: Any, files: bool = False) -> str:
    """A message's text: at most `BODY_LENGTH` characters, no disallowed ones, and not empty
    unless the message carries `files`."""
    if not isinstance(body, str) or (not body.strip() and not files):
        raise InvalidValueError("body", "a message needs text")
    check_text(body, "body")
    if len(body) > BODY_LENGTH:
        raise InvalidValueError("body", f"at most {BODY_LENGTH} characters")
    return body


class Chat(Aggregate):
    """One conversation: who the customer is, who the agents are, its messages' ids and
    authors, its state, and the item it became or was linked to."""

    TOPIC = "ledgerdesk:Chat"

    if TYPE_CHECKING:
        MessagePosted: ClassVar[type[Aggregate.Event]]
        AgentJoined: ClassVar[type[Aggregate.Event]]
        AgentLeft: ClassVar[type[Aggregate.Event]]
        Transferred: ClassVar[type[Aggregate.Event]]
        Closed: ClassVar[type[Aggregate.Event]]
        ItemAttached: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Chat.Created"

    class Opened(Aggregate.Created):
        """A customer opened the chat: their address and name, their contact id (None:
        anonymous, holding the chat's token, whose hash is `token_hash`), and where from
        (`portal`, `widget`). v2 added `offline`: opened while nobody was on duty, so it
        became a ticket at once and never waited (v1 chats all waited)."""

        TOPIC = "ledgerdesk:Chat.Opened"
        class_version = 2
        email: str
        name: str
        contact_id: str | None
        token_hash: str | None
        source: str
        actor: str
        correlation_id: str
        offline: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["offline"] = False

    @event(Opened)
    def __init__(
        self,
        email: str,
        name: str,
        contact_id: str | None,
        token_hash: str | None,
        source: str,
        actor: str,
        correlation_id: str,
        offline: bool = False,
    ) -> None:
        self.email = email
        self.name = name
        self.contact_id = contact_id
        self.token_hash = token_hash
        self.source = source
        self.agents: list[str] = []
        self.team_id: str | None = None
        self.messages: dict[str, str] = {}  # message id -> author (an actor reference)
        self.closed = False
        self.item: dict[str, Any] | None = None  # {"kind", "number", "how"}

    @classmethod
    def open(
        cls,
        chat_id: UUID,
        *,
        email: str,
        name: str,
        contact_id: UUID | None,
        source: str,
        actor: str,
        correlation_id: str,
        token_hash: str | None = None,
        offline: bool = False,
    ) -> Chat:
        name = name.strip()
        check_text(name, "name")
        if len(name) > NAME_LENGTH:
            raise InvalidValueError("name", f"at most {NAME_LENGTH} characters")
        return cls._create(
            cls.Opened,
            id=chat_id,
            email=email.lower(),
            name=name,
            contact_id=str(contact_id) if contact_id else None,
            token_hash=token_hash,
            source=source,
            actor=actor,
            correlation_id=correlation_id,
            offline=offline,
        )

    @property
    def state(self) -> ChatState:
        if self.closed:
            return ChatState.CLOSED
        return ChatState.OPEN if self.agents else ChatState.WAITING

    @property
    def customer_actor(self) -> str:
        """The customer as an actor reference: `customer:<email>` for a portal contact,
        `visitor:<email>` for an anonymous one (their address unconfirmed)."""
        who = Actor.customer if self.contact_id else Actor.visitor
        return who(self.email).ref

    def _open_only(self) -> None:
        if self.closed:
            raise ChatClosedError

    # --- messages ---------------------------------------------------------------------

    def post(
        self,
        message_id: UUID,
        body: str,
        actor: str,
        correlation_id: str,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        """A message from the customer, or from staff (`user:<id>`), who join as they post,
        with the files it carries (`attachments`: each `{"id", "name", "size", "media_type",
        "sha256"}`, its bytes already stored). The same message id again is no new message."""
        self._open_only()
        if str(message_id) in self.messages:
            return
        body = check_body(body, files=bool(attachments))
        if actor.startswith("user:"):
            self.join(actor.partition(":")[2], actor, correlation_id)
        self._message_posted(
            message_id=str(message_id),
            body=body,
            attachments=list(attachments or []),
            actor=actor,
            correlation_id=correlation_id,
        )

    @event("MessagePosted", topic="ledgerdesk:Chat.MessagePosted")
    def _message_posted(
        self,
        message_id: str,
        body: str,
        attachments: list[dict[str, Any]],
        actor: str,
        correlation_id: str,
    ) -> None:
        self.messages[message_id] = actor

    # --- agents -----------------------------------------------------------------------

    def join(self, user_id: str, actor: str, correlation_id: str) -> None:
        """An agent takes part (claiming a waiting chat); already in it: nothing new."""
        self._open_only()
        if user_id not in self.agents:
            self._agent_joined(user_id=user_id, actor=actor, correlation_id=correlation_id)

    @event("AgentJoined", topic="ledgerdesk:Chat.AgentJoined")
    def _agent_joined(self, user_id: str, actor: str, correlation_id: str) -> None:
        self.agents.append(user_id)

    def leave(self, user_id: str, actor: str, correlation_id: str) -> None:
        self._open_only()
        if user_id in self.agents:
            self._agent_left(user_id=user_id, actor=actor, correlation_id=correlation_id)

    @event("AgentLeft", topic="ledgerdesk:Chat.AgentLeft")
    def _agent_left(self, user_id: str, actor: str, correlation_id: str) -> None:
        self.agents.remove(user_id)

    def transfer(
        self, user_id: str | None, team_id: str | None, actor: str, correlation_id: str
    ) -> None:
        """To another agent (who is then its one agent), or to a team (the chat waits for
        one of its members)."""
        self._open_only()
        if (user_id is None) == (team_id is None):
            raise InvalidValueError("user_id", "transfer to a user or to a team")
        if user_id is not None and self.agents == [user_id]:
            return
        if team_id is not None and not self.agents and self.team_id == team_id:
            return
        self._transferred(
            user_id=user_id, team_id=team_id, actor=actor, correlation_id=correlation_id
        )

    @event("Transferred", topic="ledgerdesk:Chat.Transferred")
    def _transferred(
        self, user_id: str | None, team_id: str | None, actor: str, correlation_id: str
    ) -> None:
        self.agents = [user_id] if user_id is not None else []
        if team_id is not None:
            self.team_id = team_id

    # --- the end ----------------------------------------------------------------------

    def close(self, actor: str, correlation_id: str) -> None:
        """Closed (again: nothing new)."""
        if not self.closed:
            self._closed(actor=actor, correlation_id=correlation_id)

    @event("Closed", topic="ledgerdesk:Chat.Closed")
    def _closed(self, actor: str, correlation_id: str) -> None:
        self.closed = True

    def attach_item(
        self, kind: str, number: int, how: str, actor: str, correlation_id: str
    ) -> None:
        """The item the chat became (`how`: `converted`) or was linked to (`linked`); a
        chat has one item."""
        if kind not in KINDS:
            raise InvalidValueError("kind", "ticket or task")
        if self.item is not None:
            if self.item["number"] == number:
                return
            raise InvalidValueError("number", f"the chat already belongs to #{self.item['number']}")
        self._item_attached(
            kind=kind, number=number, how=how, actor=actor, correlation_id=correlation_id
        )

    @event("ItemAttached", topic="ledgerdesk:Chat.ItemAttached")
    def _item_attached(
        self, kind: str, number: int, how: str, actor: str, correlation_id: str
    ) -> None:
        self.item = {"kind": kind, "number": number, "how": how}
