"""Flat view: reads every Ticket and Task event; shows all items as one filterable,
sortable list (a converted ticket is shown once, as its task)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.sla.item_sla import ItemSla, earliest_due, overall
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
    iso,
    loads,
    topic_name,
    topics_of,
)
from projections.db import Tx

SLA_TOPICS = frozenset({f"{ItemSla.TOPIC}.Applied", f"{ItemSla.TOPIC}.Changed"})
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
SORTS = {
    "number": "number",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "priority": "priority_rank",
    "title": "title",
    "status": "status",
    # By the earliest due time of an SLA target still owed; items without one after every
    # time (a time is fixed-width ISO text; the marker is one too, so any collation agrees).
    "sla_due": "sla_sort",
}
INTEGER_SORTS = frozenset({"number", "priority_rank"})
FILTERS = {
    "status": "status",
    "state": "state",
    "priority": "priority",
    "project": "project_id",
    "folder": "folder_id",
    "team": "team_id",
    "kind": "kind",
    "item_type": "item_type",
    "sla_state": "sla_state",
    "sla_policy": "sla_policy_id",
}
COLUMNS = (
    "id, number, kind, item_type, title, status, state, priority, requester_email, assignees,"
    " project_id, folder_id, team_id, converted_from_ticket, created_at, updated_at,"
    " sla_state, sla_due, sla_policy_id"
)
NO_SLA_TIME = "9999-12-31T23:59:59.999999Z"


class FlatProjection(Projection):
    """Reads Ticket events; shows one row per item (`flat_items`, `flat_item_assignees`)."""

    name = "flat"
    tables = ("flat_items", "flat_item_assignees")
    topics = topics_of(Ticket) | topics_of(Task) | SLA_TOPICS
    # 2: project_id, folder_id, team_id; 3: tasks, converted_from_ticket; 4: item_type;
    # 5: sla_state, sla_due (and sla_sort, its sort key); 6: sla_policy_id, sla_policy_name;
    # 7: channel (what a ticket came in by); 8: a converted ticket's task keeps it
    schema_version = 8
    indexes_after_build = True  # (apply reads by primary key only)

    def create(self, tx: Tx, t: Tables) -> None:
        items, assignees = t["flat_items"], t["flat_item_assignees"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {items} ("
            " id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL,"
            " item_type TEXT NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL,"
            " status TEXT NOT NULL, state TEXT NOT NULL, priority TEXT NOT NULL,"
            " priority_rank INTEGER NOT NULL,"
            " requester_email TEXT, assignees TEXT NOT NULL, project_id TEXT NOT NULL,"
            " folder_id TEXT, team_id TEXT, converted_from_ticket INTEGER,"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL,"
            f" sla_state TEXT, sla_due TEXT, sla_sort TEXT NOT NULL DEFAULT '{NO_SLA_TIME}',"
            " sla_policy_id TEXT, sla_policy_name TEXT, channel TEXT)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {assignees} ("
            " item_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (item_id, user_id))"
        )
        for column in (
            "status",
            "state",
            "priority_rank",
            "created_at",
            "updated_at",
            "title",
            "project_id",
            "folder_id",
            "team_id",
            "kind",
            "item_type",
            "sla_state",
            "sla_sort",
            "sla_policy_id",
        ):
            tx.execute(f"CREATE INDEX IF NOT EXISTS {items}_{column} ON {items} ({column}, number)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {assignees}_user ON {assignees} (user_id, item_id)")

    def key_columns(self, base: str) -> str:
        return "id" if base == "flat_items" else "item_id, user_id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            handler = _HANDLERS.get(topic_name(p.event))
            if handler is not None:
                handler(tx, t, p.event)


def _opened(tx: Tx, t: Tables, e: Any) -> None:
    carried = getattr(e, "carried", None) or {}
    assignees = sorted(carried.get("assignees", []))
    kind = "task" if topic_name(e) == "Task.Planned" else "ticket"
    item = str(e.originator_id)
    channel = getattr(e, "channel", None)
    if kind == "task" and (source := getattr(e, "converted_from", None)) is not None:
        # The ticket it was (its conversion came first): its channel, and its row gone.
        ticket = tx.one(
            f"SELECT id, channel FROM {t['flat_items']} WHERE number = ? AND kind = 'ticket'",
            (source,),
        )
        if ticket is not None:
            channel = ticket["channel"]
            _forget(tx, t, ticket["id"])
    tx.insert_row(
        t["flat_items"],
        {
            "id": item,
            "number": e.number,
            "kind": kind,
            "item_type": "task" if kind == "task" else e.item_type,
            "title": e.title,
            "description": e.description,
            "status": e.status,
            "state": e.state,
            "priority": e.priority,
            "priority_rank": PRIORITY_RANK[e.priority],
            "requester_email": e.requester_email,
            "assignees": dumps(assignees),
            "project_id": e.project_id,
            "folder_id": e.folder_id,
            "team_id": carried.get("team_id"),
            "converted_from_ticket": getattr(e, "converted_from", None),
            "created_at": iso(e.timestamp),
            "updated_at": iso(e.timestamp),
            "version": e.originator_version,
            "sla_state": None,
            "sla_due": None,
            "sla_sort": NO_SLA_TIME,
            "channel": channel,
        },
    )
    for user in assignees:
        tx.insert_row(
            t["flat_item_assignees"], {"item_id": item, "user_id": user}, ("item_id", "user_id")
        )
    if (cache := tx.row_cache(t["flat_item_assignees"])) is not None:
        cache.keep({item: assignees})


def _converted(tx: Tx, t: Tables, e: Any) -> None:
    """The ticket lives on as its task (which `Task.Planned` adds): shown once, with the
    channel the ticket came in by. The log records the conversion before the task's
    `Planned`, which then takes the channel and removes the ticket's row (`_opened`); a
    task already there takes it here."""
    task = tx.one(f"SELECT id FROM {t['flat_items']} WHERE number = ?", (e.task_number,))
    if task is None:
        return
    ticket = tx.one(f"SELECT channel FROM {t['flat_items']} WHERE id = ?", (str(e.originator_id),))
    if ticket is not None and ticket["channel"] is not None:
        tx.update_row(t["flat_items"], {"id": task["id"]}, {"channel": ticket["channel"]})
    _forget(tx, t, str(e.originator_id))


def _forget(tx: Tx, t: Tables, item: str) -> None:
    """An item's row and its assignees, gone."""
    tx.delete_row(t["flat_items"], {"id": item})
    tx.execute(f"DELETE FROM {t['flat_item_assignees']} WHERE item_id = ?", (item,))
    if (cache := tx.row_cache(t["flat_item_assignees"])) is not None:
        cache.forget([item])


