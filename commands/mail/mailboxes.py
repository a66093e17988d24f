"""Admins' mailboxes: addresses mail comes in on besides the install's own, each routed to a
project (and perhaps a folder, a team, a default priority), and perhaps fetched from an IMAP
account (its password sealed here, before it goes into an event)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field, SecretStr

from commands.access import load_project
from commands.application import LedgerDesk
from commands.credentials import Credentials, CredentialUnreadableError
from commands.errors import TeamNotFoundError
from commands.folders import load_folder
from commands.mail import imap_account
from commands.models import Command, CommandResult, Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
from domain.errors import ConflictError, InvalidValueError, NotFoundError
from domain.mail.addresses import Address
from domain.mail.imap import (
    DEFAULT_FOLDER,
    DEFAULT_POLL_SECONDS,
    DEFAULT_PROCESSED_FOLDER,
    MAX_FOLDER,
    MAX_HOST,
    MAX_POLL_SECONDS,
    MAX_USER,
    MIN_POLL_SECONDS,
)
from domain.mail.mailbox import Mailbox, mailbox_address, mailbox_id_for
from domain.team import Team
from domain.values import Priority


class MailboxNotFoundError(NotFoundError):
    def __init__(self, mailbox_id: object) -> None:
        super().__init__(f"no mailbox {mailbox_id}")


class ImapAccount(Command):
    """Where a mailbox's mail is fetched from. No password: keep the stored one."""

    host: str = Field(min_length=1, max_length=MAX_HOST)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    user: str = Field(min_length=1, max_length=MAX_USER)
    password: SecretStr | None = Field(default=None, min_length=1, max_length=1024)
    folder: str = Field(default=DEFAULT_FOLDER, min_length=1, max_length=MAX_FOLDER)
    processed_folder: str = Field(
        default=DEFAULT_PROCESSED_FOLDER, min_length=1, max_length=MAX_FOLDER
    )
    poll_seconds: int = Field(
        default=DEFAULT_POLL_SECONDS, ge=MIN_POLL_SECONDS, le=MAX_POLL_SECONDS
    )


class MailboxRoute(Command):
    name: str = Field(default="", max_length=200)
    project_id: UUID
    folder_id: UUID | None = None
    team_id: UUID | None = None
    priority: Priority = Priority.NORMAL
    cc_become_followers: bool = False
    acknowledge: bool = True
    imap: ImapAccount | None = None


class AddMailbox(MailboxRoute):
    address: str = Field(min_length=3, max_length=320)


class ImapNotSetUpError(ConflictError):
    def __init__(self) -> None:
        super().__init__("this mailbox fetches no mail by IMAP: there is nothing to test")


