"""The customer portal's write side: invitations, sessions, and what a customer may do.

A customer's context (actor `customer:<email>`) is only ever given to the handlers here,
and these only ever open a ticket as its requester or post a customer-visible reply on a
ticket the customer may see. Staff handlers trust actors that are not users (the system),
so no customer context may reach them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from uuid import UUID, uuid4

from pydantic import Field, SecretStr

from commands.application import LedgerDesk
from commands.customers import load_contact, require_customer_manager
from commands.errors import InvalidTokenError, TicketNotFoundError
from commands.models import Command, CommandResult, Context, OpenTicket
from commands.tickets import item_type_for, open_ticket
from commands.unit_of_work import UnitOfWork, run
from commands.users import new_token_parts
from commands.workflow.statuses import lifecycle_of_item
from domain.company_settings import COMPANY_SETTINGS_ID, CompanySettings, in_force
from domain.contact import Contact, contact_id_for, may_see_item_of, sees_items_of
from domain.customer import Organisation
from domain.errors import (
    DomainError,
    InvalidCredentialsError,
    InvalidValueError,
    PermissionDeniedError,
)
from domain.intake.item_types import (
    ItemTypeNotFoundError,
    check_submission,
    customer_choosable,
)
from domain.item_numbers import COUNTER_ID, item_id
from domain.mail.thread import MailThread, thread_id_for
from domain.reading import mark_read
from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor, Channel, Priority
from domain.work_item import CUSTOMER

INVITATION_PREFIX = "ldp"
SIGN_IN_LINK_PREFIX = "lds"
CONFIRMATION_PREFIX = "ldf"  # A web form's confirmation link (commands.intake.submissions).
SESSION_PREFIX = "ldc"
PORTAL_INVITATION_TTL = timedelta(days=7)
SIGN_IN_LINK_TTL = timedelta(minutes=30)

# --- commands -----------------------------------------------------------------------------


class IssuePortalInvitation(Command):
    contact_id: UUID


class StartPortalSession(Command):
    invitation: SecretStr = Field(min_length=1, max_length=500)


class EndPortalSession(Command):
    contact_id: UUID
    token_id: str = Field(min_length=1, max_length=64)


class PortalFile(Command):
    """A file a customer sent, already in the blob store."""

    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    media_type: str = Field(min_length=1, max_length=255)


class OpenPortalTicket(Command):
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=200_000)
    attachments: list[PortalFile] = Field(default_factory=list, max_length=10)
    item_type: str = Field(default="ticket", max_length=40)
    priority: str = Field(default="", max_length=20)
    fields: dict[str, str] = Field(default_factory=dict, max_length=30)
    # Where it came from: the portal, or a form a signed-in contact filled in.
    channel: Literal[Channel.PORTAL, Channel.WEBFORM] = Channel.PORTAL


class PostPortalReply(Command):
    number: int = Field(ge=1)
    message_id: UUID
    body: str = Field(min_length=1, max_length=200_000)
    attachments: list[PortalFile] = Field(default_factory=list, max_length=10)


class FollowPortalItem(Command):
    number: int = Field(ge=1)
    follow: bool  # False: stop following (no more mail about it)


class ChangePortalStatus(Command):
    number: int = Field(ge=1)
    finish: bool  # True: close the request; False: reopen it


@dataclass(frozen=True)
class PortalCaller:
    """An authenticated customer and the session token they used."""

    contact: Contact
    token_id: str


# --- tokens ---------------------------------------------------------------------------------


def format_invitation(contact_id: UUID, secret: str) -> str:
    return f"{INVITATION_PREFIX}_{contact_id.hex}_{secret}"


def format_sign_in_link(contact_id: UUID, secret: str) -> str:
    return f"{SIGN_IN_LINK_PREFIX}_{contact_id.hex}_{secret}"


def format_confirmation(submission_id: UUID, secret: str) -> str:
    return f"{CONFIRMATION_PREFIX}_{submission_id.hex}_{secret}"


def format_session(contact_id: UUID, token_id: str, secret: str) -> str:
    return f"{SESSION_PREFIX}_{contact_id.hex}_{token_id}_{secret}"


def contact_hex_id(token: str) -> UUID:
    """The contact id inside a portal token (a malformed one still gets a lock, then a 401)."""
    try:
        return UUID(hex=token.split("_")[1])
    except (IndexError, ValueError):
        return UUID(int=0)


def token_parts(token: str, prefix: str, count: int) -> list[str] | None:
    parts = token.split("_", count)
    if len(parts) != count + 1 or parts[0] != prefix or not all(parts):
        return None
    return parts[1:]


def contact_by_hex(uow: UnitOfWork, contact_hex: str) -> Contact | None:
    try:
        return uow.get(UUID(hex=contact_hex), Contact)
    except ValueError:
        return None


def holder_of(uow: UnitOfWork, token: str, prefix: str) -> tuple[Contact, str]:
    """The contact a one-time token of kind `prefix` (`ldp`, `lds`) names, and the hash of
    its secret to check; InvalidCredentialsError when it names nobody."""
    parts = token_parts(token, prefix, 2) if prefix else None
    contact = contact_by_hex(uow, parts[0]) if parts else None
    if parts is None or contact is None:
        raise InvalidCredentialsError("the invitation is not valid")
    return contact, secret_digest(parts[1])


def secret_digest(secret: str) -> str:
    # Portal secrets carry 256 random bits: a plain hash is enough (no stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


# --- who may --------------------------------------------------------------------------------


def require_staff(ctx: Context) -> None:
    """Staff (or the system) only: a customer never manages the portal."""
    if ctx.actor.kind == "customer":
        raise PermissionDeniedError("customers may not do this")


def customer_of(uow: UnitOfWork, ctx: Context) -> Contact:
    """The contact acting in a customer context (a customer who is a contact still)."""
    contact = uow.get(contact_id_for(ctx.actor.ident), Contact) if _is_customer(ctx) else None
    if contact is None or contact.user_id is not None:
        raise PermissionDeniedError("only customers may do this")
    return contact


def _is_customer(ctx: Context) -> bool:
    return ctx.actor.kind == "customer" and "@" in ctx.actor.ident


def organisation_of(uow: UnitOfWork, contact: Contact) -> Organisation | None:
    held = contact.organisation_id
    return uow.get(UUID(held), Organisation) if held else None


def requester_of(uow: UnitOfWork, number: int) -> Contact | None:
    """The contact who asked for ticket `number` (its Opened event names them for good)."""
    first = next(iter(uow.app.events.get(item_id(number), limit=1)), None)
    email = getattr(first, "requester_email", None) if isinstance(first, Ticket.Opened) else None
    return uow.get(contact_id_for(email), Contact) if email else None


def visible_ticket(uow: UnitOfWork, contact: Contact, number: int) -> Ticket:
    """Ticket `number` if `contact` may see it now; otherwise as if it did not exist."""
    ticket = uow.get(item_id(number), Ticket)
    requester = requester_of(uow, number) if ticket is not None else None
    if ticket is None or not may_see_item_of(contact, organisation_of(uow, contact), requester):
        raise TicketNotFoundError(number)
    return ticket


# --- handlers -------------------------------------------------------------------------------


def issue_portal_invitation(
    cmd: IssuePortalInvitation,
    uow: UnitOfWork,
    ctx: Context,
    secret: str,
    mail: Callable[[Contact, str], Any] | None = None,
) -> list[Any]:
    """Invite the contact; with `mail`, the invitation's mail is queued in the same write."""
    require_staff(ctx)
    require_customer_manager(uow, ctx)
    contact = load_contact(uow, cmd.contact_id)
    expires = (datetime.now(UTC) + PORTAL_INVITATION_TTL).isoformat()
    contact.invite_to_portal(secret_digest(secret), expires, ctx.actor, ctx.correlation_id)
    return [*([mail(contact, expires)] if mail else []), contact]


