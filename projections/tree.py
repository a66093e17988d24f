"""Tree view: reads Portfolio, Organisation, Project, Folder, Ticket and Task events; shows
the organisation tree (portfolios, customer folders, projects, folders, items of both kinds)
with each project's and folder's count of the items directly inside it, per item kind and
state.

The queries over these tables (children, rollups, scoping) are in `projections.tree_query`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from projections.base import Positioned, Projection, Tables, topic_name
from projections.db import Tx

STATES = ("not_started", "in_progress", "finished")
READS = (
    "Portfolio.Created",
    "Portfolio.Renamed",
    "Portfolio.Moved",
    "Organisation.Registered",
    "Organisation.Renamed",
    "Project.Created",
    "Project.Renamed",
    "Project.MovedToPortfolio",
    "Project.PlacedInCustomerFolder",
    "Project.RemovedFromCustomerFolder",
    "Folder.Created",
    "Folder.Renamed",
    "Folder.Moved",
    "Ticket.Opened",
    "Ticket.ConvertedToTask",
    "Task.Planned",
    "Ticket.Retitled",
    "Ticket.Moved",
    "Ticket.StatusChanged",
)
Handler = Callable[[Tx, Tables, Any], None]


class TreeProjection(Projection):
    """Reads Portfolio, Organisation, Project, Folder, Ticket and Task events; shows the
    nodes of the tree (`tree_portfolios`, `tree_customers`, `tree_projects`, `tree_folders`,
    `tree_items` with each item's kind), which customer folders show which project
    (`tree_project_customers`) and per-node item counts by item kind and state
    (`tree_counts`)."""

    name = "tree"
    schema_version = 2  # 2: items and counts by kind (ticket or task)
    tables = (
        "tree_portfolios",
        "tree_customers",
        "tree_projects",
        "tree_project_customers",
        "tree_folders",
        "tree_items",
        "tree_counts",
    )
    topics = frozenset(f"ledgerdesk:{topic}" for topic in READS)

    def create(self, tx: Tx, t: Tables) -> None:
        node = " id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL"
        tx.execute(f"CREATE TABLE IF NOT EXISTS {t['tree_portfolios']} ({node}, parent_id TEXT)")
        tx.execute(f"CREATE TABLE IF NOT EXISTS {t['tree_customers']} ({node})")
        tx.execute(f"CREATE TABLE IF NOT EXISTS {t['tree_projects']} ({node}, portfolio_id TEXT)")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['tree_project_customers']} ("
            " project_id TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " PRIMARY KEY (project_id, customer_id))"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['tree_folders']} ({node},"
            " project_id TEXT NOT NULL, parent_id TEXT)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['tree_items']} ("
            " id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL,"
            " title TEXT NOT NULL, state TEXT NOT NULL, project_id TEXT NOT NULL, folder_id TEXT)"
        )
        # Items directly in a node (a project: outside its folders; a folder: not in a
        # sub-folder), by item kind and state, so that each caller's apps pick what counts.
        # Rollups over everything beneath a node are query-time sums.
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['tree_counts']} ("
            " node_kind TEXT NOT NULL, node_id TEXT NOT NULL, item_kind TEXT NOT NULL,"
            " state TEXT NOT NULL, n INTEGER NOT NULL,"
            " PRIMARY KEY (node_kind, node_id, item_kind, state))"
        )
        for table, columns in (
            ("tree_portfolios", "parent_id, name_key, id"),
            ("tree_projects", "portfolio_id, name_key, id"),
            ("tree_project_customers", "customer_id, project_id"),
            ("tree_folders", "parent_id, name_key, id"),
            ("tree_folders", "project_id, parent_id, name_key, id"),
            ("tree_items", "project_id, folder_id, number"),
            ("tree_items", "folder_id, number"),
        ):
            name = f"{t[table]}_{columns.split(',')[0]}_{columns.count(',')}"
            tx.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {t[table]} ({columns})")

    def key_columns(self, base: str) -> str:
        return {
            "tree_project_customers": "project_id, customer_id",
            "tree_counts": "node_kind, node_id, item_kind, state",
        }.get(base, "id")

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        # Dispatch on the explicit topic: a declared creation class and the subclass the
        # library derives from it are different classes with one topic.
        for p in events:
            handler = _HANDLERS.get(topic_name(p.event))
            if handler is not None:
                handler(tx, t, p.event)


# --- containers ---------------------------------------------------------------------------


def _insert(table: str, **extra: Callable[[Any], Any]) -> Handler:
    def apply(tx: Tx, t: Tables, e: Any) -> None:
        columns = {"id": str(e.originator_id), "name": e.name, "name_key": e.name.casefold()}
        columns.update({column: value(e) for column, value in extra.items()})
        tx.execute(
            f"INSERT INTO {t[table]} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})",
            tuple(columns.values()),
        )

    return apply


def _set(table: str, **columns: Callable[[Any], Any]) -> Handler:
    def apply(tx: Tx, t: Tables, e: Any) -> None:
        values = {column: value(e) for column, value in columns.items()}
        assignments = ", ".join(f"{c} = ?" for c in values)
        tx.execute(
            f"UPDATE {t[table]} SET {assignments} WHERE id = ?",
            (*values.values(), str(e.originator_id)),
        )

    return apply


def _renamed(table: str) -> Handler:
    return _set(table, name=lambda e: e.name, name_key=lambda e: e.name.casefold())


def _placed(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"INSERT INTO {t['tree_project_customers']} (project_id, customer_id) VALUES (?, ?)"
        " ON CONFLICT DO NOTHING",
        (str(e.originator_id), e.organisation_id),
    )


def _removed(tx: Tx, t: Tables, e: Any) -> None:
    tx.execute(
        f"DELETE FROM {t['tree_project_customers']} WHERE project_id = ? AND customer_id = ?",
        (str(e.originator_id), e.organisation_id),
    )


# --- items and their counts -------------------------------------------------------------------


def _place(project_id: str, folder_id: str | None) -> tuple[str, str]:
    """The node an item is directly in: its folder, or its project outside any folder."""
    return ("folder", folder_id) if folder_id else ("project", project_id)


def _count(tx: Tx, t: Tables, node: tuple[str, str], kind: str, state: str, delta: int) -> None:
    table = t["tree_counts"]
    tx.execute(
        f"INSERT INTO {table} (node_kind, node_id, item_kind, state, n) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (node_kind, node_id, item_kind, state)"
        f" DO UPDATE SET n = {table}.n + excluded.n",
        (*node, kind, state, delta),
    )
    tx.execute(
        f"DELETE FROM {table} WHERE node_kind = ? AND node_id = ? AND item_kind = ?"
        " AND state = ? AND n = 0",
        (*node, kind, state),
    )


def _item(tx: Tx, t: Tables, e: Any) -> dict[str, Any]:
    row = tx.one(
        f"SELECT kind, state, project_id, folder_id FROM {t['tree_items']} WHERE id = ?",
        (str(e.originator_id),),
    )
    assert row is not None, f"no item {e.originator_id} in the tree"
    return row


def _opened(kind: str) -> Handler:
    """An item's first event (`Ticket.Opened` or `Task.Planned`) says which kind it is."""

    def apply(tx: Tx, t: Tables, e: Any) -> None:
        tx.execute(
            f"INSERT INTO {t['tree_items']} (id, number, kind, title, state, project_id,"
            " folder_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (str(e.originator_id), e.number, kind, e.title, e.state, e.project_id, e.folder_id),
        )
        _count(tx, t, _place(e.project_id, e.folder_id), kind, e.state, 1)

    return apply


def _converted(tx: Tx, t: Tables, e: Any) -> None:
    """The ticket lives on as its task (which `Task.Planned` adds): shown once."""
    item = _item(tx, t, e)
    place = _place(item["project_id"], item["folder_id"])
    _count(tx, t, place, item["kind"], item["state"], -1)
    tx.execute(f"DELETE FROM {t['tree_items']} WHERE id = ?", (str(e.originator_id),))


def _item_moved(tx: Tx, t: Tables, e: Any) -> None:
    item = _item(tx, t, e)
    place = _place(item["project_id"], item["folder_id"])
    _count(tx, t, place, item["kind"], item["state"], -1)
    _count(tx, t, _place(e.project_id, e.folder_id), item["kind"], item["state"], 1)
    _set("tree_items", project_id=lambda e: e.project_id, folder_id=lambda e: e.folder_id)(tx, t, e)


def _status_changed(tx: Tx, t: Tables, e: Any) -> None:
    item = _item(tx, t, e)
    if item["state"] == e.state:
        return  # Another status in the same state: no count moves.
    place = _place(item["project_id"], item["folder_id"])
    _count(tx, t, place, item["kind"], item["state"], -1)
    _count(tx, t, place, item["kind"], e.state, 1)
    _set("tree_items", state=lambda e: e.state)(tx, t, e)


_HANDLERS: dict[str, Handler] = {
    "Portfolio.Created": _insert("tree_portfolios", parent_id=lambda e: e.parent_id),
    "Portfolio.Renamed": _renamed("tree_portfolios"),
    "Portfolio.Moved": _set("tree_portfolios", parent_id=lambda e: e.parent_id),
    "Organisation.Registered": _insert("tree_customers"),
    "Organisation.Renamed": _renamed("tree_customers"),
    "Project.Created": _insert("tree_projects", portfolio_id=lambda e: None),
    "Project.Renamed": _renamed("tree_projects"),
    "Project.MovedToPortfolio": _set("tree_projects", portfolio_id=lambda e: e.portfolio_id),
    "Project.PlacedInCustomerFolder": _placed,
    "Project.RemovedFromCustomerFolder": _removed,
    "Folder.Created": _insert(
        "tree_folders", project_id=lambda e: e.project_id, parent_id=lambda e: e.parent_id
    ),
    "Folder.Renamed": _renamed("tree_folders"),
    # Only the moved folder's event names the new project: its sub-folders and items follow
    # it by their parent links, so a folder's project is the one its top ancestor is in.
    "Folder.Moved": _set(
        "tree_folders", project_id=lambda e: e.project_id, parent_id=lambda e: e.parent_id
    ),
    "Ticket.Opened": _opened("ticket"),
    "Task.Planned": _opened("task"),
    "Ticket.ConvertedToTask": _converted,
    "Ticket.Retitled": _set("tree_items", title=lambda e: e.title),
    "Ticket.Moved": _item_moved,
    "Ticket.StatusChanged": _status_changed,
}