class MailboxService:
    """Adds, reroutes and removes mailboxes (admins only)."""

    def __init__(self, app: LedgerDesk, install_address: str, credentials: Credentials) -> None:
        self.app = app
        self.install_address = install_address
        self.credentials = credentials

    def add(self, cmd: AddMailbox, ctx: Context) -> CommandResult:
        address = mailbox_address(cmd.address)
        if address == self.install_address:
            raise InvalidValueError("address", f"{address} is the install's own address")

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "manage mailboxes")
            route = _checked_route(uow, cmd, ctx)
            existing = uow.get(mailbox_id_for(address), Mailbox)
            if existing is not None:
                existing.readd(actor=ctx.actor, correlation_id=ctx.correlation_id, **route)
                self._fetch_from(existing, cmd.imap, ctx)
                return [existing]
            added = Mailbox.add(
                address=address, actor=ctx.actor, correlation_id=ctx.correlation_id, **route
            )
            self._fetch_from(added, cmd.imap, ctx)
            return [added]

        saved, position = run(self.app, mailbox_id_for(address), decide)
        return _result(saved[-1], position)

    def reroute(
        self, mailbox_id: UUID, cmd: MailboxRoute, ctx: Context, version: int | None = None
    ) -> CommandResult:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "manage mailboxes")
            mailbox = _mailbox(uow, mailbox_id)
            route = _checked_route(uow, cmd, ctx)
            mailbox.reroute(actor=ctx.actor, correlation_id=ctx.correlation_id, **route)
            self._fetch_from(mailbox, cmd.imap, ctx)
            return [mailbox]

        saved, position = run(self.app, mailbox_id, decide, version)
        return _result(saved[-1], position)

    def remove(self, mailbox_id: UUID, ctx: Context) -> CommandResult:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "manage mailboxes")
            mailbox = _mailbox(uow, mailbox_id)
            mailbox.remove(ctx.actor, ctx.correlation_id)
            return [mailbox]

        saved, position = run(self.app, mailbox_id, decide)
        return _result(saved[-1], position)

    def mailbox(self, mailbox_id: UUID) -> Mailbox:
        return _mailbox(UnitOfWork(self.app), mailbox_id)

    def test_connection(self, mailbox_id: UUID) -> dict[str, Any]:
        """Log in to the mailbox's IMAP account and open its folder, as a poll would
        (nothing is taken): `{"ok", "server", "detail"}`; ImapNotSetUpError without one."""
        mailbox = self.mailbox(mailbox_id)
        if mailbox.imap is None or mailbox.imap_password_token is None:
            raise ImapNotSetUpError
        imap = mailbox.imap
        try:
            password = self.credentials.open(mailbox.imap_password_token)
        except CredentialUnreadableError as unreadable:
            server = f"{imap['host']}:{imap['port']} ({imap['security']})"
            return {"ok": False, "server": server, "detail": str(unreadable)}
        return imap_account.check(imap, password)

    def _fetch_from(self, mailbox: Mailbox, imap: ImapAccount | None, ctx: Context) -> None:
        """Set up, change or stop the mailbox's IMAP account (its password sealed)."""
        if imap is None:
            mailbox.stop_imap(actor=ctx.actor, correlation_id=ctx.correlation_id)
            return
        password = imap.password.get_secret_value() if imap.password else None
        mailbox.configure_imap(
            imap=imap.model_dump(exclude={"password"}),
            password_token=self.credentials.seal(password) if password else None,
            actor=ctx.actor,
            correlation_id=ctx.correlation_id,
        )


def _mailbox(uow: UnitOfWork, mailbox_id: UUID) -> Mailbox:
    mailbox = uow.get(mailbox_id, Mailbox)
    if mailbox is None or mailbox.removed:
        raise MailboxNotFoundError(mailbox_id)
    return mailbox


def _checked_route(uow: UnitOfWork, cmd: MailboxRoute, ctx: Context) -> dict[str, Any]:
    """The route's fields, each checked against the write model."""
    project = load_project(uow, cmd.project_id, ctx)
    if cmd.folder_id is not None:
        load_folder(uow, cmd.folder_id, project.id)
    if cmd.team_id is not None and uow.get(cmd.team_id, Team) is None:
        raise TeamNotFoundError(cmd.team_id)
    return {
        "name": cmd.name,
        "project_id": project.id,
        "folder_id": cmd.folder_id,
        "team_id": cmd.team_id,
        "priority": cmd.priority.value,
        "cc_become_followers": cmd.cc_become_followers,
        "acknowledge": cmd.acknowledge,
    }


def _result(mailbox: Mailbox, position: int) -> CommandResult:
    return CommandResult(id=mailbox.id, number=None, version=mailbox.version, position=position)


def is_our_address(uow: UnitOfWork, address: Address, install_address: str) -> bool:
    """Whether `address` is one we receive mail on: the install's, or a live mailbox's (mail
    from it is a loop; mail to it is never sent)."""
    if address.base == install_address:
        return True
    # `+15550100123@...` has no local part before its `+`: no mailbox of ours is like it.
    if not address.local:
        return False
    mailbox = uow.get(mailbox_id_for(address.base), Mailbox)
    return mailbox is not None and not mailbox.removed
