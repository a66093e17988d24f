"""The messenger's write side: a customer opens a chat (signed in to the portal, or — where
admins allow it — anonymous with a name and an address, holding the chat's own token), both
sides post, staff claim, transfer and close chats, and turn a chat into a ticket or a task
(its transcript the item's first customer-visible messages, channel `chat`) or link it to
an existing item. Each is one atomic write; a refused command writes nothing."""

from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Any
from uuid import UUID

from pydantic import Field

from commands.application import LedgerDesk
from commands.chat.reading import chat_document, chat_file, file_count
from commands.company_settings import CompanySettingsService
from commands.errors import TeamNotFoundError
from commands.models import Command, Context, OpenTask, OpenTicket
from commands.portal import secret_digest
from commands.tasks import open_task
from commands.tickets import open_ticket, require_tickets_app, require_visible
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.automated_messages import text_in_force
from domain.chat.chats import (
    BODY_LENGTH,
    NAME_LENGTH,
    Chat,
    ChatClosedError,
    ChatFileNotFoundError,
    ChatNotFoundError,
    check_room_for_file,
)
from domain.company_settings import COMPANY_SETTINGS_ID, CompanySettings, in_force
from domain.contact import Contact, contact_id_for
from domain.errors import (
    InvalidCredentialsError,
    InvalidValueError,
    PermissionDeniedError,
)
from domain.item_numbers import COUNTER_ID
from domain.team import Team
from domain.user import User
from domain.values import Actor, Channel, normalise_email
from domain.work_item import CUSTOMER

CHAT_TOKEN_PREFIX = "ldk"  # noqa: S105 (a prefix, not a secret)
TITLE_LENGTH = 120
# Who turns a chat into a ticket when nobody is on duty (what the customer is told is the
# automated message `chat_offline`).
OFFLINE = Actor("system", "messenger")


class OpenChat(Command):
    body: str = Field(min_length=1, max_length=BODY_LENGTH)
    name: str | None = Field(default=None, max_length=NAME_LENGTH)
    email: str | None = Field(default=None, max_length=320)


class ChatFile(Command):
    """A file a chat message carries, its bytes already in the blob store."""

    id: UUID = Field(default_factory=uuid.uuid4)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    media_type: str = Field(min_length=1, max_length=255)


class PostChatMessage(Command):
    """A message: its text (which may be empty only when it carries files) and its files."""

    message_id: UUID = Field(default_factory=uuid.uuid4)
    body: str = Field(default="", max_length=BODY_LENGTH)
    attachments: tuple[ChatFile, ...] = ()

    def files(self) -> list[dict[str, Any]]:
        return [f.model_dump(mode="json") for f in self.attachments]


class TransferChat(Command):
    user_id: UUID | None = None
    team_id: UUID | None = None


class ConvertChat(Command):
    kind: str = Field(pattern="^(ticket|task)$")
    project_id: UUID | None = None