def issue_sign_in_link(
    email: str, uow: UnitOfWork, ctx: Context, secret: str, mail: Callable[[Contact, str], Any]
) -> list[Any]:
    """A one-time sign-in link for a customer who has signed in before (has a password);
    anyone else gets nothing, and the caller cannot tell (no address is confirmed)."""
    try:
        contact = uow.get(contact_id_for(email), Contact)
    except DomainError:
        return []
    if contact is None or contact.user_id is not None or contact.portal_password_hash is None:
        return []
    expires = (datetime.now(UTC) + SIGN_IN_LINK_TTL).isoformat()
    contact.issue_sign_in_link(secret_digest(secret), expires, ctx.actor, ctx.correlation_id)
    return [mail(contact, expires), contact]


class Addressee(Protocol):
    """Who an access mail is to, and what its link is about: a contact (portal mail) or a
    form submission (its confirmation)."""

    @property
    def id(self) -> UUID: ...

    @property
    def email(self) -> str: ...

    @property
    def name(self) -> str: ...


class AccountMailer(Protocol):
    """Mail out, as the portal needs it: whether mail can leave, and a queued access mail."""

    def configured(self) -> bool: ...

    def queue_account_mail(
        self, *, kind: str, contact: Addressee, nonce: str, expires_at: str, ctx: Context
    ) -> Any: ...


