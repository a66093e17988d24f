"""IMAP polling's own tables, in the view database: how far each mailbox's folder has been
taken in (`imap_progress`) and each mailbox's last poll (`imap_polls`).

Not a view: nothing here follows the log, so rebuilding views never touches these rows. The
IMAP poller (`workers.mail.imap`) writes them; the mailboxes API reads the last poll.

Progress is kept per mailbox, account (user, host, port and folder) and UIDVALIDITY: a UID
means nothing once the server changes its folder's UIDVALIDITY, nor in another account's
folder that happens to have the same one.
"""

from __future__ import annotations

from typing import Any

from projections.db import Tx, ViewDatabase

PROGRESS_DDL = (
    "CREATE TABLE IF NOT EXISTS imap_progress ("
    " mailbox_id TEXT NOT NULL, account TEXT NOT NULL, uidvalidity BIGINT NOT NULL,"
    " last_uid BIGINT NOT NULL, updated_at TEXT NOT NULL,"
    " PRIMARY KEY (mailbox_id, account, uidvalidity))"
)
POLLS_DDL = (
    "CREATE TABLE IF NOT EXISTS imap_polls ("
    " mailbox_id TEXT PRIMARY KEY, version INTEGER, started_at DOUBLE PRECISION,"
    " busy_until DOUBLE PRECISION, polled_at TEXT, error TEXT)"
)
# Never lowers the mark: two polls of one folder may finish out of order.
ADVANCE = (
    "INSERT INTO imap_progress (mailbox_id, account, uidvalidity, last_uid, updated_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (mailbox_id, account, uidvalidity) DO UPDATE SET"
    " last_uid = CASE WHEN excluded.last_uid > imap_progress.last_uid"
    " THEN excluded.last_uid ELSE imap_progress.last_uid END,"
    " updated_at = excluded.updated_at"
)


def migrate(db: ViewDatabase) -> None:
    """Create both tables (run by `ledgerdesk migrate`)."""
    with db.write() as tx:
        tx.execute(PROGRESS_DDL)
        tx.execute(POLLS_DDL)


def claim(
    db: ViewDatabase,
    mailbox_id: str,
    version: int,
    *,
    now: float,
    every: float,
    lease: float,
    force: bool = False,
) -> bool:
    """Take the mailbox's next poll: True when it is due (its interval has passed since
    the last one started, its account changed, or `force`) and no poll holds it; it is then
    held until `release` or for `lease` seconds (a poller that died lets go)."""
    with db.write() as tx:
        tx.execute(
            "INSERT INTO imap_polls (mailbox_id) VALUES (?) ON CONFLICT (mailbox_id) DO NOTHING",
            (mailbox_id,),
        )
        row = tx.one(
            f"SELECT version, started_at, busy_until FROM imap_polls WHERE mailbox_id = ?"
            f"{tx.for_update}",
            (mailbox_id,),
        )
        assert row is not None
        if row["busy_until"] is not None and row["busy_until"] > now:
            return False
        started = row["started_at"]
        due = force or row["version"] != version or started is None or now - started >= every
        if due:
            tx.execute(
                "UPDATE imap_polls SET version = ?, started_at = ?, busy_until = ?"
                " WHERE mailbox_id = ?",
                (version, now, now + lease, mailbox_id),
            )
        return due


def release(db: ViewDatabase, mailbox_id: str, polled_at: str, error: str | None) -> None:
    """The poll is over: when, and what went wrong (None: nothing)."""
    with db.write() as tx:
        tx.execute(
            "UPDATE imap_polls SET busy_until = NULL, polled_at = ?, error = ?"
            " WHERE mailbox_id = ?",
            (polled_at, error, mailbox_id),
        )


def last_uid(db: ViewDatabase, mailbox_id: str, account: str, uidvalidity: int) -> int:
    """The highest UID below which every message of the folder has been taken in (0: none)."""
    with db.read() as tx:
        row = tx.one(
            "SELECT last_uid FROM imap_progress"
            " WHERE mailbox_id = ? AND account = ? AND uidvalidity = ?",
            (mailbox_id, account, uidvalidity),
        )
    return int(row["last_uid"]) if row else 0


def advance(
    db: ViewDatabase, mailbox_id: str, account: str, uidvalidity: int, uid: int, at: str
) -> None:
    with db.write() as tx:
        tx.execute(ADVANCE, (mailbox_id, account, uidvalidity, uid, at))


def last_polls(tx: Tx) -> dict[str, dict[str, Any]]:
    """Each mailbox's last finished poll: `polled_at` and `error` (None when it went well)."""
    rows = tx.all("SELECT mailbox_id, polled_at, error FROM imap_polls")
    return {r["mailbox_id"]: {"polled_at": r["polled_at"], "error": r["error"]} for r in rows}
