"""Quarantine view: reads QuarantinedMail events; shows every held message with why, and
what staff did with it (released: processed; discarded: with who and why)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from domain.mail.quarantine import QuarantinedMail
from projections.base import (
    InvalidCursorError,
    Positioned,
    Projection,
    Tables,
    decode_cursor,
    encode_cursor,
    iso,
    topics_of,
)
from projections.db import Tx

Doc = dict[str, Any]
COLUMNS = (
    "id, raw_sha256, size, recipient, reason, detail, sender, subject, message_id, state,"
    " held_at, settled_at, settled_by, why, outcome, number, version, position"
)


def _held(tx: Tx, t: Tables, p: Positioned) -> None:
    e = p.event
    tx.execute(
        f"INSERT INTO {t['mail_quarantine']} ({COLUMNS}) VALUES"
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, 'held', ?, NULL, NULL, NULL, NULL, NULL, ?, ?)",
        (
            str(e.originator_id),
            e.raw_sha256,
            e.size,
            e.recipient,
            e.reason,
            e.detail,
            e.sender,
            e.subject,
            e.message_id,
            iso(e.timestamp),
            e.originator_version,
            p.position,
        ),
    )


def _settled(state: str) -> Callable[[Tx, Tables, Positioned], None]:
    def apply(tx: Tx, t: Tables, p: Positioned) -> None:
        e = p.event
        tx.execute(
            f"UPDATE {t['mail_quarantine']} SET state = ?, settled_at = ?, settled_by = ?,"
            " why = ?, outcome = ?, number = ?, version = ? WHERE id = ?",
            (
                state,
                iso(e.timestamp),
                e.actor,
                getattr(e, "why", None),
                getattr(e, "outcome", None),
                getattr(e, "number", None),
                e.originator_version,
                str(e.originator_id),
            ),
        )

    return apply


CHANGES: dict[str, Callable[[Tx, Tables, Positioned], None]] = {
    "ledgerdesk:QuarantinedMail.Held": _held,
    "ledgerdesk:QuarantinedMail.Released": _settled("released"),
    "ledgerdesk:QuarantinedMail.Discarded": _settled("discarded"),
}


class MailQuarantineProjection(Projection):
    """Reads QuarantinedMail events; shows one row per held message (`mail_quarantine`)."""

    name = "mail_quarantine"
    tables = ("mail_quarantine",)
    topics = topics_of(QuarantinedMail)

    def create(self, tx: Tx, t: Tables) -> None:
        table = t["mail_quarantine"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " id TEXT PRIMARY KEY, raw_sha256 TEXT NOT NULL, size BIGINT NOT NULL,"
            " recipient TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,"
            " sender TEXT NOT NULL, subject TEXT NOT NULL, message_id TEXT NOT NULL,"
            " state TEXT NOT NULL, held_at TEXT NOT NULL, settled_at TEXT, settled_by TEXT,"
            " why TEXT, outcome TEXT, number BIGINT, version INTEGER NOT NULL,"
            " position BIGINT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_state ON {table} (state, position)")

    def key_columns(self, base: str) -> str:
        return "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            change = CHANGES.get(_topic(p.event))
            if change is not None:
                change(tx, t, p)


def _topic(event: Any) -> str:
    return str(getattr(type(event), "TOPIC", ""))


def _shown(row: Doc) -> Doc:
    return {k: row[k] for k in row if k != "position"}


def list_quarantine(
    tx: Tx, t: Tables, state: str | None, cursor: str | None, limit: int
) -> tuple[list[Doc], str | None]:
    """Held messages, newest first, a page at a time (`state`: held, released, discarded)."""
    where: list[str] = []
    params: list[Any] = []
    if state is not None:
        where.append("state = ?")
        params.append(state)
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, int):
            raise InvalidCursorError("cursor is not valid")
        where.append("position < ?")
        params.append(last)
    sql = f"SELECT {COLUMNS} FROM {t['mail_quarantine']}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = tx.all(sql + " ORDER BY position DESC LIMIT ?", (*params, limit + 1))
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        following = encode_cursor(rows[-1]["position"])
    return [_shown(r) for r in rows], following


def get_quarantined(tx: Tx, t: Tables, entry_id: str) -> Doc | None:
    row = tx.one(f"SELECT {COLUMNS} FROM {t['mail_quarantine']} WHERE id = ?", (entry_id,))
    return _shown(row) if row else None
