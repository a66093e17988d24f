"""Mailbox view: reads Mailbox events; shows each address mail comes in on, where it goes and
the IMAP account it is fetched from (never its password, sealed or not)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.mail.mailbox import Mailbox
from projections.base import Positioned, Projection, Tables, dumps, iso, loads, topics_of
from projections.db import Tx

Doc = dict[str, Any]
ROUTE = (
    "name",
    "project_id",
    "folder_id",
    "team_id",
    "priority",
    "cc_become_followers",
    "acknowledge",
)
COLUMNS = "id, address, " + ", ".join(ROUTE) + ", imap, version, created_at, updated_at"


class MailboxProjection(Projection):
    """Reads Mailbox events; shows one row per live mailbox (`mailboxes`), its IMAP account
    as a JSON document without the password."""

    name = "mailboxes"
    tables = ("mailboxes",)
    topics = topics_of(Mailbox)
    schema_version = 2  # 2: the IMAP account.

    def create(self, tx: Tx, t: Tables) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['mailboxes']} ("
            " id TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
            " project_id TEXT NOT NULL, folder_id TEXT, team_id TEXT, priority TEXT NOT NULL,"
            " cc_become_followers INTEGER NOT NULL, acknowledge INTEGER NOT NULL, imap TEXT,"
            " version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )

    def key_columns(self, base: str) -> str:
        return "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        table = t["mailboxes"]
        for p in events:
            e = p.event
            kind = str(getattr(type(e), "TOPIC", "")).rpartition(".")[2]
            at, mailbox_id = iso(e.timestamp), str(e.originator_id)
            if kind == "Removed":
                tx.execute(f"DELETE FROM {table} WHERE id = ?", (mailbox_id,))
                continue
            if kind in ("ImapConfigured", "ImapStopped"):
                imap = dumps(e.imap) if kind == "ImapConfigured" else None
                tx.execute(
                    f"UPDATE {table} SET imap = ?, version = ?, updated_at = ? WHERE id = ?",
                    (imap, e.originator_version, at, mailbox_id),
                )
                continue
            if kind not in ("Added", "Routed", "Readded"):
                continue
            route = [e.route[f] for f in ROUTE]
            route[5], route[6] = int(route[5]), int(route[6])
            if kind == "Routed":
                sets = ", ".join(f"{f} = ?" for f in ROUTE)
                tx.execute(
                    f"UPDATE {table} SET {sets}, version = ?, updated_at = ? WHERE id = ?",
                    (*route, e.originator_version, at, mailbox_id),
                )
                continue
            tx.execute(
                f"INSERT INTO {table} ({COLUMNS}) VALUES ({', '.join('?' * 13)})",
                (mailbox_id, e.address, *route, None, e.originator_version, at, at),
            )


def _shown(row: Doc) -> Doc:
    imap = row["imap"]
    return {
        **row,
        "cc_become_followers": bool(row["cc_become_followers"]),
        "acknowledge": bool(row["acknowledge"]),
        # An account is only ever set up with a password (see `Mailbox.configure_imap`).
        "imap": None if imap is None else {**loads(imap), "password_set": True},
    }


def list_mailboxes(tx: Tx, t: Tables) -> list[Doc]:
    """Every mailbox, by address (there are few)."""
    return [_shown(r) for r in tx.all(f"SELECT {COLUMNS} FROM {t['mailboxes']} ORDER BY address")]


def get_mailbox(tx: Tx, t: Tables, mailbox_id: str) -> Doc | None:
    row = tx.one(f"SELECT {COLUMNS} FROM {t['mailboxes']} WHERE id = ?", (mailbox_id,))
    return _shown(row) if row else None


def imap_mailbox_ids(tx: Tx, t: Tables) -> list[str]:
    """The mailboxes fetched from an IMAP account, by address."""
    rows = tx.all(f"SELECT id FROM {t['mailboxes']} WHERE imap IS NOT NULL ORDER BY address")
    return [r["id"] for r in rows]