class ChatService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    # --- the customer's side ----------------------------------------------------------

    def open(
        self,
        cmd: OpenChat,
        ctx: Context | None,
        correlation_id: str,
        source: str = "portal",
        *,
        on_duty: bool = True,
    ) -> tuple[Chat, str | None, int]:
        """A chat with its first message, from the signed-in customer of `ctx`, or (None)
        from an anonymous one, who gets the chat's token (`ldk_...`) to go on with it.

        With nobody `on_duty` to answer, the chat becomes a ticket at once (the message its
        first, the customer its requester) and ends; the ticket tells the customer, in a
        message mailed to them like any answer, that we answer by email. While the tickets
        app is switched off there is no ticket to make: the chat waits, as if someone were on
        duty."""
        on_duty = on_duty or not CompanySettingsService(self.app).app_on("tickets")
        chat_id = uuid.uuid4()
        token = None if ctx is not None else f"{CHAT_TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"

        def decide(uow: UnitOfWork) -> list[Any]:
            if ctx is not None:
                contact = _contact(uow, ctx)
                email, name, contact_id = contact.email, cmd.name or contact.name, contact.id
                actor = ctx.actor
            else:
                settings = uow.get(COMPANY_SETTINGS_ID, CompanySettings)
                if not in_force(settings)["features"]["anonymous_chats"]:
                    raise PermissionDeniedError("sign in to the portal to chat")
                if not cmd.name or not cmd.name.strip():
                    raise InvalidValueError("name", "a chat needs your name")
                if not cmd.email:
                    raise InvalidValueError("email", "a chat needs your address")
                email, name, contact_id = normalise_email(cmd.email), cmd.name, None
                actor = Actor.visitor(email)
            chat = Chat.open(
                chat_id, email=email, name=name, contact_id=contact_id, source=source,
                token_hash=secret_digest(token) if token else None,
                actor=actor.ref, correlation_id=correlation_id, offline=not on_duty,
            )  # fmt: skip
            chat.post(uuid.uuid4(), cmd.body, actor.ref, correlation_id)
            if on_duty:
                return [chat]
            return [*_offline_ticket(uow, chat, cmd.body, actor, correlation_id), chat]

        saved, position = run(self.app, chat_id if on_duty else COUNTER_ID, decide)
        chat = next(a for a in saved if isinstance(a, Chat))
        return chat, token, position

    def customer_post(
        self, chat_id: UUID, cmd: PostChatMessage, who: Context | str, correlation_id: str
    ) -> tuple[Chat, int]:
        """A message from the chat's customer: the signed-in contact it belongs to, or the
        holder of its token."""

        def decide(uow: UnitOfWork) -> list[Any]:
            chat = self.customer_chat(uow, chat_id, who)
            actor = chat.customer_actor
            chat.post(cmd.message_id, cmd.body, actor, correlation_id, cmd.files())
            return [chat]

        saved, position = run(self.app, chat_id, decide)
        return self._after(chat_id, saved), position

    def customer_chat(self, uow: UnitOfWork, chat_id: UUID, who: Context | str) -> Chat:
        """The chat, if `who` (a customer's context, or a chat token) is its customer; else
        not found (an outsider learns nothing of it)."""
        chat = uow.get(chat_id, Chat)
        if chat is None:
            raise ChatNotFoundError(str(chat_id))
        if isinstance(who, str):
            if chat.token_hash is None or not hmac.compare_digest(
                chat.token_hash, secret_digest(who)
            ):
                raise InvalidCredentialsError
        elif who.actor.kind != "customer" or chat.contact_id != str(
            contact_id_for(who.actor.ident)
        ):
            raise ChatNotFoundError(str(chat_id))
        return chat

    def customer_check(self, chat_id: UUID, who: Context | str) -> Chat:
        """The chat, if `who` is its customer (else 404, or 401 for a wrong token)."""
        return self.customer_chat(UnitOfWork(self.app), chat_id, who)

    def check_room_for_file(self, chat: Chat) -> None:
        """An open chat with room for one more file (before any byte is stored)."""
        if chat.closed:
            raise ChatClosedError
        check_room_for_file(file_count(self.app, chat.id))

    def file(self, chat_id: UUID, attachment_id: UUID) -> dict[str, Any]:
        """A file of the chat's messages (its reader already checked): 404 if none."""
        found = chat_file(self.app, chat_id, attachment_id)
        if found is None:
            raise ChatFileNotFoundError(str(attachment_id))
        return found

    def customer_document(self, chat_id: UUID, who: Context | str) -> dict[str, Any]:
        """The chat, for its customer (a portal session's context, or the chat's token)."""
        self.customer_chat(UnitOfWork(self.app), chat_id, who)
        return chat_document(self.app, chat_id)

    # --- staff ------------------------------------------------------------------------

    def document(self, chat_id: UUID, user: User | None = None) -> dict[str, Any]:
        """The chat (with `user`: for a staff member, who must take part in conversations)."""
        if user is not None:
            self.require_staff(user)
        return chat_document(self.app, chat_id)

    def staff_check(self, chat_id: UUID, user: User) -> Chat:
        """The chat, for a staff member who takes part in conversations (403 otherwise)."""
        self.require_staff(user)
        chat = UnitOfWork(self.app).get(chat_id, Chat)
        if chat is None:
            raise ChatNotFoundError(str(chat_id))
        return chat

    def require_staff(self, user: User) -> None:
        """`user` takes part in customer conversations (see `User.takes_chats`)."""
        require_takes_chats(user)

    def staff_post(self, chat_id: UUID, cmd: PostChatMessage, ctx: Context) -> tuple[Chat, int]:
        """A message from staff, who join the chat as they post."""
        return self._staff(chat_id, ctx, lambda chat, uow: chat.post(
            cmd.message_id, cmd.body, ctx.actor.ref, ctx.correlation_id, cmd.files()
        ))  # fmt: skip

    def claim(self, chat_id: UUID, ctx: Context) -> tuple[Chat, int]:
        return self._staff(chat_id, ctx, lambda chat, uow: chat.join(
            ctx.actor.ident, ctx.actor.ref, ctx.correlation_id
        ))  # fmt: skip

    def leave(self, chat_id: UUID, ctx: Context) -> tuple[Chat, int]:
        return self._staff(chat_id, ctx, lambda chat, uow: chat.leave(
            ctx.actor.ident, ctx.actor.ref, ctx.correlation_id
        ))  # fmt: skip

    def transfer(self, chat_id: UUID, cmd: TransferChat, ctx: Context) -> tuple[Chat, int]:
        def change(chat: Chat, uow: UnitOfWork) -> None:
            if cmd.user_id is not None:
                user = uow.user(cmd.user_id)
                if not user.is_active:
                    raise InvalidValueError("user_id", "that user is not active")
            if cmd.team_id is not None and uow.get(cmd.team_id, Team) is None:
                raise TeamNotFoundError(cmd.team_id)
            chat.transfer(
                str(cmd.user_id) if cmd.user_id else None,
                str(cmd.team_id) if cmd.team_id else None,
                ctx.actor.ref,
                ctx.correlation_id,
            )

        return self._staff(chat_id, ctx, change)

    def close(self, chat_id: UUID, ctx: Context) -> tuple[Chat, int]:
        return self._staff(chat_id, ctx, lambda chat, uow: chat.close(
            ctx.actor.ref, ctx.correlation_id
        ))  # fmt: skip

    def customer_close(self, chat_id: UUID, who: Context | str, correlation_id: str) -> int:
        def decide(uow: UnitOfWork) -> list[Any]:
            chat = self.customer_chat(uow, chat_id, who)
            chat.close(chat.customer_actor, correlation_id)
            return [chat]

        return run(self.app, chat_id, decide)[1]

    def link(self, chat_id: UUID, number: int, ctx: Context) -> tuple[Chat, int]:
        """The chat belongs to item `number` (which the caller may see)."""

        def change(chat: Chat, uow: UnitOfWork) -> None:
            item = uow.item(number)
            require_visible(item, uow, ctx)
            chat.attach_item(item.KIND, number, "linked", ctx.actor.ref, ctx.correlation_id)

        return self._staff(chat_id, ctx, change)

    def convert(self, chat_id: UUID, cmd: ConvertChat, ctx: Context) -> tuple[Chat, Any, int]:
        """A new ticket or task from the chat (the customer its requester, channel `chat`
        for a ticket), its transcript the item's first customer-visible messages; the chat,
        the item and the log position."""

        def decide(uow: UnitOfWork) -> list[Any]:
            chat = self._staff_chat(uow, chat_id, ctx)
            if chat.item is not None:
                number = chat.item["number"]
                raise InvalidValueError("kind", f"the chat already belongs to #{number}")
            transcript = self._transcript(chat_id)
            made = _open_item(uow, chat, cmd, ctx, transcript)
            item = made[-1]
            for message_id, body, author, files in transcript:
                actor = Actor.parse(author)
                # Each message with its own files (mail carries a message's files by this).
                correlation = f"{ctx.correlation_id}:{message_id}"
                if body.strip():
                    item.post_message(
                        message_id=uuid.uuid5(chat_id, message_id), body=body,
                        visibility=CUSTOMER, in_reply_to=None, actor=actor,
                        correlation_id=correlation,
                    )  # fmt: skip
                for f in files:
                    item.add_attachment(
                        attachment_id=uuid.uuid5(chat_id, f["id"]), sha256=f["sha256"],
                        name=f["name"], size=f["size"], media_type=f["media_type"],
                        visibility=CUSTOMER, actor=actor, correlation_id=correlation,
                    )  # fmt: skip
            chat.attach_item(item.KIND, item.number, "converted", ctx.actor.ref, ctx.correlation_id)
            return [*made, chat]

        saved, position = run(self.app, COUNTER_ID, decide)
        chat = next(a for a in saved if isinstance(a, Chat))
        assert chat.item is not None
        item = next(a for a in saved if getattr(a, "number", None) == chat.item["number"])
        return chat, item, position

    def _transcript(self, chat_id: UUID) -> list[tuple[str, str, str, list[dict[str, Any]]]]:
        """The chat's messages as recorded: id, text, author and files, oldest first."""
        events: list[Any] = list(self.app.events.get(chat_id))
        return [
            (e.message_id, e.body, e.actor, list(e.attachments))
            for e in events
            if type(e).__name__ == "MessagePosted"
        ]

    # --- shared -----------------------------------------------------------------------

    def _staff(self, chat_id: UUID, ctx: Context, change: Any) -> tuple[Chat, int]:
        def decide(uow: UnitOfWork) -> list[Any]:
            chat = self._staff_chat(uow, chat_id, ctx)
            change(chat, uow)
            return [chat]

        saved, position = run(self.app, chat_id, decide)
        return self._after(chat_id, saved), position

    def _staff_chat(self, uow: UnitOfWork, chat_id: UUID, ctx: Context) -> Chat:
        """The chat, for staff who take part in customer conversations."""
        require_chats(uow, ctx)
        chat = uow.get(chat_id, Chat)
        if chat is None:
            raise ChatNotFoundError(str(chat_id))
        return chat

    def _after(self, chat_id: UUID, saved: list[Any]) -> Chat:
        if saved:
            chat: Chat = saved[0]
            return chat
        found = UnitOfWork(self.app).get(chat_id, Chat)
        assert found is not None
        return found


