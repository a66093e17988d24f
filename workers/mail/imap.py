"""IMAP polling: mail waiting in a mailbox's IMAP folder is fetched, handed to the mail
service like any other transport's, then flagged \\Seen and moved to the processed folder.

Nothing fetched is lost: a message is flagged and moved only once `MailService.receive` has
stored and filed it (a quarantined one included), and the folder's progress advances only
past messages that were. A message fetched twice (a crash between filing and moving, a new
UIDVALIDITY) is a duplicate to the mail service, never a second item. A server that cannot
be reached, or refuses the login, is logged and recorded on the mailbox's last poll
(`imap_polls`), and tried again on a later tick; the worker carries on.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from commands.application import LedgerDesk
from commands.credentials import CredentialUnreadableError
from commands.mail import imap_account
from commands.mail.service import MailService, MailTooLargeError
from commands.models import Context
from commands.unit_of_work import UnitOfWork
from domain.mail.mailbox import Mailbox
from domain.values import Actor
from projections.base import current_tables, iso
from projections.db import ViewDatabase
from projections.mail import imap_polls
from projections.mail.mailboxes import imap_mailbox_ids
from workers.actors import Delivery, WorkerServices

log = logging.getLogger("ledgerdesk.mail")
# A server that does not answer costs a tick this long at most (polls run one by one).
# A poll holds its mailbox this long at most: a poller that died lets the next one in.
LEASE_SECONDS = 900.0
EARLY = 0.9
# New mail arriving during a poll is taken in by the same poll, for this many rounds.
ROUNDS = 10
SEEN, DELETED = b"\\Seen", b"\\Deleted"
# What a server that cannot be reached or refuses us raises (ssl and socket errors are
# OSErrors); tried again on a later tick.
ServerError = (IMAPClientError, OSError, CredentialUnreadableError)


@dataclass(frozen=True)
class Taken:
    """One message a poll took: its UID, what became of it (a receipt's outcome, or
    `too-large`: left in the folder) and the item it was filed on."""

    uid: int
    outcome: str
    number: int | None = None


@dataclass
class PollReport:
    """What one poll of one mailbox did: the messages it took, and what failed."""

    mailbox_id: UUID
    uidvalidity: int | None = None
    taken: list[Taken] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        return "; ".join(self.errors) or None


class ImapPoller:
    """Polls the mailboxes that have an IMAP account."""

    def __init__(
        self,
        app: LedgerDesk,
        views: ViewDatabase,
        mail: MailService,
        *,
        ssl_context: Callable[[], ssl.SSLContext] = ssl.create_default_context,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.views = views
        self.mail = mail
        self.credentials = mail.credentials
        self.ssl_context = ssl_context
        self.clock = clock

    def poll_due(self) -> list[PollReport]:
        """Poll every mailbox whose interval has passed (and that no other poll holds)."""
        with self.views.read() as tx:
            ids = imap_mailbox_ids(tx, current_tables(tx, "mailboxes"))
        reports = (self.poll(UUID(mailbox_id)) for mailbox_id in ids)
        return [report for report in reports if report is not None]

    def poll(self, mailbox_id: UUID, *, force: bool = False) -> PollReport | None:
        """Take in the mailbox's waiting mail now if it is due (or `force`); None when it has
        no IMAP account or another poll holds it."""
        mailbox = UnitOfWork(self.app).get(mailbox_id, Mailbox)
        if mailbox is None or mailbox.removed or mailbox.imap is None:
            return None
        # Ticks arrive a little late or early (a busy queue, clocks): a tenth of the interval
        # early is on time, else a 60 s account on 60 s ticks would be polled every other one.
        every, key = mailbox.imap["poll_seconds"] * EARLY, str(mailbox_id)
        now = self.clock()
        if not imap_polls.claim(
            self.views, key, mailbox.version, now=now, every=every, lease=LEASE_SECONDS, force=force
        ):
            return None
        report = PollReport(mailbox_id)
        try:
            self._take_in(mailbox, report)
        except ServerError as error:
            report.errors.append(_describe(error))
            log.warning("IMAP for %s: %s; trying again later", mailbox.address, report.error)
        except Exception as error:
            # One mailbox's failure must not stop the others' polls; it is recorded and logged.
            report.errors.append(f"internal error: {type(error).__name__}")
            log.exception("IMAP for %s failed; trying again later", mailbox.address)
        imap_polls.release(self.views, key, _now(), report.error)
        return report

    def connect(self, imap: dict[str, Any], password: str) -> Any:
        """A logged-in client of the account's server (TLS, STARTTLS or plain)."""
        return imap_account.connect(imap, password, self.ssl_context)

    def _take_in(self, mailbox: Mailbox, report: PollReport) -> None:
        imap = mailbox.imap
        token = mailbox.imap_password_token
        assert imap is not None
        assert token is not None
        password = self.credentials.open(token)
        with self.connect(imap, password) as client:
            _ensure_folder(client, imap["processed_folder"])
            selected = client.select_folder(imap["folder"])
            report.uidvalidity = int(selected[b"UIDVALIDITY"])
            folder = Folder(self, mailbox, report.uidvalidity)
            tried: set[int] = set()
            for _ in range(ROUNDS):
                waiting = [uid for uid in folder.waiting(client) if uid not in tried]
                if not waiting:
                    break
                tried.update(waiting)
                folder.take(client, waiting, report)


