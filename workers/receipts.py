"""Receipts: which messages an actor has finished, so that a redelivered one is skipped.

Delivery is at least once (the relay re-sends after a crash between send and mark; a
broker redelivers after a worker dies mid-message). A receipt is recorded after the
actor's effect succeeds, so the effect itself must also be idempotent in the write model
(for example an aggregate id derived from the message id) to cover a crash between the
effect and its receipt, and a duplicate running at the same moment in another process.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime

from projections.base import iso
from projections.db import Tx, ViewDatabase

RECEIPTS_DDL = (
    "CREATE TABLE IF NOT EXISTS worker_receipts ("
    " message_id TEXT PRIMARY KEY, purpose TEXT NOT NULL, done_at TEXT NOT NULL)"
)
STRIPES = 64
log = logging.getLogger("ledgerdesk.workers")


class Receipts:
    """The `worker_receipts` table, in the view database."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        # Duplicates of one message in this process take turns, so the second is skipped.
        self._locks = [threading.Lock() for _ in range(STRIPES)]

    @staticmethod
    def create(tx: Tx) -> None:
        tx.execute(RECEIPTS_DDL)

    def done(self, message_id: str) -> bool:
        with self.db.read() as tx:
            row = tx.one("SELECT 1 FROM worker_receipts WHERE message_id = ?", (message_id,))
        return row is not None

    def record(self, message_id: str, purpose: str) -> None:
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO worker_receipts (message_id, purpose, done_at) VALUES (?, ?, ?)"
                " ON CONFLICT (message_id) DO NOTHING",
                (message_id, purpose, iso(datetime.now(UTC))),
            )

    def once(self, message_id: str, purpose: str, effect: Callable[[], None]) -> bool:
        """Run `effect` unless `message_id` has a receipt, then record one; False when
        skipped. An effect that raises records nothing, so the broker's retry runs it again."""
        with self._locks[zlib.crc32(message_id.encode()) % STRIPES]:
            if self.done(message_id):
                log.info("skipping %s: already done", message_id)
                return False
            effect()
            self.record(message_id, purpose)
            return True

    def forget(self, prefix: str, before: datetime) -> None:
        """Drop receipts of messages whose id starts with `prefix`, done before `before`."""
        with self.db.write() as tx:
            tx.execute(
                "DELETE FROM worker_receipts WHERE substr(message_id, 1, ?) = ? AND done_at < ?",
                (len(prefix), prefix, iso(before)),
            )
