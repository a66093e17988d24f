"""Status board view: reads the item events of tickets and tasks (opened or planned, title,
status, priority, assignees, place, points, conversion); shows a card per item
(`status_board_cards`) and how many cards each column holds (`status_board_counts`).

A converted ticket's card leaves the board: the task it became has its own. The same pure
fold (`evolve`) serves the projection and the card a move answers with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.task import DEFAULT_TASK_LIFECYCLE
from domain.values import DEFAULT_TICKET_LIFECYCLE, Lifecycle
from projections.base import (
    InvalidCursorError,
    Positioned,
    Projection,
    Tables,
    decode_cursor,
    dumps,
    encode_cursor,
    loads,
    topic_name,
)
from projections.db import Row, Tx, cached_rows

LIFECYCLES: dict[str, Lifecycle] = {
    "ticket": DEFAULT_TICKET_LIFECYCLE,
    "task": DEFAULT_TASK_LIFECYCLE,
}
# Cards run from the most urgent down, then by number: `priority_order` 0 is urgent.
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
CARD_COLUMNS = (
    "id",
    "number",
    "kind",
    "project_id",
    "title",
    "status",
    "state",
    "priority",
    "priority_order",
    "points",
    "assignees",
)


@dataclass
class BoardCard:
    """One item on the board."""

    id: str
    number: int
    kind: str
    project_id: str
    title: str
    status: str
    state: str
    priority: str
    points: float | None
    assignees: list[str]

    @property
    def column(self) -> tuple[str, str, str]:
        return (self.project_id, self.kind, self.status)

    def row(self) -> tuple[Any, ...]:
        values = dict(vars(self))  # Flat fields: no deep copy (asdict) per card and page.
        values["priority_order"] = PRIORITY_ORDER[self.priority]
        values["assignees"] = dumps(self.assignees)
        return tuple(values[c] for c in CARD_COLUMNS)

    @classmethod
    def from_row(cls, row: Row) -> BoardCard:
        values = {c: row[c] for c in CARD_COLUMNS if c != "priority_order"}
        values["assignees"] = loads(row["assignees"])
        return cls(**values)

    def shown(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "title": self.title,
            "status": self.status,
            "state": self.state,
            "priority": self.priority,
            "points": self.points,
            "assignees": self.assignees,
        }


# Cards by item id; None marks a card that left the board (a converted ticket).
Cards = dict[str, BoardCard | None]
Fold = Callable[[BoardCard, Any], None]


def _created(kind: str) -> Callable[[Cards, Any], None]:
    def apply(cards: Cards, e: Any) -> None:
        carried = getattr(e, "carried", None) or {}
        cards[str(e.originator_id)] = BoardCard(
            id=str(e.originator_id),
            number=e.number,
            kind=kind,
            project_id=e.project_id,
            title=e.title,
            status=e.status,
            state=e.state,
            priority=e.priority,
            points=getattr(e, "points", None),
            assignees=sorted(set(carried.get("assignees", []))),
        )

    return apply


def _set(*fields: str) -> Fold:
    def apply(card: BoardCard, e: Any) -> None:
        for name in fields:
            setattr(card, name, getattr(e, name))

    return apply


def _assignee(added: bool) -> Fold:
    def apply(card: BoardCard, e: Any) -> None:
        people = set(card.assignees)
        if added:
            people.add(e.user_id)
        else:
            people.discard(e.user_id)
        card.assignees = sorted(people)

    return apply


CREATED = {"Ticket.Opened": _created("ticket"), "Task.Planned": _created("task")}
FOLDS: dict[str, Fold] = {
    "Ticket.Retitled": _set("title"),
    "Ticket.StatusChanged": _set("status", "state"),
    "Ticket.Reprioritised": _set("priority"),
    "Ticket.UserAssigned": _assignee(added=True),
    "Ticket.UserUnassigned": _assignee(added=False),
    "Ticket.Moved": _set("project_id"),
    "Task.PointsEstimated": _set("points"),
}
REMOVED = "Ticket.ConvertedToTask"
READS = frozenset({*CREATED, *FOLDS, REMOVED})


def evolve(cards: Cards, event: Any) -> None:
    """Apply one item event to the cards (in place)."""
    name = topic_name(event)
    item = str(event.originator_id)
    if name in CREATED:
        CREATED[name](cards, event)
    elif name == REMOVED:
        cards[item] = None
    else:
        card = cards.get(item)
        if card is not None:
            FOLDS[name](card, event)


def card_of(events: Iterable[Any]) -> BoardCard | None:
    """One item's card from its events (None if it is not on the board)."""
    cards: Cards = {}
    item = None
    for event in events:
        item = str(event.originator_id)
        if topic_name(event) in READS:
            evolve(cards, event)
    return cards.get(item) if item else None