def _sla(tx: Tx, t: Tables, e: Any) -> None:
    """An item's SLA, on its row (not the item's own change: its version stays): its policy,
    its worst state, and the earliest due time of a target still owed (a breached one's
    included)."""
    if topic_name(e) == "ItemSla.Applied":
        policy = e.policy or {}
        sla = {"sla_policy_id": policy.get("id"), "sla_policy_name": policy.get("name")}
        if e.policy is None:  # Held to none: nothing is owed.
            sla |= {"sla_state": None, "sla_due": None, "sla_sort": NO_SLA_TIME}
        # Otherwise its state comes with the `Changed` measured with it.
    else:
        due = earliest_due(e.metrics)
        sla = {"sla_state": overall(e.metrics), "sla_due": due, "sla_sort": due or NO_SLA_TIME}
    tx.update_row(t["flat_items"], {"id": e.item_id}, sla)


def _update(tx: Tx, t: Tables, e: Any, columns: dict[str, Any]) -> None:
    """One UPDATE per event: the changed columns plus `updated_at` and `version` (while
    building a generation, merged into the page's other writes of the row)."""
    columns = {**columns, "updated_at": iso(e.timestamp), "version": e.originator_version}
    tx.update_row(t["flat_items"], {"id": str(e.originator_id)}, columns)


def _set(**columns: Callable[[Any], Any]) -> Callable[[Tx, Tables, Any], None]:
    def apply(tx: Tx, t: Tables, e: Any) -> None:
        _update(tx, t, e, {name: value(e) for name, value in columns.items()})

    return apply


def _assignees_changed(added: bool) -> Callable[[Tx, Tables, Any], None]:
    def apply(tx: Tx, t: Tables, e: Any) -> None:
        item_id = str(e.originator_id)
        if added:
            tx.execute(
                f"INSERT INTO {t['flat_item_assignees']} (item_id, user_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (item_id, e.user_id),
            )
        else:
            tx.execute(
                f"DELETE FROM {t['flat_item_assignees']} WHERE item_id = ? AND user_id = ?",
                (item_id, e.user_id),
            )
        _update(tx, t, e, {"assignees": dumps(_assignees(tx, t, item_id, e.user_id, added))})

    return apply


def _assignees(tx: Tx, t: Tables, item_id: str, user_id: str, added: bool) -> list[str]:
    """The item's assignees now (after its row for `user_id` was inserted or deleted):
    read back, or while rebuilding, from the rebuild's memory (no read, so the page's
    writes stay buffered)."""
    table = t["flat_item_assignees"]
    cache = tx.row_cache(table)
    if cache is None:
        users = tx.all(
            f"SELECT user_id FROM {table} WHERE item_id = ? ORDER BY user_id", (item_id,)
        )
        return [u["user_id"] for u in users]
    found, missing = cache.take([item_id])
    if missing:  # Not held (evicted): read, with the write just made.
        users = tx.all(
            f"SELECT user_id FROM {table} WHERE item_id = ? ORDER BY user_id", (item_id,)
        )
        now = [u["user_id"] for u in users]
    else:
        held = set(found.get(item_id, []))
        now = sorted(held | {user_id} if added else held - {user_id})
    cache.keep({item_id: now})
    return now


# Events that change nothing shown here but the item's `updated_at`.
_touch = _set()


