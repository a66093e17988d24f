"""Item changes view: reads the Ticket and Task events that change an item's tracked fields;
shows one row per change (`item_changes`) with each field's value before and after, the
kind of change and its cause (`domain.changes`), for "what changed between two dates".
`item_change_state` keeps each item's tracked fields as of the last event read, so that
each change knows what came before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.changes import CHANGES, TOPICS, cause_of, change_of
from domain.item_numbers import item_id
from domain.logged_time import TimeImported
from projections.base import (
    InvalidCursorError,
    Positioned,
    Projection,
    Tables,
    decode_cursor,
    dumps,
    encode_cursor,
    iso,
    loads,
    topic_name,
)
from projections.db import Tx
from projections.flat import visible

COLUMNS = (
    "position, item_id, shown_as, shown_number, number, kind, occurred_at, type, change,"
    " actor, cause, project_id, folder_id, title, fields"
)


IMPORTED = "Ticket.TimeImported"


class ItemChangesProjection(Projection):
    """Reads the events of `domain.changes.CHANGES` (and `Ticket.TimeImported`, for the
    changes an import made); shows one row per change. Each page of events is folded in
    memory: the states of its items read in one query, written back once each."""

    name = "item_changes"
    tables = ("item_changes", "item_change_state")
    # 2: prior_project_id/prior_folder_id only on moves; an index per place and time;
    # 3: an index per item number (a burn-down's finishes and reopenings).
    schema_version = 3
    topics = TOPICS | {TimeImported.TOPIC}

    def create(self, tx: Tx, t: Tables) -> None:
        changes, state = t["item_changes"], t["item_change_state"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {changes} ("
            " position BIGINT PRIMARY KEY, item_id TEXT NOT NULL, shown_as TEXT NOT NULL,"
            " shown_number INTEGER NOT NULL, number INTEGER NOT NULL, kind TEXT NOT NULL,"
            " occurred_at TEXT NOT NULL,"
            " type TEXT NOT NULL, change TEXT NOT NULL, actor TEXT NOT NULL,"
            " cause TEXT NOT NULL, project_id TEXT, prior_project_id TEXT, folder_id TEXT,"
            " prior_folder_id TEXT, title TEXT NOT NULL, fields TEXT NOT NULL)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {changes}_time ON {changes} (occurred_at, position)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {changes}_shown ON {changes} (shown_as)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {changes}_number ON {changes} (number, position)")
        # A scope's changes in time order: those in the place, and those moved out of it.
        for place in ("project_id", "prior_project_id", "folder_id", "prior_folder_id"):
            tx.execute(
                f"CREATE INDEX IF NOT EXISTS {changes}_{place} ON {changes}"
                f" ({place}, occurred_at, position)"
            )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {state} ("
            " item_id TEXT PRIMARY KEY, number INTEGER NOT NULL, kind TEXT NOT NULL,"
            " fields TEXT NOT NULL)"
        )

    def key_columns(self, base: str) -> str:
        return "position" if base == "item_changes" else "item_id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        page = [(p, topic_name(p.event)) for p in events]
        page = [(p, name) for p, name in page if name in CHANGES or name == IMPORTED]
        if not page:
            return
        items = {str(p.event.originator_id) for p, _ in page}
        sources = [getattr(p.event, "converted_from", None) for p, _ in page]
        items |= {str(item_id(n)) for n in sources if n is not None}  # (tickets converted)
        states = _states(tx, t, items)
        stored = set(states)
        rows: list[dict[str, Any]] = []
        for p, name in page:
            _fold(tx, t, states, rows, p.position, name, p.event)
        for item, state in states.items():
            row = {**state, "fields": dumps(state["fields"])}
            if item in stored:
                tx.update_row(t["item_change_state"], {"item_id": item}, {"fields": row["fields"]})
            else:
                tx.insert_row(t["item_change_state"], row, ("item_id",))
        for row in rows:
            tx.insert_row(t["item_changes"], row, ("position",))


def _states(tx: Tx, t: Tables, items: set[str]) -> dict[str, dict[str, Any]]:
    """The stored state of each of `items` that has one (one read per 500)."""
    found: dict[str, dict[str, Any]] = {}
    ids = sorted(items)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in tx.all(
            f"SELECT item_id, number, kind, fields FROM {t['item_change_state']}"
            f" WHERE item_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            found[row["item_id"]] = {**row, "fields": loads(row["fields"])}
    return found


def _left(before: dict[str, Any], after: dict[str, Any], field: str) -> Any:
    """The place (`project_id`, `folder_id`) a change moved the item out of, or None."""
    return before.get(field) if field in before and before[field] != after.get(field) else None


def _fold(
    tx: Tx,
    t: Tables,
    states: dict[str, dict[str, Any]],
    rows: list[dict[str, Any]],
    position: int,
    name: str,
    e: Any,
) -> None:
    """One event on the page's states; a change it made joins `rows`."""
    item = str(e.originator_id)
    state = states.get(item)
    if name == IMPORTED:
        if state is not None:  # What follows in the same write is the import's doing.
            state["fields"]["_import"] = e.correlation_id
        return
    if state is None:
        if name not in ("Ticket.Opened", "Task.Planned"):
            return  # (An item this view never saw open: nothing to compare with.)
        kind = "task" if name == "Task.Planned" else "ticket"
        state = states[item] = {"item_id": item, "number": e.number, "kind": kind, "fields": {}}
    converted_from = getattr(e, "converted_from", None) if name == "Task.Planned" else None
    ticket = str(item_id(converted_from)) if converted_from is not None else ""
    source = states.get(ticket) if converted_from is not None else None
    before = {**source["fields"]} if source is not None else state["fields"]
    change, fields, after = change_of(name, e, before)
    if name == "Ticket.Opened" and getattr(e, "channel", "") == "email":
        after["_email"] = e.correlation_id  # What the intake did next is the email's doing.
    state["fields"] = after
    if converted_from is not None:  # The ticket's changes are shown as the task's now.
        tx.execute(
            f"UPDATE {t['item_changes']} SET shown_as = ?, shown_number = ? WHERE shown_as = ?",
            (item, e.number, ticket),
        )
        for row in rows:
            if row["shown_as"] == ticket:
                row["shown_as"], row["shown_number"] = item, e.number
    if change is None:
        return
    cause = cause_of(e.actor)
    if e.correlation_id in (after.get("_email"), after.get("_import")):
        cause = "email" if e.correlation_id == after.get("_email") else "import"
    rows.append(
        {
            "position": position,
            "item_id": item,
            "shown_as": item,
            "shown_number": state["number"],
            "number": state["number"],
            "kind": state["kind"],
            "occurred_at": iso(e.timestamp),
            "type": name,
            "change": change,
            "actor": e.actor,
            "cause": cause,
            "project_id": after.get("project_id"),
            # Where a move came from (null when the change did not move it): a scope
            # counts it in both places.
            "prior_project_id": _left(before, after, "project_id"),
            "folder_id": after.get("folder_id"),
            "prior_folder_id": _left(before, after, "folder_id"),
            "title": after.get("title", ""),
            "fields": dumps(fields),
        }
    )


