"""Saved views view: reads SavedView events; shows each live view and dashboard (`kind`)
with its definition and who it is shared with, for listing the views or dashboards a
staff user may see and reading one. The system views an install ships appear here as
shipped until an admin first changes one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from domain.views.definition import checked_definition
from domain.views.saved_view import SYSTEM_VIEWS, SavedView
from projections.base import Positioned, Projection, Tables, dumps, iso, loads, topics_of
from projections.db import Tx

Doc = dict[str, Any]
COLUMNS = "id, kind, name, owner_id, system, definition, all_staff, version, created_at, updated_at"


def _saved(tx: Tx, t: Tables, e: Any) -> None:
    tx.insert_row(
        t["saved_views"],
        {
            "id": str(e.originator_id),
            "kind": e.kind,
            "name": e.name,
            "owner_id": e.owner,
            "system": 1 if e.system else 0,
            "definition": dumps(e.definition),
            "all_staff": 1 if e.sharing["all_staff"] else 0,
            "version": e.originator_version,
            "created_at": iso(e.timestamp),
            "updated_at": iso(e.timestamp),
        },
    )
    _share(tx, t, str(e.originator_id), e.sharing)


def _share(tx: Tx, t: Tables, view_id: str, sharing: dict[str, Any]) -> None:
    shares = t["saved_view_shares"]
    tx.execute(f"DELETE FROM {shares} WHERE view_id = ?", (view_id,))
    rows = [(view_id, "user", u) for u in sharing["users"]]
    rows += [(view_id, "team", team) for team in sharing["teams"]]
    if rows:
        tx.executemany(f"INSERT INTO {shares} (view_id, kind, target) VALUES (?, ?, ?)", rows)


def _shared(tx: Tx, t: Tables, e: Any) -> None:
    view_id = str(e.originator_id)
    all_staff = 1 if e.sharing["all_staff"] else 0
    tx.update_row(t["saved_views"], {"id": view_id}, {"all_staff": all_staff})
    _share(tx, t, view_id, e.sharing)


def _deleted(tx: Tx, t: Tables, e: Any) -> None:
    view_id = str(e.originator_id)
    tx.delete_row(t["saved_views"], {"id": view_id})
    tx.execute(f"DELETE FROM {t['saved_view_shares']} WHERE view_id = ?", (view_id,))


def _set(column: str, value: Callable[[Any], Any]) -> Callable[[Tx, Tables, Any], None]:
    def apply(tx: Tx, t: Tables, e: Any) -> None:
        tx.update_row(t["saved_views"], {"id": str(e.originator_id)}, {column: value(e)})

    return apply


CHANGES: dict[str, Callable[[Tx, Tables, Any], None]] = {
    "Saved": _saved,
    "Renamed": _set("name", lambda e: e.name),
    "Redefined": _set("definition", lambda e: dumps(e.definition)),
    "Shared": _shared,
    "Deleted": _deleted,
}


class SavedViewsProjection(Projection):
    """Reads SavedView events; shows one row per live view (`saved_views`) and one per user
    or team it is shared with (`saved_view_shares`)."""

    name = "saved_views"
    tables = ("saved_views", "saved_view_shares")
    topics = topics_of(SavedView)
    schema_version = 2  # 2: kind (view or dashboard)

    def create(self, tx: Tx, t: Tables) -> None:
        views, shares = t["saved_views"], t["saved_view_shares"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {views} ("
            " id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, owner_id TEXT,"
            " system INTEGER NOT NULL,"
            " definition TEXT NOT NULL, all_staff INTEGER NOT NULL, version INTEGER NOT NULL,"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {views}_owner ON {views} (owner_id, kind)")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {shares} ("
            " view_id TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,"
            " PRIMARY KEY (view_id, kind, target))"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {shares}_target ON {shares} (kind, target)")

    def key_columns(self, base: str) -> str:
        return "view_id, kind, target" if base == "saved_view_shares" else "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            e = p.event
            change = CHANGES.get(type(e).__name__)
            if change is None:
                continue
            change(tx, t, e)
            if type(e).__name__ != "Deleted":
                tx.update_row(
                    t["saved_views"],
                    {"id": str(e.originator_id)},
                    {"version": e.originator_version, "updated_at": iso(e.timestamp)},
                )


def _visible_to(t: Tables, user_id: str, team_ids: Iterable[str]) -> tuple[str, list[Any]]:
    teams = sorted(team_ids)
    shares = t["saved_view_shares"]
    where = (
        f"(owner_id = ? OR all_staff = 1 OR EXISTS (SELECT 1 FROM {shares} s"
        " WHERE s.view_id = v.id AND s.kind = 'user' AND s.target = ?)"
    )
    params: list[Any] = [user_id, user_id]
    if teams:
        where += (
            f" OR EXISTS (SELECT 1 FROM {shares} s WHERE s.view_id = v.id AND s.kind = 'team'"
            f" AND s.target IN ({','.join('?' * len(teams))}))"
        )
        params += teams
    return where + ")", params


def teams_of(tx: Tx, teams: Tables, user_id: str) -> list[str]:
    """The teams `user_id` is a member of (from the team directory view)."""
    rows = tx.all(f"SELECT team_id FROM {teams['team_members']} WHERE user_id = ?", (user_id,))
    return [r["team_id"] for r in rows]


def list_saved_views(
    tx: Tx, t: Tables, user_id: str, team_ids: Iterable[str], kind: str = "view"
) -> list[Doc]:
    """The views (or dashboards) `user_id` (a member of `team_ids`) may see: the system
    views first (in their shipped order), then the others by name."""
    where, params = _visible_to(t, user_id, team_ids)
    rows = tx.all(
        f"SELECT {COLUMNS} FROM {t['saved_views']} v WHERE kind = ? AND {where}", [kind, *params]
    )
    found = {doc["id"]: doc for doc in _with_shares(tx, t, rows)}
    system = [
        found.pop(v["id"]) if v["id"] in found else shipped(v)
        for v in (SYSTEM_VIEWS if kind == "view" else ())
    ]
    return system + sorted(found.values(), key=lambda v: (v["name"].casefold(), v["id"]))


def get_saved_view(
    tx: Tx, t: Tables, view_id: str, user_id: str, team_ids: Iterable[str], kind: str = "view"
) -> Doc | None:
    """One view (or dashboard) `user_id` may see, or None."""
    where, params = _visible_to(t, user_id, team_ids)
    row = tx.one(
        f"SELECT {COLUMNS} FROM {t['saved_views']} v WHERE id = ? AND kind = ? AND {where}",
        [view_id, kind, *params],
    )
    if row is not None:
        return _with_shares(tx, t, [row])[0]
    if kind != "view":
        return None
    recorded = tx.one(f"SELECT id FROM {t['saved_views']} WHERE id = ?", (view_id,))
    found = next((v for v in SYSTEM_VIEWS if v["id"] == view_id), None)
    return shipped(found) if found is not None and recorded is None else None


def shipped(view: Doc) -> Doc:
    """A system view as shipped (not yet changed)."""
    return {
        "id": view["id"],
        "name": view["name"],
        "owner_id": None,
        "system": True,
        "definition": checked_definition(view["definition"]),
        "sharing": {"users": [], "teams": [], "all_staff": True},
        "version": 0,
        "created_at": None,
        "updated_at": None,
    }


def _with_shares(tx: Tx, t: Tables, rows: list[Doc]) -> list[Doc]:
    """Each view row as a document, with who it is shared with (one read for them all)."""
    shared: dict[str, dict[str, list[str]]] = {r["id"]: {"user": [], "team": []} for r in rows}
    ids = sorted(shared)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for s in tx.all(
            f"SELECT view_id, kind, target FROM {t['saved_view_shares']}"
            f" WHERE view_id IN ({','.join('?' * len(chunk))}) ORDER BY view_id, kind, target",
            chunk,
        ):
            shared[s["view_id"]][s["kind"]].append(s["target"])
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "owner_id": row["owner_id"],
            "system": bool(row["system"]),
            "definition": loads(row["definition"]),
            "sharing": {
                "users": shared[row["id"]]["user"],
                "teams": shared[row["id"]]["team"],
                "all_staff": bool(row["all_staff"]),
            },
            "version": row["version"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        for row in rows
    ]