class Folder:
    """One poll's view of a mailbox's folder: what waits there and how far it is taken in."""

    def __init__(self, poller: ImapPoller, mailbox: Mailbox, uidvalidity: int) -> None:
        assert mailbox.imap is not None
        self.poller = poller
        self.mailbox = mailbox
        self.imap = mailbox.imap
        self.id = str(mailbox.id)
        self.account = "{user}@{host}:{port}/{folder}".format(**self.imap)
        self.uidvalidity = uidvalidity
        self.done = imap_polls.last_uid(poller.views, self.id, self.account, uidvalidity)
        self.ctx = Context(actor=Actor.system("mail"), correlation_id="imap")

    def waiting(self, client: Any) -> list[int]:
        """The UIDs past the progress mark, not flagged \\Deleted, oldest first."""
        found = client.search(["UID", f"{self.done + 1}:*", "NOT", "DELETED"])
        # `n:*` matches the highest UID even when it is below n (RFC 3501 6.4.8).
        return sorted(uid for uid in found if uid > self.done)

    def take(self, client: Any, uids: list[int], report: PollReport) -> None:
        """File each message, flag it \\Seen and move it, advancing the progress mark past
        every message up to the first one that could not be filed."""
        sizes = client.fetch(uids, ["RFC822.SIZE"])
        blocked = False
        for uid in uids:
            size = sizes.get(uid, {}).get(b"RFC822.SIZE")
            taken = self._take_one(client, uid, size, report)
            blocked = blocked or taken is None
            if taken is not None and taken.outcome != "gone":
                report.taken.append(taken)
            if not blocked:
                self.done = uid
                imap_polls.advance(
                    self.poller.views, self.id, self.account, self.uidvalidity, uid, _now()
                )

    def _take_one(
        self, client: Any, uid: int, size: int | None, report: PollReport
    ) -> Taken | None:
        """What became of the message, `too-large` (left where it is) or `gone` (expunged
        meanwhile) included; None when it could not be filed (it stays, fetched again)."""
        limit = self.poller.mail.max_bytes
        if size is not None and size > limit:
            return self._too_large(uid, limit, report)
        fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid)
        if fetched is None or b"BODY[]" not in fetched:
            return Taken(uid, "gone")
        try:
            receipt = self.poller.mail.receive(
                fetched[b"BODY[]"], self.mailbox.address, "imap", self.ctx
            )
        except MailTooLargeError:
            return self._too_large(uid, limit, report)
        except Exception as error:
            # The message stays in the folder and is fetched again on the next poll.
            report.errors.append(f"message UID {uid} could not be filed: {type(error).__name__}")
            log.exception(
                "IMAP for %s: message UID %s could not be filed", self.mailbox.address, uid
            )
            return None
        client.add_flags([uid], [SEEN])
        _move(client, [uid], self.imap["processed_folder"])
        log.info("IMAP for %s: UID %s %s", self.mailbox.address, uid, receipt.outcome)
        return Taken(uid, receipt.outcome, receipt.number)

    def _too_large(self, uid: int, limit: int, report: PollReport) -> Taken:
        where = self.imap["folder"]
        report.errors.append(f"message UID {uid} is larger than {limit} bytes; left in {where}")
        log.warning("IMAP for %s: %s", self.mailbox.address, report.errors[-1])
        return Taken(uid, "too-large")


def _ensure_folder(client: Any, folder: str) -> None:
    if client.folder_exists(folder):
        return
    try:
        client.create_folder(folder)
    except IMAPClientError:
        if not client.folder_exists(folder):  # Not made by another poll at the same moment.
            raise


def _move(client: Any, uids: Iterable[int], folder: str) -> None:
    """MOVE where the server has it (RFC 6851), else COPY, \\Deleted and EXPUNGE of just
    these messages (UID EXPUNGE where the server has UIDPLUS)."""
    uids = list(uids)
    if client.has_capability("MOVE"):
        client.move(uids, folder)
        return
    client.copy(uids, folder)
    client.add_flags(uids, [DELETED])
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def _describe(error: BaseException) -> str:
    return imap_account.describe(error)


def _now() -> str:
    return iso(datetime.now(UTC))


def poll_mailboxes(services: WorkerServices, delivery: Delivery) -> None:
    """On every tick, poll each IMAP mailbox whose interval has passed. Safe to run twice or
    in several processes at once: a mailbox's poll is claimed in the view database, and a
    message fetched again is a duplicate to the mail service."""
    if services.mail is None:
        raise RuntimeError("IMAP polling needs the mail service in WorkerServices")
    ImapPoller(services.app, services.views, services.mail).poll_due()