class StatusBoardProjection(Projection):
    """Reads tickets' and tasks' item events; shows a card per item in its status column
    (`status_board_cards`) and each column's card count (`status_board_counts`)."""

    name = "status_board"
    indexes_after_build = True  # (apply reads by primary key only)
    tables = ("status_board_cards", "status_board_counts")
    topics = frozenset(f"ledgerdesk:{name}" for name in READS)

    def create(self, tx: Tx, t: Tables) -> None:
        cards = t["status_board_cards"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {cards} ("
            " id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL,"
            " project_id TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,"
            " state TEXT NOT NULL, priority TEXT NOT NULL, priority_order INTEGER NOT NULL,"
            " points DOUBLE PRECISION, assignees TEXT NOT NULL)"
        )
        # One column's cards in board order: a page is one index range.
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {cards}_column"
            f" ON {cards} (project_id, kind, status, priority_order, number)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['status_board_counts']} ("
            " project_id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,"
            " cards INTEGER NOT NULL, PRIMARY KEY (project_id, kind, status))"
        )

    def key_columns(self, base: str) -> str:
        return "id" if base == "status_board_cards" else "project_id, kind, status"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        table = t["status_board_cards"]
        ids = {str(p.event.originator_id) for p in events}
        created = {str(p.event.originator_id) for p in events if topic_name(p.event) in CREATED}
        # The page's cards, read in one statement per 500 (while rebuilding, only those the
        # rebuild does not hold in memory).
        cards: Cards = cached_rows(tx, table, ids, lambda keys: _read(tx, table, keys), created)
        stored = set(cards)
        before = Counter(card.column for card in cards.values() if card is not None)
        for p in events:
            evolve(cards, p.event)
        _save(tx, table, cards, stored)
        after = Counter(card.column for card in cards.values() if card is not None)
        _count(tx, t, before, after)


def _read(tx: Tx, table: str, ids: list[str]) -> Cards:
    cards: Cards = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in tx.all(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk):
            cards[row["id"]] = BoardCard.from_row(row)
    return cards


def _save(tx: Tx, table: str, cards: Cards, stored: set[str]) -> None:
    """Delete the cards gone, insert the new ones, update those `stored` before."""
    gone = sorted(item for item, card in cards.items() if card is None)
    if gone:
        tx.execute(f"DELETE FROM {table} WHERE id IN ({','.join('?' * len(gone))})", gone)
    kept = {item: card for item, card in sorted(cards.items()) if card is not None}
    for item, card in kept.items():
        if item not in stored:  # New: while rebuilding, a row of a COPY.
            tx.insert_row(table, dict(zip(CARD_COLUMNS, card.row(), strict=True)))
    updated = [card.row() for item, card in kept.items() if item in stored]
    if updated:
        updates = ", ".join(f"{c} = excluded.{c}" for c in CARD_COLUMNS[1:])
        tx.executemany(
            f"INSERT INTO {table} ({', '.join(CARD_COLUMNS)})"
            f" VALUES ({','.join('?' * len(CARD_COLUMNS))})"
            f" ON CONFLICT (id) DO UPDATE SET {updates}",
            updated,
        )
    if (cache := tx.row_cache(table)) is not None:
        cache.forget(gone)
        cache.keep(kept)


