"""Running a saved view: its definition (`domain.views.definition`) as one SQL query on the
`flat` view's tables, scoped to the caller, grouped, sorted and paged by cursor; and the
same query as of a past moment, on the items folded up to then into an in-memory copy of
those tables (so that both answer by the same rules)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from domain.views.definition import ME, OPTIONAL
from projections.base import (
    InvalidCursorError,
    Tables,
    decode_cursor,
    dumps,
    encode_cursor,
    loads,
)
from projections.db import Tx
from projections.flat import PRIORITY_RANK, SORTS, visible
from projections.views.as_of import ItemEvents, candidates, folded_flat

COLUMN_OF = {
    "number": "number",
    "title": "title",
    "description": "description",
    "status": "status",
    "requester_email": "requester_email",
    "state": "state",
    "priority": "priority",
    "kind": "kind",
    "item_type": "item_type",
    "sla_state": "sla_state",
    "project": "project_id",
    "folder": "folder_id",
    "team": "team_id",
    "sla_policy": "sla_policy_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "sla_due": "sla_due",
}
COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
STATE_ORDER = "CASE i.state WHEN 'not_started' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END"
SLA_ORDER = (
    "CASE i.sla_state WHEN 'breached' THEN 0 WHEN 'warning' THEN 1 WHEN 'on_track' THEN 2"
    " WHEN 'met' THEN 3 ELSE 4 END"
)
ROW_COLUMNS = (
    "id, number, kind, item_type, title, status, state, priority, requester_email, assignees,"
    " project_id, folder_id, team_id, converted_from_ticket, created_at, updated_at,"
    " sla_state, sla_due, sla_policy_id"
)


@dataclass(frozen=True)
class Key:
    """One ORDER BY term: its SQL, whether it descends, and the type of its values."""

    sql: str
    descending: bool
    integer: bool


@dataclass(frozen=True)
class ViewRun:
    """One run of a saved view, for one caller."""

    definition: dict[str, Any]
    user_id: str  # Who runs it: an assignee filter's 'me'.
    visible_projects: frozenset[str] | None  # None: every project
    visible_kinds: frozenset[str]
    cursor: str | None = None
    limit: int = 50
    as_of: str | None = None  # A run as of this moment (stored time text); None: now.


@dataclass
class ViewPage:
    items: list[dict[str, Any]]
    groups: list[dict[str, Any]] | None
    next_cursor: str | None


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _condition(node: dict[str, Any], t: Tables, user_id: str, params: list[Any]) -> str:
    """A filter (tree) as SQL on `flat_items` (as `i`), its parameters added to `params`."""
    for join in ("and", "or"):
        if join in node:
            parts = [_condition(part, t, user_id, params) for part in node[join]]
            return "(" + f" {join.upper()} ".join(parts) + ")"
    field, op, value = node["field"], node["op"], node["value"]
    if field == "assignee":
        return _assignee_condition(op, value, t, user_id, params)
    column = f"i.{COLUMN_OF[field]}"
    nullable = field in OPTIONAL
    if op == "empty":
        return f"{column} IS NULL" if value else f"{column} IS NOT NULL"
    if field == "priority":  # By its rank, which is indexed (and ordered)
        if op in COMPARE:
            params.append(PRIORITY_RANK[value])
            return f"i.priority_rank {COMPARE[op]} ?"
        column = "i.priority_rank"
        value = [PRIORITY_RANK[v] for v in (value if isinstance(value, list) else [value])]
    if op in COMPARE:
        params.append(value)
        return f"{column} {COMPARE[op]} ?"
    if op == "contains":
        params.append("%" + _escaped(value.lower()) + "%")
        return f"lower({column}) LIKE ? ESCAPE '\\'"
    values = value if isinstance(value, list) else [value]
    params += values
    marks = ",".join("?" * len(values))
    if op in ("eq", "in"):
        return f"{column} IN ({marks})"
    negated = f"{column} NOT IN ({marks})"
    return f"({column} IS NULL OR {negated})" if nullable else negated


def _assignee_condition(op: str, value: Any, t: Tables, user_id: str, params: list[Any]) -> str:
    assignees = t["flat_item_assignees"]
    if op == "empty":
        return f"i.id {'NOT ' if value else ''}IN (SELECT item_id FROM {assignees})"
    values = [user_id if v == ME else v for v in (value if isinstance(value, list) else [value])]
    params += values
    marks = ",".join("?" * len(values))
    negated = "NOT " if op in ("ne", "not_in") else ""
    return f"i.id {negated}IN (SELECT item_id FROM {assignees} WHERE user_id IN ({marks}))"


def _group_keys(field: str) -> tuple[list[Key], str]:
    """The ORDER BY terms of one grouping, and the SQL of the group's value."""
    if field == "priority":
        return [Key("(3 - i.priority_rank)", False, True)], "i.priority"
    if field == "state":
        return [Key(STATE_ORDER, False, True)], "i.state"
    if field == "sla_state":
        return [Key(SLA_ORDER, False, True)], "i.sla_state"
    column = "ga.user_id" if field == "assignee" else f"i.{COLUMN_OF[field]}"
    if field == "assignee" or field in OPTIONAL:
        # Items without a value last, in every backend's collation.
        missing = Key(f"CASE WHEN {column} IS NULL THEN 1 ELSE 0 END", False, True)
        return [missing, Key(f"COALESCE({column}, '')", False, False)], column
    return [Key(column, False, False)], column


