"""Which staff members who take chats are on duty now: those with a staff stream open
(`GET /api/v1/me/stream`) in any API process, kept in the view database.

Not a view: nothing here follows the log, and presence is never an event. Each API process
refreshes its streams' rows every `REFRESH_SECONDS` and removes a user's row when their
last stream there closes; a process that died leaves rows that go stale after
`STALE_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Collection

from projections.db import ViewDatabase

TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS stream_presence ("
    " user_id TEXT NOT NULL, process TEXT NOT NULL, seen_at DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY (user_id, process))"
)
UPSERT = (
    "INSERT INTO stream_presence (user_id, process, seen_at) VALUES (?, ?, ?)"
    " ON CONFLICT (user_id, process) DO UPDATE SET seen_at = excluded.seen_at"
)
REFRESH_SECONDS = 15.0
STALE_SECONDS = 45.0


def migrate(db: ViewDatabase) -> None:
    """Create the table (run by `ledgerdesk migrate`)."""
    with db.write() as tx:
        tx.execute(TABLE_DDL)


def seen(db: ViewDatabase, process: str, user_ids: Collection[str], at: float) -> None:
    """`user_ids` have a stream open in `process` at `at`."""
    if user_ids:
        with db.write() as tx:
            tx.executemany(UPSERT, [(u, process, at) for u in sorted(user_ids)])


def gone(db: ViewDatabase, process: str, user_id: str) -> None:
    """`user_id`'s last stream in `process` closed."""
    with db.write() as tx:
        tx.execute(
            "DELETE FROM stream_presence WHERE user_id = ? AND process = ?", (user_id, process)
        )


def on_duty(db: ViewDatabase, now: float) -> bool:
    """Whether anyone who takes chats has a stream open (seen within `STALE_SECONDS`)."""
    with db.read() as tx:
        found = tx.one(
            "SELECT 1 AS yes FROM stream_presence WHERE seen_at > ? LIMIT 1",
            (now - STALE_SECONDS,),
        )
    return found is not None
