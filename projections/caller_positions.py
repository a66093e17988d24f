"""Each caller's last write position, kept in the view database so that any API process
can make that caller's reads wait for it (read-your-writes without a client header).

Not a view: nothing here follows the log. A caller is a hash of its credential (never the
credential); rows are written by the API as writes answer and expire after a day.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from projections.db import Tx, ViewDatabase

TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS caller_positions ("
    " caller TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL,"
    " written_at BIGINT NOT NULL)"
)
# Expiry deletes by age through this index: no scan of the table.
INDEX_DDL = (
    "CREATE INDEX IF NOT EXISTS caller_positions_written_at ON caller_positions (written_at)"
)
# Portable upsert that never lowers a position (two writes of one caller may answer out of
# order; the later answer may carry the earlier position).
UPSERT = (
    "INSERT INTO caller_positions (caller, position, written_at) VALUES (?, ?, ?)"
    " ON CONFLICT (caller) DO UPDATE SET"
    " position = CASE WHEN excluded.position > caller_positions.position"
    " THEN excluded.position ELSE caller_positions.position END,"
    " written_at = excluded.written_at"
)
KEEP_SECONDS = 24 * 3600  # A write a day old is long in every view (or the views are stuck).
EXPIRE_EVERY_SECONDS = 600


def migrate(db: ViewDatabase) -> None:
    """Create the table and its expiry index (run by `ledgerdesk migrate`)."""
    with db.write() as tx:
        tx.execute(TABLE_DDL)
        tx.execute(INDEX_DDL)


def lookup(tx: Tx, caller: str, views: Sequence[str]) -> tuple[int | None, int | None]:
    """The caller's last write position (None if it has none) and the least position the
    named views have reached, in one statement (one round trip)."""
    marks = ", ".join("?" for _ in views) or "NULL"
    row = tx.one(
        "SELECT (SELECT position FROM caller_positions WHERE caller = ?) AS mine,"
        " (SELECT MIN(position) FROM projection_tracking"
        f" WHERE is_current = 1 AND view IN ({marks})) AS reached",
        (caller, *views),
    )
    assert row is not None
    mine, reached = row["mine"], row["reached"]
    return (None if mine is None else int(mine), None if reached is None else int(reached))


class CallerPositions:
    """Records callers' write positions (keeping the highest) and looks them up."""

    def __init__(self, db: ViewDatabase, clock: Callable[[], float]) -> None:
        self.db = db
        self.clock = clock
        self._lock = threading.Lock()
        self._next_expiry = 0.0

    def record(self, caller: str, position: int) -> None:
        """Remember that `caller` wrote at `position` (one upsert; now and then, in the
        same transaction, the rows older than a day go)."""
        now = self.clock()
        with self.db.write() as tx:
            if tx.dialect == "postgres":
                # Visible to every session at commit either way; only durability is given
                # up, and a position lost in a database crash only means one read not waiting.
                tx.execute("SET LOCAL synchronous_commit = off")
            tx.execute(UPSERT, (caller, position, int(now)))
            if self._expiry_due(now):
                tx.execute(
                    "DELETE FROM caller_positions WHERE written_at < ?", (int(now) - KEEP_SECONDS,)
                )

    def lookup(self, caller: str, views: Sequence[str]) -> tuple[int | None, int | None]:
        with self.db.read() as tx:
            return lookup(tx, caller, views)

    def _expiry_due(self, now: float) -> bool:
        # Once per process every ten minutes: other processes expire rows as well, and a
        # row kept a little longer costs nothing but its bytes.
        with self._lock:
            if now < self._next_expiry:
                return False
            self._next_expiry = now + EXPIRE_EVERY_SECONDS
            return True