def derived_secret(key: bytes, purpose: str, nonce: str) -> str:
    """A link's secret, made from a nonce with the install's key (the nonce alone is no use)."""
    mac = hmac.new(key, f"portal-{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def start_portal_session(
    cmd: StartPortalSession,
    uow: UnitOfWork,
    ctx: Context,
    token_id: str,
    secret: str,
    ttl: timedelta,
    prefixes: tuple[str, ...] = (INVITATION_PREFIX, SIGN_IN_LINK_PREFIX),
) -> list[Any]:
    """Redeem an invitation (`ldp_`) or a sign-in link (`lds_`), as `prefixes` allow, for a
    session token; the contact acts as themselves. Each is checked against its own slot:
    a link never redeems an invitation, nor an invitation a link."""
    token = cmd.invitation.get_secret_value()
    prefix = token.split("_", 1)[0]
    contact, digest = holder_of(uow, token, prefix if prefix in prefixes else "")
    now = datetime.now(UTC)
    session: dict[str, Any] = {
        "now": now,
        "token_id": token_id,
        "secret_sha256": secret_digest(secret),
        "expires_at": (now + ttl).isoformat(),
        "actor": Actor.customer(contact.email),
        "correlation_id": ctx.correlation_id,
    }
    if prefix == INVITATION_PREFIX:
        contact.redeem_portal_invitation(invitation_sha256=digest, **session)
    else:
        contact.redeem_sign_in_link(link_sha256=digest, **session)
    return [contact]


def end_portal_session(cmd: EndPortalSession, uow: UnitOfWork, ctx: Context) -> list[Any]:
    contact = customer_of(uow, ctx)
    if contact.id != cmd.contact_id:
        raise PermissionDeniedError("customers end their own sessions only")
    contact.end_portal_session(cmd.token_id, ctx.actor, ctx.correlation_id)
    return [contact]