@dataclass(frozen=True)
class ChangesQuery:
    """Changes from `since` (inclusive) to `until` (exclusive), both stored time text, of
    the items a caller may see now, within a scope."""

    since: str
    until: str
    visible_projects: frozenset[str] | None
    visible_kinds: frozenset[str]
    projects: frozenset[str] | None = None  # In (or moved from) one of these projects
    folders: frozenset[str] | None = None  # In (or moved from) one of these folders
    items: tuple[str, list[Any]] | None = None  # SQL selecting item ids, its parameters
    cursor: str | None = None
    limit: int | None = 50


def changes_page(
    tx: Tx, t: Tables, flat: Tables, query: ChangesQuery
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of changes in time order (then log order), and the next page's cursor.

    A scope by place (projects, folders) is two ordered reads merged — the changes made in
    the place, and those that moved an item out of it — each walking its own index in time
    order, so that a page costs its rows whatever the log's size."""
    scope = visible(query.visible_projects, query.visible_kinds)
    if scope is None or query.projects == frozenset() or query.folders == frozenset():
        return [], None
    seen = f"SELECT id FROM {flat['flat_items']}"
    if scope[0]:
        seen += " WHERE " + " AND ".join(scope[0])
    where = ["occurred_at >= ?", "occurred_at < ?", f"shown_as IN ({seen})"]
    params: list[Any] = [query.since, query.until, *scope[1]]
    if query.items is not None:
        where.append(f"shown_as IN ({query.items[0]})")
        params += query.items[1]
    if query.cursor is not None:
        at, position = decode_cursor(query.cursor, 2)
        if not isinstance(at, str) or not isinstance(position, int):
            raise InvalidCursorError("cursor is not valid")
        where.append("(occurred_at > ? OR (occurred_at = ? AND position > ?))")
        params += [at, at, position]
    limit = query.limit + 1 if query.limit is not None else None
    table, order = t["item_changes"], " ORDER BY occurred_at, position"
    places = [(c, ids) for c, ids in (("project_id", query.projects), ("folder_id", query.folders))]
    placed = [(c, ids) for c, ids in places if ids is not None]
    if placed:
        assert len(placed) == 1, "one place at a time"
        column, ids = placed[0]
        marks = ",".join("?" * len(ids))
        branches, branch_params = [], []
        for side in (column, f"prior_{column}"):
            branch = f"SELECT {COLUMNS} FROM {table} WHERE {' AND '.join(where)}"
            branch += f" AND {side} IN ({marks}){order}"
            branch_params += [*params, *sorted(ids)]
            if limit is not None:
                branch += " LIMIT ?"
                branch_params.append(limit)
            branches.append(f"SELECT * FROM ({branch}) AS {side}")
        sql = f"SELECT * FROM ({' UNION '.join(branches)}) AS placed{order}"
        params = branch_params
    else:
        sql = f"SELECT {COLUMNS} FROM {table} WHERE {' AND '.join(where)}{order}"
    if limit is None:
        return [_shown(row) for row in tx.stream(sql, params)], None
    rows = tx.all(sql + " LIMIT ?", (*params, limit))
    following = None
    if query.limit is not None and len(rows) > query.limit:
        rows = rows[: query.limit]
        following = encode_cursor(rows[-1]["occurred_at"], rows[-1]["position"])
    return [_shown(row) for row in rows], following


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "position": row["position"],
        "occurred_at": row["occurred_at"],
        "item": {
            "id": row["shown_as"],
            "number": row["shown_number"],
            "title": row["title"],
        },
        # The item as it was then: a ticket converted since is shown as its task.
        "number": row["number"],
        "kind": row["kind"],
        "change": row["change"],
        "type": row["type"],
        "by": {"actor": row["actor"], "cause": row["cause"]},
        "fields": loads(row["fields"]),
    }


# --- exports ---------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "occurred_at",
    "number",
    "kind",
    "title",
    "change",
    "type",
    "cause",
    "actor",
    "field",
    "before",
    "after",
]
# The PDF's wider columns (the others are 1).
PDF_WEIGHTS = {
    "occurred_at": 2.2,
    "title": 3.0,
    "type": 2.2,
    "actor": 2.5,
    "before": 2.5,
    "after": 2.5,
    "field": 1.3,
}


def _text(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def export_rows(change: dict[str, Any]) -> list[dict[str, Any]]:
    """A change (as `changes_page` shows it) as export rows: one per field it changed."""
    common = {
        "occurred_at": change["occurred_at"],
        "number": change["number"],
        "kind": change["kind"],
        "title": change["item"]["title"],
        "change": change["change"],
        "type": change["type"],
        "cause": change["by"]["cause"],
        "actor": change["by"]["actor"],
    }
    fields = change["fields"] or [{"field": None, "before": None, "after": None}]
    return [
        {**common, "field": f["field"], "before": _text(f["before"]), "after": _text(f["after"])}
        for f in fields
    ]