def require_chats(uow: UnitOfWork, ctx: Context) -> None:
    """Staff who take part in customer conversations, and the system."""
    require_takes_chats(acting_user(uow, ctx))


def in_conversations(app: LedgerDesk, user: User) -> bool:
    """Whether `user` takes part in customer conversations now: they take chats, and the
    messenger is switched on."""
    return user.takes_chats and CompanySettingsService(app).app_on("messenger")


def require_takes_chats(user: User | None) -> None:
    """`user` (None: the system) takes part in customer conversations: the tickets app, and
    not `no_chats`."""
    require_tickets_app(user)
    if user is not None and not user.takes_chats:
        raise PermissionDeniedError("customer conversations are switched off for you")


def _contact(uow: UnitOfWork, ctx: Context) -> Contact:
    contact = uow.get(contact_id_for(ctx.actor.ident), Contact)
    if contact is None:
        raise PermissionDeniedError("only customers chat here")
    return contact


def _open_item(
    uow: UnitOfWork, chat: Chat, cmd: ConvertChat, ctx: Context, transcript: list[Any]
) -> list[Any]:
    first = next((m[1] for m in transcript if m[1].strip() and not m[2].startswith("user:")), "")
    title = " ".join(first.split())[:TITLE_LENGTH] or f"Chat with {chat.name or chat.email}"
    if cmd.kind == "ticket":
        return open_ticket(
            OpenTicket(
                title=title, project_id=cmd.project_id, requester_email=chat.email,
                channel=Channel.CHAT,
            ),
            uow, ctx, requester_name=chat.name,
        )  # fmt: skip
    return open_task(
        OpenTask(title=title, project_id=cmd.project_id, requester_email=chat.email), uow, ctx
    )


