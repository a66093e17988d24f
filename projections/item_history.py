"""Item history view: reads every Ticket event; shows each item's events in log order
with who did what, when, and the fields it changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.item_numbers import item_id
from domain.logged_time import TimeImported
from domain.mail.on_items import MailBounced, MailNotSent, MailReceived
from domain.reading import MessagesRead
from domain.task import Task
from domain.ticket import Ticket
from projections.base import (
    InvalidCursorError,
    Positioned,
    Projection,
    Tables,
    decode_cursor,
    dumps,
    encode_cursor,
    event_fields,
    iso,
    loads,
    topic_name,
    topics_of,
)
from projections.db import Tx


class ItemHistoryProjection(Projection):
    """Reads Ticket and Task events; shows one row per event (`item_history_entries`)."""

    name = "item_history"
    indexes_after_build = True  # (apply reads by primary key only)
    tables = ("item_history_entries",)
    topics = (
        topics_of(Ticket)
        | topics_of(Task)
        | {TimeImported.TOPIC, MailReceived.TOPIC, MailBounced.TOPIC}
        | {MailNotSent.TOPIC, MessagesRead.TOPIC}
    )

    def create(self, tx: Tx, t: Tables) -> None:
        table = t["item_history_entries"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " position BIGINT PRIMARY KEY, item_id TEXT NOT NULL, version INTEGER NOT NULL,"
            " type TEXT NOT NULL, occurred_at TEXT NOT NULL, actor TEXT NOT NULL,"
            " correlation_id TEXT NOT NULL, changes TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_item ON {table} (item_id, position)")

    def key_columns(self, base: str) -> str:
        return "position"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        tx.executemany(
            f"INSERT INTO {t['item_history_entries']} (position, item_id, version, type,"
            " occurred_at, actor, correlation_id, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    p.position,
                    str(p.event.originator_id),
                    p.event.originator_version,
                    topic_name(p.event),
                    iso(p.event.timestamp),
                    p.event.actor,
                    p.event.correlation_id,
                    dumps(event_fields(p.event)),
                )
                for p in events
            ],
        )


def history_of(
    tx: Tx, t: Tables, doc: dict[str, Any], after: int = 0, limit: int | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the history of the item `doc` shows (a `ticket_detail` document), in log
    order after position `after`, and the cursor of the next page (None on the last). A task
    converted from a ticket began as that ticket, so its history begins with the ticket's."""
    ids = [str(item_id(doc["number"]))]
    if doc.get("converted_from_ticket") is not None:
        ids.append(str(item_id(doc["converted_from_ticket"])))
    marks = ", ".join("?" for _ in ids)
    page = f" LIMIT {int(limit) + 1}" if limit is not None else ""
    rows = tx.all(
        f"SELECT position, type, occurred_at, actor, correlation_id, changes"
        f" FROM {t['item_history_entries']} WHERE item_id IN ({marks}) AND position > ?"
        f" ORDER BY position{page}",
        (*ids, after),
    )
    following = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        following = encode_cursor(rows[-1]["position"])
    for row in rows:
        row["changes"] = loads(row["changes"])
    return rows, following


def history_cursor(cursor: str | None) -> int:
    """The position a history cursor continues after (0: from the start)."""
    if cursor is None:
        return 0
    (position,) = decode_cursor(cursor, 1)
    if not isinstance(position, int):
        raise InvalidCursorError("cursor is not valid")
    return position
