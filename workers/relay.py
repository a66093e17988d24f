"""The outbox relay: sends the outbox view's unsent messages to their actors, then marks them.

At least once: a crash between sending and marking sends those messages again on the next
run, and the actors' receipts make the repeat a no-op. One relay is active per install
(a PostgreSQL advisory lock, like the projection runners'); others stand by.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from projections.base import current_tables, iso, loads
from projections.db import AdvisoryClaims, ViewDatabase, listen
from projections.outbox import (
    RELAYED_DDL,
    OutboxProjection,
    mark_relayed,
    mark_sent,
    unsent_messages,
)
from workers.actors import Delivery

log = logging.getLogger("ledgerdesk.workers")
START = (0, "")
VIEW = OutboxProjection.name


class Relay:
    """Relays `outbox` messages whose purpose has an actor here, in log order.

    `durable` says whether the broker keeps messages across restarts. The in-memory broker
    does not, so when this relay takes over it un-marks every sent message that has no
    receipt yet, and sends those again.
    """

    def __init__(
        self,
        db: ViewDatabase,
        send: Callable[[Delivery], None],
        purposes: Collection[str],
        *,
        durable: bool,
        head: Callable[[], int] = lambda: 0,
        wait_for_view: Callable[[int, float], bool] | None = None,
        batch: int = 100,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.send = send
        self.purposes = frozenset(purposes)
        self.durable = durable
        self.head = head
        self.wait_for_view = wait_for_view
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.wake = threading.Event()
        # Everything up to here (position, message id) is sent: no query rescans it.
        self._after = START

    def pending(self) -> list[Delivery]:
        """The next batch of unsent messages, oldest first."""
        return [delivery for _, delivery in self._next_batch()]

    def _next_batch(self) -> list[tuple[int, Delivery]]:
        with self.db.read() as tx:
            rows = unsent_messages(
                tx, current_tables(tx, VIEW), self.purposes, self._after, self.batch
            )
        return [
            (int(r["position"]), Delivery(r["message_id"], r["purpose"], loads(r["payload"])))
            for r in rows
        ]

    def relay_once(self) -> int:
        """Send one batch, then mark what was sent; the number sent."""
        sent: list[str] = []
        last = self._after
        try:
            for position, delivery in self._next_batch():
                self.send(delivery)
                sent.append(delivery.message_id)
                last = (position, delivery.message_id)
        finally:
            if sent:
                self.mark_sent(sent, last[0])
                self._after = last
        return len(sent)

    def mark_sent(self, message_ids: list[str], position: int | None = None) -> None:
        with self.db.write() as tx:
            mark_sent(tx, message_ids, iso(datetime.now(UTC)))
            if position is not None:
                mark_relayed(tx, position)

    def take_over(self) -> None:
        """Start from the oldest unsent message (after a restart, or a claim won)."""
        self._after = START
        with self.db.write() as tx:
            tx.execute(RELAYED_DDL)  # An install older than the mark has no table for it.
        if not self.durable:
            with self.db.write() as tx:
                mark_relayed(tx, 0)  # What is un-marked below comes before the mark.
                # The in-memory queue died with the process that held it.
                tx.execute(
                    "DELETE FROM outbox_sent WHERE NOT EXISTS (SELECT 1 FROM worker_receipts r"
                    " WHERE r.message_id = outbox_sent.message_id)"
                )

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop`: woken by commits (after the outbox view catches up), or every
        `poll_seconds`."""
        claim = RelayClaim(self.db)
        held = False
        woken = False
        failures = 0
        try:
            while not stop.is_set():
                try:
                    if claim.claim():
                        if not held:
                            self.take_over()
                            held = True
                        if woken and self.wait_for_view is not None:
                            self.wait_for_view(self.head(), 2.0)
                        while self.relay_once():
                            pass
                    failures = 0
                except Exception:
                    # A broker or database that is away must not end the relay: back off and
                    # start again from the oldest unsent message.
                    failures += 1
                    log.exception("outbox relay failed (attempt %d); retrying", failures)
                    claim.reset()
                    held = False
                    stop.wait(min(30.0, 0.5 * 2**failures))
                    continue
                woken = self.wake.wait(self.poll_seconds)
                self.wake.clear()
        finally:
            claim.release()

    def listen(self, channel: str, stop: threading.Event) -> None:
        """Wake the relay on PostgreSQL NOTIFY from the event store's inserts (any process)."""
        listen(self.db, channel, stop, self.wake)


class RelayClaim(AdvisoryClaims):
    """One active relay per install (an advisory lock on PostgreSQL; always on SQLite)."""

    def __init__(self, db: ViewDatabase) -> None:
        super().__init__(db, "relay")

    def claim(self, name: str = "outbox") -> bool:
        return super().claim(name)