def _offline_ticket(
    uow: UnitOfWork, chat: Chat, body: str, customer: Actor, correlation_id: str
) -> list[Any]:
    """The chat as a ticket, opened by the messenger itself (nobody is on duty): the
    customer's message its first, our notice its second; the chat ends."""
    ctx = Context(actor=OFFLINE, correlation_id=correlation_id)
    made = _open_item(uow, chat, ConvertChat(kind="ticket"), ctx, [("", body, customer.ref, [])])
    item = made[-1]
    first = next(iter(chat.messages))
    item.post_message(
        message_id=uuid.uuid5(chat.id, first), body=body, visibility=CUSTOMER,
        in_reply_to=None, actor=customer, correlation_id=correlation_id,
    )  # fmt: skip
    settings = uow.get(COMPANY_SETTINGS_ID, CompanySettings)
    notice = text_in_force(settings.messages if settings else {}, "chat_offline", {
        "number": item.number
    })  # fmt: skip
    item.post_message(
        message_id=uuid.uuid5(chat.id, "offline"), body=notice,
        visibility=CUSTOMER, in_reply_to=None, actor=OFFLINE, correlation_id=correlation_id,
    )  # fmt: skip
    chat.attach_item(item.KIND, item.number, "converted", OFFLINE.ref, correlation_id)
    chat.close(OFFLINE.ref, correlation_id)
    return made
