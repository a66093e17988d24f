"""Team directory view: reads Team events; shows every team with its members and their
team roles, for listing, search and reading one team."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from domain.team import Team
from domain.team_names import team_name_key
from projections.base import (
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
COLUMNS = "id, name, sort_key, version, created_at, updated_at"


def _formed(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"INSERT INTO {t['teams_directory']} (id, name, sort_key, version, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (
            str(e.originator_id),
            e.name,
            team_name_key(e.name),
            e.originator_version,
            iso(e.timestamp),
            iso(e.timestamp),
        ),
    )


def _renamed(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"UPDATE {t['teams_directory']} SET name = ?, sort_key = ? WHERE id = ?",
        (e.name, team_name_key(e.name), str(e.originator_id)),
    )


def _member_added(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"INSERT INTO {t['team_members']} (team_id, user_id, role) VALUES (?, ?, ?)",
        (str(e.originator_id), e.user_id, e.role),
    )


def _member_role_changed(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"UPDATE {t['team_members']} SET role = ? WHERE team_id = ? AND user_id = ?",
        (e.role, str(e.originator_id), e.user_id),
    )


def _member_removed(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"DELETE FROM {t['team_members']} WHERE team_id = ? AND user_id = ?",
        (str(e.originator_id), e.user_id),
    )


CHANGES: dict[type, Callable[[Tx, Tables, Any], None]] = {
    Team.Formed: _formed,
    Team.Renamed: _renamed,
    Team.MemberAdded: _member_added,
    Team.MemberRoleChanged: _member_role_changed,
    Team.MemberRemoved: _member_removed,
}


class TeamDirectoryProjection(Projection):
    """Reads Team events; shows one row per team (`teams_directory`) and one per member
    (`team_members`)."""

    name = "teams"
    tables = ("teams_directory", "team_members")
    topics = topics_of(Team)

    def create(self, tx: Tx, t: Tables) -> None:
        teams, members = t["teams_directory"], t["team_members"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {teams} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, sort_key TEXT NOT NULL,"
            " version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {teams}_sort ON {teams} (sort_key, id)")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {members} ("
            " team_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL,"
            " PRIMARY KEY (team_id, user_id))"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {members}_user ON {members} (user_id)")

    def key_columns(self, base: str) -> str:
        return "team_id, user_id" if base == "team_members" else "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            e = p.event
            change = CHANGES.get(type(e))
            if change is None:
                continue
            change(tx, t, e)
            tx.execute(
                f"UPDATE {t['teams_directory']} SET version = ?, updated_at = ? WHERE id = ?",
                (e.originator_version, iso(e.timestamp), str(e.originator_id)),
            )


def list_teams(
    tx: Tx, t: Tables, q: str | None, cursor: str | None, limit: int
) -> tuple[list[Doc], str | None]:
    """Teams by name (case-blind), with their members, a page at a time."""
    where, params = [], []
    if q:
        where.append("sort_key LIKE ?")
        params.append("%" + team_name_key(q).replace("%", "").replace("_", "") + "%")
    if cursor:
        sort_key, team_id = decode_cursor(cursor, 2)
        where.append("(sort_key > ? OR (sort_key = ? AND id > ?))")
        params += [str(sort_key), str(sort_key), str(team_id)]
    sql = f"SELECT {COLUMNS} FROM {t['teams_directory']}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = tx.all(sql + " ORDER BY sort_key, id LIMIT ?", (*params, limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["sort_key"], rows[-1]["id"])
    return _with_members(tx, t, rows), next_cursor


def get_team(tx: Tx, t: Tables, team_id: str) -> Doc | None:
    """One team with its members, or None."""
    rows = tx.all(f"SELECT {COLUMNS} FROM {t['teams_directory']} WHERE id = ?", (team_id,))
    return _with_members(tx, t, rows)[0] if rows else None


def _with_members(tx: Tx, t: Tables, rows: list[Doc]) -> list[Doc]:
    members: dict[str, list[Doc]] = {row["id"]: [] for row in rows}
    if members:
        marks = ",".join("?" * len(members))
        for m in tx.all(
            f"SELECT team_id, user_id, role FROM {t['team_members']}"
            f" WHERE team_id IN ({marks}) ORDER BY team_id, user_id",
            list(members),
        ):
            members[m["team_id"]].append({"user_id": m["user_id"], "role": m["role"]})
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "members": members[row["id"]],
            "version": row["version"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        for row in rows
    ]