def open_portal_ticket(cmd: OpenPortalTicket, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """A ticket in the Inbox with the customer as requester (the one staff handler a
    customer context reaches, with a command built here, never from the request)."""
    contact = customer_of(uow, ctx)
    try:
        kind = item_type_for(uow, cmd.item_type, "ticket")
    except ItemTypeNotFoundError:  # A value the customer chose: invalid, not a missing page.
        raise InvalidValueError("item_type", f"no item type {cmd.item_type!r}") from None
    if not customer_choosable(kind):
        raise InvalidValueError("item_type", f"customers may not open a {cmd.item_type!r}")
    sent = check_submission(
        kind,
        {"title": cmd.title, "description": cmd.description, "priority": cmd.priority,
         **cmd.fields},
    )  # fmt: skip
    opened = OpenTicket(
        title=sent.title,
        description=sent.description,
        priority=Priority(sent.priority),
        requester_email=contact.email,
        channel=cmd.channel,
        item_type=kind["key"],
        fields=sent.values,
    )
    saved = open_ticket(opened, uow, ctx)
    ticket = next(a for a in saved if isinstance(a, Ticket))
    attach_files(ticket, cmd.attachments, ctx)
    return saved


def attach_files(item: Ticket | Task, files: list[PortalFile], ctx: Context) -> None:
    """A customer's files on the item, customer-visible (they sent them)."""
    for file in files:
        item.add_attachment(
            attachment_id=uuid4(), sha256=file.sha256, name=file.name, size=file.size,
            media_type=file.media_type, visibility=CUSTOMER, actor=ctx.actor,
            correlation_id=ctx.correlation_id,
        )  # fmt: skip


def post_portal_reply(cmd: PostPortalReply, uow: UnitOfWork, ctx: Context) -> list[Any]:
    contact = customer_of(uow, ctx)
    ticket = visible_ticket(uow, contact, cmd.number)
    # A request converted into a task goes on there; the customer still knows its number.
    item: Ticket | Task = ticket if ticket.converted_to is None else uow.task(ticket.converted_to)
    item.post_message(
        message_id=cmd.message_id,
        body=cmd.body,
        visibility=CUSTOMER,
        in_reply_to=None,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    attach_files(item, cmd.attachments, ctx)
    return [item]


def follow_portal_item(cmd: FollowPortalItem, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """A customer follows a request they may see by mail, or stops following it."""
    contact = customer_of(uow, ctx)
    ticket = visible_ticket(uow, contact, cmd.number)
    # Kept under the number the customer knows: a converted request's task mails its
    # ticket's participants too.
    thread = uow.get(thread_id_for(ticket.number), MailThread) or MailThread.start(
        ticket.number, ctx.actor, ctx.correlation_id
    )
    if cmd.follow:
        thread.follow(contact.email, ctx.actor, ctx.correlation_id)
    else:
        thread.leave(contact.email, ctx.actor, ctx.correlation_id)
    return [thread]


def follows_portal_item(uow: UnitOfWork, contact: Contact, number: int) -> bool:
    """Whether `contact` gets mail about request `number` (they may see it)."""
    thread = uow.get(thread_id_for(number), MailThread)
    requester = requester_of(uow, number)
    is_requester = requester is not None and requester.id == contact.id
    if thread is None:
        return is_requester
    return thread.follows(contact.email, is_requester)


def change_portal_status(cmd: ChangePortalStatus, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """A customer closes or reopens a request they may see, where admins allow it."""
    contact = customer_of(uow, ctx)
    ticket = visible_ticket(uow, contact, cmd.number)
    switches = in_force(uow.get(COMPANY_SETTINGS_ID, CompanySettings))
    if not switches["features"]["customer_status_changes"]:
        raise PermissionDeniedError("customers may not close or reopen requests here")
    item: Ticket | Task = ticket if ticket.converted_to is None else uow.task(ticket.converted_to)
    lifecycle = lifecycle_of_item(uow, item)
    if cmd.finish:
        item.close(ctx.actor, ctx.correlation_id, lifecycle)
    else:
        item.reopen(ctx.actor, ctx.correlation_id, lifecycle)
    return [item]


def authenticate_contact(uow: UnitOfWork, token: str) -> PortalCaller:
    """The customer a portal session token belongs to, checked against the write model;
    staff tokens (`ld_`) and invitations (`ldp_`) are not session tokens."""
    parts = token_parts(token, SESSION_PREFIX, 3)
    contact = contact_by_hex(uow, parts[0]) if parts else None
    if parts is None or contact is None or contact.user_id is not None:
        raise InvalidTokenError  # A contact turned into staff uses staff tokens only.
    if not contact.has_portal_session(parts[1], secret_digest(parts[2]), datetime.now(UTC)):
        raise InvalidTokenError
    return PortalCaller(contact=contact, token_id=parts[1])


# --- the facade -----------------------------------------------------------------------------


class PortalService:
    """Every portal write and every check of a customer's access goes through here."""

    def __init__(
        self,
        app: LedgerDesk,
        session_ttl: timedelta = timedelta(hours=12),
        key: bytes = b"",
        mailer: AccountMailer | None = None,
    ) -> None:
        self.app = app
        self.session_ttl = session_ttl
        self.key = key  # The install's secret key: links' secrets are made with it.
        self.mailer = mailer

    def issue_invitation(
        self, cmd: IssuePortalInvitation, ctx: Context
    ) -> tuple[int, str, str, bool]:
        """Returns the log position, the invitation (shown once, stored hashed), when it
        expires, and whether it was mailed to the contact (when mail is configured)."""
        mailer = self.mailer if self.mailer is not None and self.mailer.configured() else None
        nonce = secrets.token_urlsafe(16)
        secret = derived_secret(self.key, "invite", nonce) if mailer else new_token_parts()[1]

        def mail(contact: Contact, expires: str) -> Any:
            assert mailer is not None
            return mailer.queue_account_mail(
                kind="portal_invitation", contact=contact, nonce=nonce, expires_at=expires,
                ctx=ctx,
            )  # fmt: skip

        saved, position = run(
            self.app,
            cmd.contact_id,
            lambda uow: issue_portal_invitation(cmd, uow, ctx, secret, mail if mailer else None),
        )
        expires_at = saved[-1].portal_invitation["expires_at"]
        return position, format_invitation(cmd.contact_id, secret), expires_at, bool(mailer)

    def mail_sign_in_link(self, email: str, ctx: Context) -> int:
        """Mail a one-time sign-in link if `email` is a customer's who has a password (the
        log position; 0 when nothing was sent, which the caller must not tell apart)."""
        mailer = self.mailer
        if mailer is None or not mailer.configured():
            return 0
        nonce = secrets.token_urlsafe(16)
        secret = derived_secret(self.key, "sign-in", nonce)

        def mail(contact: Contact, expires: str) -> Any:
            return mailer.queue_account_mail(
                kind="portal_sign_in", contact=contact, nonce=nonce, expires_at=expires, ctx=ctx
            )

        try:
            hot = contact_id_for(email)
        except DomainError:
            return 0
        _, position = run(
            self.app, hot, lambda uow: issue_sign_in_link(email, uow, ctx, secret, mail)
        )
        return position

    def mail_configured(self) -> bool:
        return self.mailer is not None and self.mailer.configured()

    def start_session(
        self,
        cmd: StartPortalSession,
        ctx: Context,
        prefixes: tuple[str, ...] = (INVITATION_PREFIX, SIGN_IN_LINK_PREFIX),
    ) -> tuple[int, Contact, str]:
        """Returns the log position, the contact and their session token (shown once)."""
        token_id, secret = new_token_parts()
        hot = contact_hex_id(cmd.invitation.get_secret_value())
        saved, position = run(
            self.app,
            hot,
            lambda uow: start_portal_session(
                cmd, uow, ctx, token_id, secret, self.session_ttl, prefixes
            ),
        )
        contact: Contact = saved[0]
        return position, contact, format_session(contact.id, token_id, secret)

    def end_session(self, cmd: EndPortalSession, ctx: Context) -> int:
        _, position = run(self.app, cmd.contact_id, lambda uow: end_portal_session(cmd, uow, ctx))
        return position

    def open_ticket(self, cmd: OpenPortalTicket, ctx: Context) -> CommandResult:
        saved, position = run(self.app, COUNTER_ID, lambda uow: open_portal_ticket(cmd, uow, ctx))
        return _result(saved[-1], position)

    def post_reply(self, cmd: PostPortalReply, ctx: Context) -> CommandResult:
        saved, position = run(
            self.app, item_id(cmd.number), lambda uow: post_portal_reply(cmd, uow, ctx)
        )
        # The customer's number, and the version of the stream the reply went to.
        return CommandResult(
            id=saved[0].id, number=cmd.number, version=saved[0].version, position=position
        )

    def follow(self, cmd: FollowPortalItem, ctx: Context) -> int:
        """Follow or stop following (the log position; 0 when nothing changed)."""
        hot = thread_id_for(cmd.number)
        return run(self.app, hot, lambda uow: follow_portal_item(cmd, uow, ctx))[1]

    def follows(self, contact: Contact, number: int) -> bool:
        return follows_portal_item(UnitOfWork(self.app), contact, number)

    def change_status(self, cmd: ChangePortalStatus, ctx: Context) -> int:
        """Close or reopen (the log position; 0 when it already was)."""
        _, position = run(
            self.app, item_id(cmd.number), lambda uow: change_portal_status(cmd, uow, ctx)
        )
        return position

    def mark_read(self, number: int, ctx: Context) -> tuple[int, int]:
        """The customer has read ticket `number`'s messages (those they may see): how many
        were new to them, and the log position (0: nothing to record)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            read.clear()
            contact = customer_of(uow, ctx)
            ticket = visible_ticket(uow, contact, number)
            item = ticket if ticket.converted_to is None else uow.task(ticket.converted_to)
            read.extend(mark_read(item, Actor.customer(contact.email), ctx.correlation_id))
            return [item] if read else []

        read: list[str] = []
        _, position = run(self.app, item_id(number), decide)
        return len(read), position

    def authenticate(self, token: str) -> PortalCaller:
        return authenticate_contact(UnitOfWork(self.app), token)

    def sees_organisation_of(self, contact: Contact) -> str | None:
        """The organisation whose items `contact` sees besides their own (None: own only),
        by the write model at this moment."""
        organisation = organisation_of(UnitOfWork(self.app), contact)
        if sees_items_of(contact, organisation) == "organisation":
            return contact.organisation_id
        return None


def _result(ticket: Ticket, position: int) -> CommandResult:
    return CommandResult(
        id=ticket.id, number=ticket.number, version=ticket.version, position=position
    )
