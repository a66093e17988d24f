"""The mail channel's service: routing a recipient address, and receiving raw messages from
any transport (SMTP, IMAP, an MTA pipe, HTTP) into items or the quarantine."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID

from commands.application import LedgerDesk
from commands.blobs import BlobStore
from commands.credentials import Credentials
from commands.mail.parsing import UnparseableMailError, parse
from commands.mail.receive import (
    Decided,
    Delivery,
    MailIdentity,
    Receipt,
    Route,
    quarantine,
    receive,
)
from commands.metrics import count_mail_received
from commands.models import Context
from commands.projects import project_for_slug
from commands.unit_of_work import UnitOfWork, run
from domain.errors import ConflictError, InvalidValueError, NotFoundError
from domain.item_numbers import COUNTER_ID
from domain.mail.addresses import Address
from domain.mail.mailbox import Mailbox, mailbox_id_for
from domain.mail.message import InboundMail
from domain.mail.quarantine import (
    QuarantinedMail,
    QuarantineReason,
    QuarantineSettledError,
    QuarantineState,
)
from domain.project import INBOX_ID
from domain.project_slugs import is_slug


class UnknownRecipientError(InvalidValueError):
    """Mail for an address that is not ours: refused (550 over SMTP), never accepted."""

    def __init__(self, address: str) -> None:
        super().__init__("to", f"{address!r} is not an address this install receives mail on")
        self.address = address


class MailTooLargeError(InvalidValueError):
    def __init__(self, limit: int) -> None:
        super().__init__("message", f"the message is larger than {limit} bytes")
        self.limit = limit


class QuarantineEntryNotFoundError(NotFoundError):
    def __init__(self, entry_id: str) -> None:
        super().__init__(f"no quarantined mail {entry_id}")


class QuarantineUnreadableError(ConflictError):
    """Released, the message still cannot be read: it stays held (discard it instead)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the message still cannot be processed ({reason}); discard it instead")


