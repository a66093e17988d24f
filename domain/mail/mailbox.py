"""The `Mailbox` aggregate: an address we receive mail on, routed to a project (and perhaps a
folder, a team and a default priority). Its id follows from its address, so an address is one
mailbox. The install's own address (`LEDGERDESK_MAIL_ADDRESS`) routes to the Inbox without
being a mailbox. A mailbox may also have an IMAP account its mail is fetched from
(`domain.mail.imap`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError
from domain.mail.addresses import Address
from domain.mail.imap import ImapPasswordRequiredError, checked_imap
from domain.values import Actor, Priority

MAILBOX_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/mailboxes")


def mailbox_address(value: str) -> str:
    """A mailbox's address as kept: lower case, no `+detail` (plus-addressing is ours)."""
    parsed = Address.parse(value)
    if parsed is None or "." not in parsed.domain or parsed.detail is not None:
        raise InvalidValueError("address", f"not a mailbox address (no +detail): {value!r}")
    return parsed.base


def mailbox_id_for(address: str) -> UUID:
    return uuid5(MAILBOX_NAMESPACE, mailbox_address(address))


class MailboxExistsError(ConflictError):
    def __init__(self, address: str) -> None:
        super().__init__(f"{address} is a mailbox already")


class MailboxRemovedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("this mailbox was removed")


class Mailbox(Aggregate):
    """An address mail comes in on, and where what it brings goes."""

    TOPIC = "ledgerdesk:Mailbox"

    if TYPE_CHECKING:
        Routed: ClassVar[type[Aggregate.Event]]
        Readded: ClassVar[type[Aggregate.Event]]
        Removed: ClassVar[type[Aggregate.Event]]
        ImapConfigured: ClassVar[type[Aggregate.Event]]
        ImapStopped: ClassVar[type[Aggregate.Event]]

    # The IMAP account mail is fetched from (None: mail comes by other transports only),
    # and its password sealed. Class defaults: snapshots taken before IMAP lack both.
    imap: dict[str, Any] | None = None
    imap_password_token: str | None = None

    @staticmethod
    def create_id(address: str) -> UUID:
        return mailbox_id_for(address)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Mailbox.Created"

    class Added(Aggregate.Created):
        """The address and its route: `name`, `project_id`, `folder_id`, `team_id`,
        `priority`, `cc_become_followers`, `acknowledge`."""

        TOPIC = "ledgerdesk:Mailbox.Added"
        address: str
        route: dict[str, Any]
        actor: str
        correlation_id: str

    @event(Added)
    def __init__(
        self, address: str, route: dict[str, Any], actor: str, correlation_id: str
    ) -> None:
        self.address = address
        self.route = route
        self.removed = False

    @classmethod
    def add(cls, *, address: str, actor: Actor, correlation_id: str, **route: Any) -> Mailbox:
        return cls(
            address=mailbox_address(address),
            route=_checked(route),
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def reroute(self, *, actor: Actor, correlation_id: str, **route: Any) -> None:
        if self.removed:
            raise MailboxRemovedError
        self._routed(route=_checked(route), actor=actor.ref, correlation_id=correlation_id)

    @event("Routed", topic="ledgerdesk:Mailbox.Routed")
    def _routed(self, route: dict[str, Any], actor: str, correlation_id: str) -> None:
        self.route = route

    def readd(self, *, actor: Actor, correlation_id: str, **route: Any) -> None:
        """A removed mailbox's address made a mailbox again, routed anew."""
        if not self.removed:
            raise MailboxExistsError(self.address)
        self._readded(
            address=self.address,
            route=_checked(route),
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("Readded", topic="ledgerdesk:Mailbox.Readded")
    def _readded(
        self, address: str, route: dict[str, Any], actor: str, correlation_id: str
    ) -> None:
        self.route = route
        self.removed = False
        # A mailbox added again starts without the removed one's IMAP account.
        self.imap = self.imap_password_token = None

    def configure_imap(
        self,
        *,
        imap: dict[str, Any],
        password_token: str | None,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """Fetch this mailbox's mail from an IMAP account. Without a new password the
        stored one is kept, unless the host changes (then it must be given again)."""
        if self.removed:
            raise MailboxRemovedError
        account = checked_imap(imap)
        token = password_token or self._kept_password(account)
        if (account, token) == (self.imap, self.imap_password_token):
            return
        self._imap_configured(
            imap=account, password_token=token, actor=actor.ref, correlation_id=correlation_id
        )

    def _kept_password(self, account: dict[str, Any]) -> str:
        if self.imap is None or self.imap_password_token is None:
            raise ImapPasswordRequiredError("a password is needed to set up IMAP")
        if self.imap["host"].lower() != account["host"].lower():
            raise ImapPasswordRequiredError("give the password again for another host")
        return self.imap_password_token

    @event("ImapConfigured", topic="ledgerdesk:Mailbox.ImapConfigured")
    def _imap_configured(
        self, imap: dict[str, Any], password_token: str, actor: str, correlation_id: str
    ) -> None:
        self.imap = imap
        self.imap_password_token = password_token

    def stop_imap(self, *, actor: Actor, correlation_id: str) -> None:
        """Fetch no more mail by IMAP (a mailbox without an account: nothing happens)."""
        if self.removed:
            raise MailboxRemovedError
        if self.imap is not None:
            self._imap_stopped(actor=actor.ref, correlation_id=correlation_id)

    @event("ImapStopped", topic="ledgerdesk:Mailbox.ImapStopped")
    def _imap_stopped(self, actor: str, correlation_id: str) -> None:
        self.imap = self.imap_password_token = None

    def remove(self, actor: Actor, correlation_id: str) -> None:
        if self.removed:
            raise MailboxRemovedError
        self._removed(actor=actor.ref, correlation_id=correlation_id)

    @event("Removed", topic="ledgerdesk:Mailbox.Removed")
    def _removed(self, actor: str, correlation_id: str) -> None:
        self.removed = True


def _checked(route: dict[str, Any]) -> dict[str, Any]:
    """The route fields as events carry them (ids as text, a known priority)."""
    return {
        "name": str(route.get("name") or "").strip(),
        "project_id": str(route["project_id"]),
        "folder_id": str(route["folder_id"]) if route.get("folder_id") else None,
        "team_id": str(route["team_id"]) if route.get("team_id") else None,
        "priority": Priority.parse(str(route.get("priority") or Priority.NORMAL)).value,
        "cc_become_followers": bool(route.get("cc_become_followers", False)),
        "acknowledge": bool(route.get("acknowledge", True)),
    }