_HANDLERS: dict[str, Callable[[Tx, Tables, Any], None]] = {
    "Ticket.Opened": _opened,
    "Task.Planned": _opened,
    "Ticket.ConvertedToTask": _converted,
    "Ticket.Retitled": _set(title=lambda e: e.title),
    "Ticket.DescriptionEdited": _set(description=lambda e: e.description),
    "Ticket.Reprioritised": _set(
        priority=lambda e: e.priority, priority_rank=lambda e: PRIORITY_RANK[e.priority]
    ),
    "Ticket.StatusChanged": _set(status=lambda e: e.status, state=lambda e: e.state),
    "Ticket.Moved": _set(project_id=lambda e: e.project_id, folder_id=lambda e: e.folder_id),
    "Ticket.TeamAssigned": _set(team_id=lambda e: e.team_id),
    "Ticket.TeamUnassigned": _set(team_id=lambda e: None),
    "Ticket.UserAssigned": _assignees_changed(added=True),
    "Ticket.UserUnassigned": _assignees_changed(added=False),
    "Ticket.FollowerAdded": _touch,
    "Ticket.FollowerRemoved": _touch,
    "Ticket.CustomerReplyPosted": _touch,
    "Ticket.InternalMessagePosted": _touch,
    "Ticket.AttachmentAdded": _touch,
    "ItemSla.Applied": _sla,
    "ItemSla.Changed": _sla,
}


@dataclass(frozen=True)
class FlatQuery:
    status: str | None = None
    state: str | None = None
    assignee: str | None = None
    priority: str | None = None
    project: str | None = None
    folder: str | None = None
    team: str | None = None
    kind: str | None = None
    item_type: str | None = None
    sla_state: str | None = None
    sla_policy: str | None = None
    q: str | None = None
    sort: str = "-number"
    cursor: str | None = None
    limit: int = 50
    visible_projects: frozenset[str] | None = None  # None: every project
    visible_kinds: frozenset[str] = frozenset({"ticket", "task"})  # by the caller's apps


def _cursor_key(sort: str, cursor: str) -> tuple[Any, int]:
    made_for, value, number = decode_cursor(cursor, 3)
    if made_for != sort or not isinstance(number, int):
        raise InvalidCursorError("cursor was made for another sort")
    # The sort column's own type: a key of another type cannot be compared in SQL.
    wanted = int if SORTS[sort.lstrip("-")] in INTEGER_SORTS else str
    if not isinstance(value, wanted):
        raise InvalidCursorError("cursor is not valid")
    return value, number


def visible(
    projects: frozenset[str] | None, kinds: frozenset[str]
) -> tuple[list[str], list[Any]] | None:
    """The conditions (and their parameters) for the rows a caller sees: of `kinds`, in
    `projects` (None: every project); None when that is no row at all."""
    if not kinds or (projects is not None and not projects):
        return None
    where: list[str] = []
    params: list[Any] = []
    if len(kinds) == 1:
        where.append("kind = ?")
        params.append(next(iter(kinds)))
    if projects is not None:
        where.append(f"project_id IN ({','.join('?' * len(projects))})")
        params += sorted(projects)
    return where, params


def list_items(tx: Tx, t: Tables, query: FlatQuery) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the flat list, and the cursor of the next (None on the last page)."""
    descending = query.sort.startswith("-")
    column = SORTS[query.sort.lstrip("-")]
    where: list[str] = []
    params: list[Any] = []
    for field, column_name in FILTERS.items():
        value = getattr(query, field)
        if value is not None:
            where.append(f"{column_name} = ?")
            params.append(value)
    scope = visible(query.visible_projects, query.visible_kinds)
    if scope is None:
        return [], None
    where += scope[0]
    params += scope[1]
    if query.assignee is not None:
        where.append(f"id IN (SELECT item_id FROM {t['flat_item_assignees']} WHERE user_id = ?)")
        params.append(query.assignee)
    if query.q:
        where.append("(lower(title) LIKE ? OR lower(description) LIKE ?)")
        needle = "%" + query.q.lower().replace("%", "").replace("_", "") + "%"
        params += [needle, needle]
    if query.cursor:
        value, number = _cursor_key(query.sort, query.cursor)
        op = "<" if descending else ">"
        if column == "number":
            where.append(f"number {op} ?")
            params.append(number)
        else:
            where.append(f"({column} {op} ? OR ({column} = ? AND number {op} ?))")
            params += [value, value, number]
    direction = "DESC" if descending else "ASC"
    order = f"{column} {direction}" + (f", number {direction}" if column != "number" else "")
    sql = f"SELECT {COLUMNS}, {column} AS sort_value FROM {t['flat_items']}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = tx.all(sql + f" ORDER BY {order} LIMIT ?", (*params, query.limit + 1))
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        next_cursor = encode_cursor(query.sort, last["sort_value"], last["number"])
    items = []
    for row in rows:
        row.pop("sort_value")
        row["assignees"] = loads(row["assignees"])
        items.append(row)
    return items, next_cursor


def current_projects(tx: Tx, t: Tables, item_ids: Sequence[str]) -> dict[str, str]:
    """item id -> the project it is in now, for those of `item_ids` that exist."""
    found: dict[str, str] = {}
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = tx.all(f"SELECT id, project_id FROM {t['flat_items']} WHERE id IN ({marks})", chunk)
        found.update((row["id"], row["project_id"]) for row in rows)
    return found
