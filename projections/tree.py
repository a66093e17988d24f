"""Tree view: reads Portfolio, Organisation, Project, Folder, Ticket and Task events; shows
the organisation tree (portfolios, customer folders, projects, folders, items of both kinds)
with each project's and folder's count of the items directly inside it, per item kind and
state.

The queries over these tables (children, rollups, scoping) are in `projections.tree_query`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from projections.base import Positioned, Projection, Tables, topic_name
from projections.db import Tx, cached_rows

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
        items = _Items(tx, t, events)
        for p in events:
            name = topic_name(p.event)
            item_handler = _ITEM_HANDLERS.get(name)
            if item_handler is not None:
                item_handler(items, p.event)
                continue
            handler = _HANDLERS.get(name)
            if handler is not None:
                handler(tx, t, p.event)
        items.write_counts()
        items.keep()


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


class _Items:
    """A page's items and count changes: the items its events need are read in one
    statement, and the counts move once per node for the whole page."""

    def __init__(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        self.tx, self.t = tx, t
        self.counts: Counter[tuple[str, str, str, str]] = Counter()
        wanted = {str(p.event.originator_id) for p in events if topic_name(p.event) in _LOOKED_UP}
        created = {str(p.event.originator_id) for p in events if topic_name(p.event) in _CREATED}
        # While rebuilding, only the rows the rebuild does not hold in memory are read.
        self.rows: dict[str, dict[str, Any] | None] = cached_rows(
            tx, t["tree_items"], wanted, self._read, created
        )

    def _read(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        rows: dict[str, dict[str, Any] | None] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.tx.all(
                f"SELECT id, kind, state, project_id, folder_id FROM {self.t['tree_items']}"
                f" WHERE id IN ({marks})",
                chunk,
            ):
                rows[row.pop("id")] = row
        return rows

    def keep(self) -> None:
        """While rebuilding: the page's rows, as written, for the next pages."""
        cache = self.tx.row_cache(self.t["tree_items"])
        if cache is not None:
            cache.forget([item for item, row in self.rows.items() if row is None])
            cache.keep({item: row for item, row in self.rows.items() if row is not None})

    def item(self, e: Any) -> dict[str, Any]:
        row = self.rows.get(str(e.originator_id))
        assert row is not None, f"no item {e.originator_id} in the tree"
        return row

    def count(self, node: tuple[str, str], kind: str, state: str, delta: int) -> None:
        self.counts[(*node, kind, state)] += delta

    def write_counts(self) -> None:
        """Each node's count moved by the page's sum; a count that reaches 0 has no row
        (as after every event one at a time: the rows never depend on the pages)."""
        moved = sorted((key, n) for key, n in self.counts.items() if n)
        if not moved:
            return
        table = self.t["tree_counts"]
        self.tx.executemany(
            f"INSERT INTO {table} (node_kind, node_id, item_kind, state, n) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (node_kind, node_id, item_kind, state)"
            f" DO UPDATE SET n = {table}.n + excluded.n",
            [(*key, n) for key, n in moved],
        )
        self.tx.executemany(
            f"DELETE FROM {table} WHERE node_kind = ? AND node_id = ? AND item_kind = ?"
            " AND state = ? AND n = 0",
            [key for key, _ in moved],
        )


ItemHandler = Callable[[_Items, Any], None]


def _opened(kind: str) -> ItemHandler:
    """An item's first event (`Ticket.Opened` or `Task.Planned`) says which kind it is."""

    def apply(items: _Items, e: Any) -> None:
        row = {"kind": kind, "state": e.state, "project_id": e.project_id}
        row["folder_id"] = e.folder_id
        items.tx.insert_row(
            items.t["tree_items"],
            {"id": str(e.originator_id), "number": e.number, "title": e.title, **row},
        )
        items.rows[str(e.originator_id)] = row
        items.count(_place(e.project_id, e.folder_id), kind, e.state, 1)

    return apply


def _converted(items: _Items, e: Any) -> None:
    """The ticket lives on as its task (which `Task.Planned` adds): shown once."""
    item = items.item(e)
    items.count(_place(item["project_id"], item["folder_id"]), item["kind"], item["state"], -1)
    items.tx.delete_row(items.t["tree_items"], {"id": str(e.originator_id)})
    items.rows[str(e.originator_id)] = None


def _item_moved(items: _Items, e: Any) -> None:
    item = items.item(e)
    items.count(_place(item["project_id"], item["folder_id"]), item["kind"], item["state"], -1)
    items.count(_place(e.project_id, e.folder_id), item["kind"], item["state"], 1)
    _item_set(items, e, project_id=e.project_id, folder_id=e.folder_id)


def _status_changed(items: _Items, e: Any) -> None:
    item = items.item(e)
    if item["state"] == e.state:
        return  # Another status in the same state: no count moves.
    place = _place(item["project_id"], item["folder_id"])
    items.count(place, item["kind"], item["state"], -1)
    items.count(place, item["kind"], e.state, 1)
    _item_set(items, e, state=e.state)


def _item_set(items: _Items, e: Any, **values: Any) -> None:
    items.tx.update_row(items.t["tree_items"], {"id": str(e.originator_id)}, values)
    row = items.rows.get(str(e.originator_id))
    if row is not None:
        row.update((k, v) for k, v in values.items() if k in row)


_ITEM_HANDLERS: dict[str, ItemHandler] = {
    "Ticket.Opened": _opened("ticket"),
    "Task.Planned": _opened("task"),
    "Ticket.ConvertedToTask": _converted,
    "Ticket.Retitled": lambda items, e: _item_set(items, e, title=e.title),
    "Ticket.Moved": _item_moved,
    "Ticket.StatusChanged": _status_changed,
}
# The events whose handlers read the item's row (and the only ones that change what
# `_Items` holds of it but its creation).
_LOOKED_UP = frozenset({"Ticket.ConvertedToTask", "Ticket.Moved", "Ticket.StatusChanged"})
_CREATED = frozenset({"Ticket.Opened", "Task.Planned"})


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
}