def _sort_keys(sort: str) -> list[Key]:
    descending = sort.startswith("-")
    column = SORTS[sort.lstrip("-")]
    keys = [Key(f"i.{column}", descending, column in ("number", "priority_rank"))]
    if column != "number":
        keys.append(Key("i.number", descending, True))
    return keys


def fingerprint(run: ViewRun) -> str:
    """A short digest of a run's definition and moment: a cursor made for another
    definition, or another moment (or now), is refused."""
    made_for = dumps([run.definition, run.as_of])
    return hashlib.sha256(made_for.encode()).hexdigest()[:12]


def _where(run: ViewRun, t: Tables) -> tuple[list[str], list[Any]] | None:
    definition = run.definition
    kinds = run.visible_kinds & frozenset(definition["kinds"])
    scope = visible(run.visible_projects, kinds)
    if scope is None:
        return None
    where = [f"i.{condition}" for condition in scope[0]]  # (each starts with its column)
    params = list(scope[1])
    if definition["item_types"]:
        where.append(f"i.item_type IN ({','.join('?' * len(definition['item_types']))})")
        params += definition["item_types"]
    if definition["filter"] is not None:
        where.append(_condition(definition["filter"], t, run.user_id, params))
    return where, params


def matching_ids(run: ViewRun, t: Tables) -> tuple[str, list[Any]] | None:
    """SQL selecting the ids of the items the view shows the caller now, and its
    parameters (None: none at all)."""
    found = _where(run, t)
    if found is None:
        return None
    where, params = found
    sql = f"SELECT i.id FROM {t['flat_items']} i"
    return (sql + " WHERE " + " AND ".join(where) if where else sql), params