class MailService:
    """Receives mail for the install's address and its mailboxes."""

    def __init__(
        self,
        app: LedgerDesk,
        blobs: BlobStore,
        *,
        address: str,
        secret: bytes,
        max_bytes: int,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
        encryption_keys: Sequence[str] = (),
    ) -> None:
        self.app = app
        # What seals the passwords of IMAP accounts (and every credential the install keeps).
        self.credentials = Credentials(secret, encryption_keys)
        self.blobs = blobs
        own = Address.parse(address)
        if own is None:
            raise ValueError(f"the install's mail address is not an address: {address!r}")
        self.address = own.base
        self.secret = secret
        self.max_bytes = max_bytes
        self.today = today

    def route(self, recipient: str) -> Route | None:
        """Where mail to `recipient` goes, or None if we do not receive mail there. A `+slug`
        on any of our addresses sends new items to the project with that slug (without the
        mailbox's folder, which belongs to the mailbox's project); any other `+detail` (a
        signed reply address among them) keeps the address's own route."""
        address = Address.parse(recipient)
        if address is None:
            return None
        uow = UnitOfWork(self.app)
        route = self._base_route(uow, address)
        if route is None or address.detail is None or not is_slug(address.detail):
            return route
        project_id = project_for_slug(uow, address.detail)
        if project_id is None:
            return route
        return replace(route, project_id=project_id, folder_id=None)

    def _base_route(self, uow: UnitOfWork, address: Address) -> Route | None:
        if address.base == self.address:
            return Route(self.address, INBOX_ID)
        mailbox = uow.get(mailbox_id_for(address.base), Mailbox)
        if mailbox is None or mailbox.removed:
            return None
        route = mailbox.route
        return Route(
            mailbox.address,
            UUID(route["project_id"]),
            _uuid(route["folder_id"]),
            _uuid(route["team_id"]),
            route["priority"],
            route["cc_become_followers"],
            route["acknowledge"],
        )

    def identity(self) -> MailIdentity:
        return MailIdentity(self.secret, self.address)

    def receive(self, raw: bytes, recipient: str | None, transport: str, ctx: Context) -> Receipt:
        """Store `raw`, then file it: an item created or appended to, a duplicate, a bounce,
        or the quarantine. Raises UnknownRecipientError (nothing stored) for a stranger's
        address, MailTooLargeError over the size limit."""
        to = (recipient or self.address).strip().lower()
        route = self.route(to)
        if route is None:
            raise UnknownRecipientError(to)
        if len(raw) > self.max_bytes:
            raise MailTooLargeError(self.max_bytes)
        sha256, size = self.blobs.put(io.BytesIO(raw), self.max_bytes)
        delivery = Delivery(sha256, size, route, to, transport)
        return self._file(raw, delivery, ctx)

    def release(self, entry_id: UUID, ctx: Context) -> tuple[Receipt, int]:
        """Process a held message now, letting a loop or a reused Message-ID through (staff
        looked at it); the entry records what came of it, in the same write. Unreadable
        mail stays held (QuarantineUnreadableError). Answers the receipt and log position."""
        entry = UnitOfWork(self.app).get(entry_id, QuarantinedMail)
        if entry is None:
            raise QuarantineEntryNotFoundError(str(entry_id))
        if entry.state != QuarantineState.HELD:
            raise QuarantineSettledError(entry.state)
        raw = self.blobs.read_bytes(entry.raw_sha256)
        route = self.route(entry.recipient) or Route(self.address, INBOX_ID)
        delivery = Delivery(entry.raw_sha256, len(raw), route, entry.recipient, "release")
        try:
            mail = parse(raw, self._store)
        except UnparseableMailError as unreadable:
            raise QuarantineUnreadableError(unreadable.reason) from None
        decisions: list[Decided] = []

        def decide(uow: UnitOfWork) -> list[object]:
            me, today = self.identity(), self.today()
            decided = receive(uow, delivery, mail, me, today, ctx, released=True)
            held = uow.get(entry_id, QuarantinedMail)
            assert held is not None
            receipt = decided.receipt
            if receipt.outcome == "quarantined":  # It would only be held again: stays held.
                raise QuarantineUnreadableError(receipt.reason or "held again")
            held.release(receipt.outcome, receipt.number, ctx.actor, ctx.correlation_id)
            decisions.append(decided)
            return [*decided.aggregates, held]

        _, position = run(self.app, COUNTER_ID, decide)
        receipt = decisions[-1].receipt
        count_mail_received("release", receipt.outcome, receipt.reason)
        return receipt, position

    def discard(self, entry_id: UUID, why: str, ctx: Context) -> int:
        """Throw a held message away, saying why (an event: who and why stay on record)."""

        def decide(uow: UnitOfWork) -> list[object]:
            held = uow.get(entry_id, QuarantinedMail)
            if held is None:
                raise QuarantineEntryNotFoundError(str(entry_id))
            held.discard(why, ctx.actor, ctx.correlation_id)
            return [held]

        return run(self.app, entry_id, decide)[1]

    def _file(self, raw: bytes, delivery: Delivery, ctx: Context) -> Receipt:
        mail: InboundMail | None = None
        try:
            mail = parse(raw, self._store)
        except UnparseableMailError as unreadable:
            reason = unreadable.reason
        decisions: list[Decided] = []

        def decide(uow: UnitOfWork) -> list[object]:
            if mail is None:
                unparseable = QuarantineReason.UNPARSEABLE
                decided = quarantine(uow, delivery, unparseable, reason, None, ctx)
            else:
                decided = receive(uow, delivery, mail, self.identity(), self.today(), ctx)
            decisions.append(decided)
            return decided.aggregates

        run(self.app, COUNTER_ID, decide)
        receipt = decisions[-1].receipt
        count_mail_received(delivery.transport, receipt.outcome, receipt.reason)
        return receipt

    def _store(self, data: bytes) -> tuple[str, int]:
        return self.blobs.put(io.BytesIO(data), self.max_bytes)


def _uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None
