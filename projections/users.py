"""User directory view: reads User events; shows every staff user with role, apps, flags
and status (invited, active, deactivated) for listing and search."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from domain.user import User
from projections.base import (
    Positioned,
    Projection,
    Tables,
    current_tables,
    decode_cursor,
    dumps,
    encode_cursor,
    iso,
    loads,
    topics_of,
)
from projections.db import Tx, ViewDatabase

COLUMNS = "id, email, name, role, apps, flags, status, version, created_at, updated_at"


class UserDirectoryProjection(Projection):
    """Reads User events; shows one row per staff user (`users_directory`)."""

    name = "users"
    tables = ("users_directory",)
    topics = topics_of(User)

    def create(self, tx: Tx, t: Tables) -> None:
        table = t["users_directory"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
            " role TEXT NOT NULL, apps TEXT NOT NULL, flags TEXT NOT NULL,"
            " status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
            " version INTEGER NOT NULL)"
        )

    def key_columns(self, base: str) -> str:
        return "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        table = t["users_directory"]
        for p in events:
            e = p.event
            if isinstance(e, User.Registered):
                tx.execute(
                    f"INSERT INTO {table} (id, email, name, role, apps, flags, status,"
                    " created_at, updated_at, version)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)",
                    (
                        str(e.originator_id),
                        e.email,
                        e.name,
                        e.role,
                        e.apps,
                        dumps(e.flags),
                        iso(e.timestamp),
                        iso(e.timestamp),
                        e.originator_version,
                    ),
                )
                continue
            change = _CHANGES.get(type(e))
            columns = change(e) if change else {}
            columns.update(updated_at=iso(e.timestamp), version=e.originator_version)
            assignments = ", ".join(f"{c} = ?" for c in columns)
            tx.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ?",
                (*columns.values(), str(e.originator_id)),
            )


_CHANGES: dict[type, Callable[[Any], dict[str, Any]]] = {
    User.Renamed: lambda e: {"name": e.name},
    User.RoleChanged: lambda e: {"role": e.role},
    User.AppsChanged: lambda e: {"apps": e.apps},
    User.FlagsChanged: lambda e: {"flags": dumps(e.flags)},
    User.InvitationIssued: lambda e: {"status": "invited"},
    User.InvitationAccepted: lambda e: {"status": "active"},
    User.Deactivated: lambda e: {"status": "deactivated"},
    User.Reactivated: lambda e: {"status": "active"},
}


def list_users(
    tx: Tx, t: Tables, q: str | None, status: str | None, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Staff users by email, a page at a time."""
    where, params = [], []
    if q:
        where.append("(lower(email) LIKE ? OR lower(name) LIKE ?)")
        needle = "%" + q.lower().replace("%", "").replace("_", "") + "%"
        params += [needle, needle]
    if status:
        where.append("status = ?")
        params.append(status)
    if cursor:
        where.append("email > ?")
        params.append(str(decode_cursor(cursor, 1)[0]))
    sql = f"SELECT {COLUMNS} FROM {t['users_directory']}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = tx.all(sql + " ORDER BY email LIMIT ?", (*params, limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["email"])
    for row in rows:
        row["flags"] = loads(row["flags"])
        row["is_admin"] = row["role"] == "admin"
    return rows, next_cursor


def staff_candidates(tx: Tx, t: Tables, since: str) -> list[str]:
    """Users who are admins or manage projects now, or changed after `since` (an `iso`
    moment): everyone who might have been an admin or managed projects at `since`."""
    rows = tx.all(
        f"SELECT id FROM {t['users_directory']}"
        " WHERE role = 'admin' OR flags LIKE ? OR updated_at > ? ORDER BY id",
        ('%"manage_projects"%', since),
    )
    return [row["id"] for row in rows]


def user_names(tx: Tx, t: Tables, ids: Sequence[str]) -> dict[str, str]:
    """The names of the users `ids` (those the directory knows)."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = tx.all(f"SELECT id, name FROM {t['users_directory']} WHERE id IN ({marks})", tuple(ids))
    return {row["id"]: row["name"] for row in rows}


def active_staff_named(tx: Tx, t: Tables, names: Sequence[str]) -> dict[str, list[str]]:
    """Active staff by name, case and spacing aside: {lower-cased name: user ids} (a name
    two people share lists both)."""
    wanted = {" ".join(name.split()).lower() for name in names if name.strip()}
    if not wanted:
        return {}
    rows = tx.all(
        f"SELECT id, name FROM {t['users_directory']} WHERE status = 'active' ORDER BY id"
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        name = " ".join(row["name"].split()).lower()
        if name in wanted:
            found.setdefault(name, []).append(row["id"])
    return found


def staff_by_name(views: ViewDatabase) -> Callable[[Sequence[str]], dict[str, list[str]]]:
    """`active_staff_named` over the users view as it stands when asked (what an import
    matches a plan's resources by)."""

    def named(names: Sequence[str]) -> dict[str, list[str]]:
        with views.read() as tx:
            return active_staff_named(tx, current_tables(tx, "users"), names)

    return named