def _count(tx: Tx, t: Tables, before: Counter[Any], after: Counter[Any]) -> None:
    """Move the column counts by what this page changed; an empty column has no row, so
    the counts never depend on how the log was cut into pages."""
    table = t["status_board_counts"]
    changes = sorted(
        (column, after[column] - before[column])
        for column in before.keys() | after.keys()
        if after[column] != before[column]
    )
    if not changes:
        return
    tx.executemany(
        f"INSERT INTO {table} (project_id, kind, status, cards) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (project_id, kind, status)"
        f" DO UPDATE SET cards = {table}.cards + excluded.cards",
        [(*column, delta) for column, delta in changes],
    )
    tx.execute(f"DELETE FROM {table} WHERE cards = 0")


# --- queries ------------------------------------------------------------------------------


def _columns(
    tx: Tx,
    t: Tables,
    project_id: str,
    kind: str,
    lifecycle: Lifecycle | None,
    others: Sequence[str] = (),
) -> list[tuple[str, str, int]]:
    """(status, state, cards) per column: the lifecycle's statuses in order (the kind's type
    as configured; default: the shipped ones), then any other status an item holds (one of
    another type of the kind, in `others`' order; then one no type has now, by name)."""
    counts = {
        r["status"]: r["cards"]
        for r in tx.all(
            f"SELECT status, cards FROM {t['status_board_counts']}"
            " WHERE project_id = ? AND kind = ?",
            (project_id, kind),
        )
    }
    statuses = (lifecycle or LIFECYCLES[kind]).statuses
    columns = [(s.name, s.state.value, counts.pop(s.name, 0)) for s in statuses]
    rank = {name: i for i, name in enumerate(others)}
    for status in sorted(counts, key=lambda name: (rank.get(name, len(rank)), name)):
        row = tx.one(
            f"SELECT state FROM {t['status_board_cards']}"
            " WHERE project_id = ? AND kind = ? AND status = ? LIMIT 1",
            (project_id, kind, status),
        )
        columns.append((status, row["state"] if row else "", counts[status]))
    return columns


def _cards(
    tx: Tx,
    t: Tables,
    project_id: str,
    kind: str,
    status: str,
    after: tuple[int, int] | None,
    limit: int,
) -> tuple[list[BoardCard], str | None]:
    where = "project_id = ? AND kind = ? AND status = ?"
    params: list[Any] = [project_id, kind, status]
    if after is not None:
        where += " AND (priority_order, number) > (?, ?)"  # one index range, both backends
        params += [after[0], after[1]]
    rows = tx.all(
        f"SELECT * FROM {t['status_board_cards']} WHERE {where}"
        " ORDER BY priority_order, number LIMIT ?",
        (*params, limit + 1),
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            project_id, kind, status, last["priority_order"], last["number"]
        )
    return [BoardCard.from_row(r) for r in rows], next_cursor


def _after(cursor: str, project_id: str, kind: str) -> tuple[str, tuple[int, int]]:
    made_for_project, made_for_kind, status, order, number = decode_cursor(cursor, 5)
    if (made_for_project, made_for_kind) != (project_id, kind):
        raise InvalidCursorError("cursor was made for another board")
    if not isinstance(status, str) or not isinstance(order, int) or not isinstance(number, int):
        raise InvalidCursorError("cursor is not valid")
    return status, (order, number)


def board(
    tx: Tx,
    t: Tables,
    project_id: str,
    kind: str,
    limit: int,
    status: str | None = None,
    cursor: str | None = None,
    lifecycle: Lifecycle | None = None,
    others: Sequence[str] = (),
) -> dict[str, Any]:
    """The project's board for one item kind: a column per status with its card count and
    first `limit` cards (urgent first, then by number) and the cursor of the next cards.
    With `status` only that column; with a column's `cursor` only that column's next cards."""
    after = None
    if cursor is not None:
        status, after = _after(cursor, project_id, kind)
    columns = []
    for name, state, count in _columns(tx, t, project_id, kind, lifecycle, others):
        if status is not None and name.casefold() != status.casefold():
            continue
        cards, next_cursor = (
            _cards(tx, t, project_id, kind, name, after, limit) if count else ([], None)
        )
        columns.append(
            {
                "status": name,
                "state": state,
                "count": count,
                "cards": [card.shown() for card in cards],
                "next_cursor": next_cursor,
            }
        )
    return {"project_id": project_id, "kind": kind, "columns": columns}