def run_view(tx: Tx, t: Tables, run: ViewRun) -> ViewPage:
    """One page of a saved view's items (and, on the first page of a grouped view, every
    group with its count)."""
    definition = run.definition
    found = _where(run, t)
    if found is None:
        return ViewPage([], [] if definition["group_by"] else None, None)
    where, params = found
    grouping = [_group_keys(field) for field in definition["group_by"]]
    group_keys = [key for keys_of_one, _ in grouping for key in keys_of_one]
    keys = group_keys + _sort_keys(definition["sort"])
    values = [value for _, value in grouping]
    source = f"{t['flat_items']} i"
    if "assignee" in definition["group_by"]:
        source += f" LEFT JOIN {t['flat_item_assignees']} ga ON ga.item_id = i.id"
    groups = _groups(tx, source, where, params, group_keys, values) if run.cursor is None else None
    page_where, page_params = list(where), list(params)
    if run.cursor is not None:
        after = _after(run, keys)
        page_where.append(after[0])
        page_params += after[1]
    selected = ", ".join(f"i.{c.strip()}" for c in ROW_COLUMNS.split(","))
    selected += "".join(f", {k.sql} AS k{n}" for n, k in enumerate(keys))
    selected += "".join(f", {v} AS g{n}" for n, v in enumerate(values))
    order = ", ".join(f"{k.sql} {'DESC' if k.descending else 'ASC'}" for k in keys)
    sql = f"SELECT {selected} FROM {source}"
    if page_where:
        sql += " WHERE " + " AND ".join(page_where)
    rows = tx.all(f"{sql} ORDER BY {order} LIMIT ?", (*page_params, run.limit + 1))
    next_cursor = None
    if len(rows) > run.limit:
        rows = rows[: run.limit]
        last = rows[-1]
        key_values = [last[f"k{n}"] for n in range(len(keys))]
        next_cursor = encode_cursor(fingerprint(run), *key_values)
    items = [_shown(row, definition, len(values)) for row in rows]
    return ViewPage(items, groups, next_cursor)


def _groups(
    tx: Tx, source: str, where: list[str], params: list[Any], keys: list[Key], values: list[str]
) -> list[dict[str, Any]] | None:
    if not values:
        return None
    group_keys = [k.sql for k in keys]
    selected = ", ".join(f"{v} AS g{n}" for n, v in enumerate(values))
    by = ", ".join(group_keys + values)
    sql = f"SELECT {selected}, COUNT(*) AS count FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" GROUP BY {by} ORDER BY {', '.join(group_keys)}"
    rows = tx.all(sql, params)
    return [
        {"values": [row[f"g{n}"] for n in range(len(values))], "count": row["count"]}
        for row in rows
    ]


def _after(run: ViewRun, keys: list[Key]) -> tuple[str, list[Any]]:
    """The keyset condition for the rows after the cursor's."""
    assert run.cursor is not None
    made_for, *values = decode_cursor(run.cursor, len(keys) + 1)
    if made_for != fingerprint(run):
        raise InvalidCursorError("cursor was made for another definition or moment of this view")
    for key, value in zip(keys, values, strict=True):
        if not isinstance(value, int if key.integer else str) or isinstance(value, bool):
            raise InvalidCursorError("cursor is not valid")
    terms: list[str] = []
    params: list[Any] = []
    for n, key in enumerate(keys):
        equal = [f"{k.sql} = ?" for k in keys[:n]]
        op = "<" if key.descending else ">"
        terms.append("(" + " AND ".join([*equal, f"{key.sql} {op} ?"]) + ")")
        params += [*values[:n], values[n]]
    return "(" + " OR ".join(terms) + ")", params


def _shown(row: dict[str, Any], definition: dict[str, Any], groups: int) -> dict[str, Any]:
    row["assignees"] = loads(row["assignees"])
    shown = {"id": row["id"], "number": row["number"], "kind": row["kind"]}
    shown |= {column: row[column] for column in definition["columns"]}
    if groups:
        shown["group"] = [row[f"g{n}"] for n in range(groups)]
    return shown


# --- as of a past moment ---------------------------------------------------------------


def items_to_fold(tx: Tx, t: Tables, run: ViewRun) -> list[dict[str, Any]]:
    """The items a run as of `run.as_of` folds (`projections.views.as_of.candidates`),
    from the stored flat view."""
    assert run.as_of is not None
    kinds = frozenset(run.definition["kinds"])
    return candidates(tx, t, run.visible_projects, run.visible_kinds, kinds, run.as_of)


def run_view_as_of(items: list[dict[str, Any]], events_of: ItemEvents, run: ViewRun) -> ViewPage:
    """The run on `items` (`items_to_fold`) as they were at `run.as_of`, each folded from
    its events into an in-memory flat view (`projections.views.as_of`), then queried as
    `run_view` queries the stored one (so an item shows only if the caller may see where
    it is now and where it was then)."""
    with folded_flat(items, events_of) as (memory, folded):
        return run_view(memory, folded, run)
