"""Hierarchy view: reads Project, Portfolio and Folder events; shows projects (with their
customer folders, portfolio, members, team shares, join requests and the customer
organisations they are shared with), portfolios and folders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from domain.hierarchy import Folder, Portfolio
from domain.project import Project
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

Row = dict[str, Any]
JSON_FIELDS = ("customer_ids", "members", "teams", "join_requests", "shared_with")


class HierarchyProjection(Projection):
    """Reads Project, Portfolio and Folder events; shows `hierarchy_projects`,
    `hierarchy_portfolios` and `hierarchy_folders`."""

    name = "hierarchy"
    tables = ("hierarchy_projects", "hierarchy_portfolios", "hierarchy_folders")
    topics = topics_of(Project) | topics_of(Portfolio) | topics_of(Folder)
    # 2: a folder's version follows its contents events too (its ETag is the aggregate's).
    # 3: a project's mail slug; 4: the customer organisations it is shared with.
    schema_version = 4

    def create(self, tx: Tx, t: Tables) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['hierarchy_projects']} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT, portfolio_id TEXT,"
            " customer_ids TEXT NOT NULL, members TEXT NOT NULL, teams TEXT NOT NULL,"
            " join_requests TEXT NOT NULL, shared_with TEXT NOT NULL, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, version INTEGER NOT NULL)"
        )
        for table in ("hierarchy_portfolios", "hierarchy_folders"):
            extra = " project_id TEXT NOT NULL," if table == "hierarchy_folders" else ""
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {t[table]} ("
                f" id TEXT PRIMARY KEY, name TEXT NOT NULL,{extra} parent_id TEXT,"
                " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL)"
            )

    def key_columns(self, base: str) -> str:
        return "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        # Dispatch on the explicit topic: a declared creation class and the subclass the
        # library derives from it are different classes with one topic.
        for p in events:
            e = p.event
            topic = topic_name(e)
            if topic == "Project.Created":
                members = {e.manager_id: "manager"} if e.manager_id else {}
                tx.execute(
                    f"INSERT INTO {t['hierarchy_projects']} (id, name, portfolio_id,"
                    " customer_ids, members, teams, join_requests, shared_with, created_at,"
                    " updated_at, version) VALUES (?, ?, NULL, '[]', ?, '{}', '[]', '[]', ?, ?, ?)",
                    (
                        str(e.originator_id),
                        e.name,
                        dumps(members),
                        iso(e.timestamp),
                        iso(e.timestamp),
                        e.originator_version,
                    ),
                )
            elif topic in ("Portfolio.Created", "Folder.Created"):
                _insert_node(tx, t, e, topic)
            elif topic in _PROJECT_CHANGES:
                _change_project(tx, t, e, _PROJECT_CHANGES[topic])
            elif topic in _NODE_CHANGES:
                table = _NODE_CHANGES[topic]
                _update(tx, t[table], e, _node_changes(e))
            elif topic in _FOLDER_CONTENTS:
                # Nothing shown changes, but the folder's version does: an If-Match names it.
                tx.execute(
                    f"UPDATE {t['hierarchy_folders']} SET version = ? WHERE id = ?",
                    (e.originator_version, str(e.originator_id)),
                )


def _insert_node(tx: Tx, t: Tables, e: Any, topic: str) -> None:
    if topic == "Folder.Created":
        tx.execute(
            f"INSERT INTO {t['hierarchy_folders']} (id, name, project_id, parent_id,"
            " created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                str(e.originator_id),
                e.name,
                e.project_id,
                e.parent_id,
                iso(e.timestamp),
                iso(e.timestamp),
                e.originator_version,
            ),
        )
    else:
        tx.execute(
            f"INSERT INTO {t['hierarchy_portfolios']} (id, name, parent_id, created_at,"
            " updated_at, version) VALUES (?, ?, ?, ?, ?, ?)",
            (
                str(e.originator_id),
                e.name,
                e.parent_id,
                iso(e.timestamp),
                iso(e.timestamp),
                e.originator_version,
            ),
        )


_NODE_CHANGES = {
    "Portfolio.Renamed": "hierarchy_portfolios",
    "Portfolio.Moved": "hierarchy_portfolios",
    "Folder.Renamed": "hierarchy_folders",
    "Folder.Moved": "hierarchy_folders",
}


_FOLDER_CONTENTS = frozenset(
    {"Folder.ItemFiled", "Folder.ItemUnfiled", "Folder.SubfolderAdded", "Folder.SubfolderRemoved"}
)


def _node_changes(e: Any) -> dict[str, Any]:
    if type(e).__name__ == "Renamed":
        return {"name": e.name}
    changes = {"parent_id": e.parent_id}
    if hasattr(e, "project_id"):  # Folder.Moved
        changes["project_id"] = e.project_id
    return changes


def _update(tx: Tx, table: str, e: Any, columns: dict[str, Any]) -> None:
    columns = {**columns, "updated_at": iso(e.timestamp), "version": e.originator_version}
    assignments = ", ".join(f"{c} = ?" for c in columns)
    tx.execute(
        f"UPDATE {table} SET {assignments} WHERE id = ?", (*columns.values(), str(e.originator_id))
    )


def _change_project(tx: Tx, t: Tables, e: Any, change: Callable[[Row, Any], None]) -> None:
    table = t["hierarchy_projects"]
    row = tx.one(f"SELECT * FROM {table} WHERE id = ?", (str(e.originator_id),))
    assert row is not None
    state = {f: loads(row[f]) for f in JSON_FIELDS} | {
        "name": row["name"],
        "slug": row["slug"],
        "portfolio_id": row["portfolio_id"],
    }
    change(state, e)
    _update(tx, table, e, {k: dumps(v) if k in JSON_FIELDS else v for k, v in state.items()})


def _set_member(field: str, key: str) -> Callable[[Row, Any], None]:
    def change(state: Row, e: Any) -> None:
        state[field][getattr(e, key)] = e.role

    return change


def _drop_member(field: str, key: str) -> Callable[[Row, Any], None]:
    def change(state: Row, e: Any) -> None:
        state[field].pop(getattr(e, key), None)

    return change


def _join_requested(state: Row, e: Any) -> None:
    state["join_requests"].append(
        {"user_id": e.user_id, "message": e.message, "requested_at": iso(e.timestamp)}
    )


def _join_decided(state: Row, e: Any) -> None:
    state["join_requests"] = [r for r in state["join_requests"] if r["user_id"] != e.user_id]
    if hasattr(e, "role"):  # Project.JoinApproved
        state["members"][e.user_id] = e.role


def _shared_with_user(state: Row, e: Any) -> None:
    _set_member("members", "user_id")(state, e)
    state["join_requests"] = [r for r in state["join_requests"] if r["user_id"] != e.user_id]


_PROJECT_CHANGES: dict[str, Callable[[Row, Any], None]] = {
    "Project.Renamed": lambda s, e: s.update(name=e.name),
    "Project.SlugChanged": lambda s, e: s.update(slug=e.slug),
    "Project.MovedToPortfolio": lambda s, e: s.update(portfolio_id=e.portfolio_id),
    "Project.PlacedInCustomerFolder": lambda s, e: s["customer_ids"].append(e.organisation_id),
    "Project.RemovedFromCustomerFolder": lambda s, e: s["customer_ids"].remove(e.organisation_id),
    "Project.SharedWithUser": _shared_with_user,
    "Project.UnsharedWithUser": _drop_member("members", "user_id"),
    "Project.SharedWithTeam": _set_member("teams", "team_id"),
    "Project.UnsharedWithTeam": _drop_member("teams", "team_id"),
    "Project.JoinRequested": _join_requested,
    "Project.JoinApproved": _join_decided,
    "Project.JoinDenied": _join_decided,
    "Project.SharedWithOrganisation": lambda s, e: s["shared_with"].append(e.organisation_id),
    "Project.UnsharedWithOrganisation": lambda s, e: s["shared_with"].remove(e.organisation_id),
    # Shown by `GET /projects/{id}/calendar` (from the project itself); here only the
    # version and time move, so that the project's ETag stays its version.
    "Project.CalendarSet": lambda s, e: None,
}


def _shown(row: Row) -> Row:
    for field in JSON_FIELDS:
        if field in row:
            row[field] = loads(row[field])
    return row


def get_project(tx: Tx, t: Tables, project_id: str) -> Row | None:
    row = tx.one(f"SELECT * FROM {t['hierarchy_projects']} WHERE id = ?", (project_id,))
    return _shown(row) if row else None


def list_nodes(
    tx: Tx,
    t: Tables,
    kind: str,
    cursor: str | None,
    limit: int,
    within: frozenset[str] | None = None,
    ids: frozenset[str] | None = None,
    **equal: str | None,
) -> tuple[list[Row], str | None]:
    """Projects, portfolios or folders by name, a page at a time, filtered by columns;
    `within` keeps folders to those projects and `ids` nodes to those ids (before paging,
    so a cursor never names a row the caller may not see)."""
    table = t[f"hierarchy_{kind}"]
    where: list[str] = []
    params: list[Any] = []
    if within is not None:
        if not within:
            return [], None
        where.append(f"project_id IN ({','.join('?' * len(within))})")
        params += sorted(within)
    if ids is not None:
        if not ids:
            return [], None
        where.append(f"id IN ({','.join('?' * len(ids))})")
        params += sorted(ids)
    for column, value in equal.items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if cursor:
        name, last_id = decode_cursor(cursor, 2)
        if not isinstance(name, str) or not isinstance(last_id, str):
            raise InvalidCursorError("cursor is not valid")
        where.append("(name > ? OR (name = ? AND id > ?))")
        params += [name, name, last_id]
    sql = f"SELECT * FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")
    rows = tx.all(sql + " ORDER BY name, id LIMIT ?", (*params, limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["name"], rows[-1]["id"])
    return [_shown(r) for r in rows], next_cursor


def get_node(tx: Tx, t: Tables, kind: str, node_id: str) -> Row | None:
    row = tx.one(f"SELECT * FROM {t[f'hierarchy_{kind}']} WHERE id = ?", (node_id,))
    return _shown(row) if row else None


def portfolios_holding(tx: Tx, t: Tables, project_ids: frozenset[str]) -> set[str]:
    """Portfolios that hold, at any depth, one of these projects."""
    if not project_ids:
        return set()
    marks = ",".join("?" * len(project_ids))
    rows = tx.all(
        f"WITH RECURSIVE up(id) AS ("
        f" SELECT portfolio_id FROM {t['hierarchy_projects']}"
        f" WHERE portfolio_id IS NOT NULL AND id IN ({marks})"
        f" UNION SELECT p.parent_id FROM {t['hierarchy_portfolios']} p JOIN up ON p.id = up.id"
        f" WHERE p.parent_id IS NOT NULL) SELECT id FROM up",
        sorted(project_ids),
    )
    return {r["id"] for r in rows}
