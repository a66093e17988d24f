"""IMAP IDLE (RFC 2177): where a mailbox's server offers it, a thread of the worker process
keeps a connection open on the mailbox's folder and polls it the moment new mail arrives,
instead of at the mailbox's next periodic poll.

Polling stays the ground truth: IDLE only makes a poll come sooner, through the same
`ImapPoller.poll` (claimed in the view database, so an IDLE poll and a tick's poll never
take the same mail twice). A server without IDLE, or a connection that fails, leaves the
mailbox to the periodic poll; a failed connection is tried again after a while. Every worker
process watches every IMAP mailbox (one connection each, besides the polls').
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands.unit_of_work import UnitOfWork
from domain.mail.mailbox import Mailbox
from projections.base import current_tables
from workers.mail.imap import ImapPoller, ServerError

log = logging.getLogger("ledgerdesk.mail")
# How often the set of IMAP mailboxes (and their accounts) is looked at again.
REFRESH_SECONDS = 30.0
# After a connection fails, how long until it is tried again.
RETRY_SECONDS = 30.0
# IDLE is renewed well within the 29 minutes RFC 2177 allows (and NAT boxes forget less).
RENEW_SECONDS = 600.0
# How often a poll that found the mailbox busy (another poll holds it) is tried again.
BUSY_RETRY_SECONDS = 2.0
CHECK_SECONDS = 1.0
NEW_MAIL = (b"EXISTS", b"RECENT")


class ConnectionClosedError(ConnectionError):
    """Raised when the server closes an IDLE connection (a BYE, or end of file)."""


@dataclass
class _Watch:
    version: int
    stop: threading.Event
    thread: threading.Thread


class ImapIdlers:
    """One IDLE watcher per IMAP mailbox, kept in step with the mailboxes view."""

    def __init__(
        self,
        poller: ImapPoller,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.poller = poller
        self.refresh_seconds = refresh_seconds
        self.retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._watches: dict[str, _Watch] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="imap-idle", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop every watcher (each leaves IDLE and logs out) and wait for them."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for watch in self._watches.values():
            watch.stop.set()
        for watch in self._watches.values():
            watch.thread.join(timeout=10)
        self._watches.clear()

    def watching(self) -> dict[str, int]:
        """The mailboxes with a watcher (one whose server has no IDLE has ended), and the
        version of the mailbox it watches."""
        return {key: watch.version for key, watch in self._watches.items()}

    def alive(self) -> list[str]:
        """The mailboxes whose watcher runs (holds IDLE, or waits to reconnect)."""
        return [key for key, watch in self._watches.items() if watch.thread.is_alive()]

    def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:
                # The view database may be down a moment: watchers keep going meanwhile.
                log.exception("IMAP IDLE: could not read the mailboxes; trying again")
            self._stop.wait(self.refresh_seconds)

    def refresh(self) -> None:
        """Start a watcher for each IMAP mailbox without one; restart those whose account
        changed, stop those of mailboxes gone (the supervisor does this periodically)."""
        with self.poller.views.read() as tx:
            t = current_tables(tx, "mailboxes")
            rows = tx.all(f"SELECT id, version FROM {t['mailboxes']} WHERE imap IS NOT NULL")
        wanted = {r["id"]: int(r["version"]) for r in rows}
        # A watcher that ended (its server has no IDLE) stays ended until the account changes.
        for key, watch in list(self._watches.items()):
            if wanted.get(key) != watch.version:
                watch.stop.set()
                del self._watches[key]
        for key, version in wanted.items():
            if key not in self._watches:
                self._watches[key] = self._spawn(UUID(key), version)

    def _spawn(self, mailbox_id: UUID, version: int) -> _Watch:
        stop = threading.Event()
        thread = threading.Thread(
            target=self._watch, args=(mailbox_id, stop), name=f"imap-idle-{mailbox_id}", daemon=True
        )
        thread.start()
        return _Watch(version, stop, thread)

    def _watch(self, mailbox_id: UUID, stop: threading.Event) -> None:
        """Watch until stopped; a failed connection is tried again after a while."""
        while not (stop.is_set() or self._stop.is_set()):
            try:
                if not self._idle(mailbox_id, stop):
                    return  # No IDLE there (or no account any more): the ticks poll it.
            except ServerError as error:
                log.warning("IMAP IDLE for mailbox %s: %s; trying again later", mailbox_id, error)
            except Exception:
                log.exception("IMAP IDLE for mailbox %s failed; trying again later", mailbox_id)
            stop.wait(self.retry_seconds)

    def _idle(self, mailbox_id: UUID, stop: threading.Event) -> bool:
        """Hold IDLE on the mailbox's folder, polling on new mail, until `stop`. False when
        there is nothing to watch."""
        mailbox = UnitOfWork(self.poller.app).get(mailbox_id, Mailbox)
        if mailbox is None or mailbox.removed or mailbox.imap is None:
            return False
        token = mailbox.imap_password_token
        assert token is not None
        password = self.poller.credentials.open(token)
        with self.poller.connect(mailbox.imap, password) as client:
            if not client.has_capability("IDLE"):
                log.info("IMAP for %s: the server has no IDLE; polling only", mailbox.address)
                return False
            client.select_folder(mailbox.imap["folder"], readonly=True)
            _Session(self.poller, mailbox_id, client).run(
                lambda: stop.is_set() or self._stop.is_set()
            )
        return True


class _Session:
    """One IDLE connection's life: poll on new mail, renew IDLE now and then."""

    def __init__(self, poller: ImapPoller, mailbox_id: UUID, client: Any) -> None:
        self.poller = poller
        self.mailbox_id = mailbox_id
        self.client = client
        # Mail that came while nobody watched is taken in at once.
        self.pending = True
        self.tried_at = 0.0

    def run(self, stopped: Callable[[], bool]) -> None:
        """Until `stopped`; a closed or failed connection raises (the caller reconnects)."""
        self.client.idle()
        renewed, quick = time.monotonic(), 0
        while not stopped():
            began = time.monotonic()
            responses = self.client.idle_check(timeout=CHECK_SECONDS)
            if any(r[:1] == (b"BYE",) for r in responses):
                raise ConnectionClosedError("the server closed the connection")
            # At end of file the socket reads as ready, and yields nothing, at once.
            quick = quick + 1 if not responses and time.monotonic() - began < 0.1 else 0
            if quick > 3:
                raise ConnectionClosedError("the connection was closed")
            if any(len(r) > 1 and r[1] in NEW_MAIL for r in responses):
                self.pending = True
            self._poll_if_pending()
            if time.monotonic() - renewed > RENEW_SECONDS:
                self.client.idle_done()
                self.client.idle()
                renewed = time.monotonic()
        self.client.idle_done()

    def _poll_if_pending(self) -> None:
        now = time.monotonic()
        if not self.pending or now - self.tried_at < BUSY_RETRY_SECONDS:
            return
        self.tried_at = now
        # None: another poll holds the mailbox (it may have searched before this mail came).
        self.pending = self.poller.poll(self.mailbox_id, force=True) is None
