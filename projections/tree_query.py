"""Queries of the tree view: a node's children a page at a time, each with the counts of
the items inside it and everything beneath it, scoped to the projects the caller may see
and to the item kinds (tickets, tasks) their apps show.

Rollups are summed here from the per-node counts the projection keeps (`tree_counts`), so
moving a project or folder never rewrites counts up a chain of ancestors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.errors import NotFoundError
from projections.base import InvalidCursorError, Tables, decode_cursor, encode_cursor
from projections.db import Tx
from projections.tree import STATES

Row = dict[str, Any]
KINDS = ("root", "portfolio", "customer", "project", "folder")
# Children are ordered containers first (by kind, then name), then items by number.
RANK = {"portfolio": 0, "customer": 1, "project": 2, "folder": 3, "item": 4}


class TreeNodeNotFoundError(NotFoundError):
    """Raised when the parent node does not exist, or is in a project the caller may not see."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no tree node {ref}")


class Visibility(Protocol):
    """Which projects and item kinds a staff user sees (`projections.access.StaffScope`
    is one)."""

    @property
    def all_projects(self) -> bool: ...

    @property
    def project_ids(self) -> frozenset[str]: ...

    @property
    def kinds(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class NodeRef:
    """`root`, or `<kind>:<id>` for a portfolio, customer folder, project or folder."""

    kind: str
    id: str | None = None

    @classmethod
    def parse(cls, text: str) -> NodeRef:
        kind, _, node_id = text.partition(":")
        if kind == "root" and not node_id:
            return cls("root")
        if kind not in KINDS or kind == "root" or not node_id:
            raise ValueError(
                "expected root, portfolio:<id>, customer:<id>, project:<id> or folder:<id>"
            )
        return cls(kind, node_id)

    def __str__(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


def _in(column: str, values: Iterable[str]) -> tuple[str, list[str]]:
    """`column IN (?, ...)` (never true for no values)."""
    listed = sorted(set(values))
    if not listed:
        return "1 = 0", []
    return f"{column} IN ({', '.join('?' for _ in listed)})", listed


class _Tree:
    """One caller's reading of one generation of the tree tables."""

    def __init__(self, tx: Tx, t: Tables, scope: Visibility) -> None:
        self.tx, self.t, self.scope = tx, t, scope

    # --- scoping -----------------------------------------------------------------------

    def visible(self, column: str) -> tuple[str, list[str]]:
        """A condition keeping rows whose project (in `column`) the caller sees."""
        if self.scope.all_projects:
            return "1 = 1", []
        return _in(column, self.scope.project_ids)

    def shown(self, column: str) -> tuple[str, list[str]]:
        """A condition keeping items (or counts) of a kind (in `column`) the caller's apps
        show."""
        return _in(column, self.scope.kinds)

    def portfolios_with_visible_projects(self) -> set[str]:
        """Portfolios holding, at any depth, a project the caller sees."""
        where, params = self.visible("id")
        rows = self.tx.all(
            f"WITH RECURSIVE up(id) AS ("
            f" SELECT portfolio_id FROM {self.t['tree_projects']}"
            f" WHERE portfolio_id IS NOT NULL AND {where}"
            f" UNION SELECT p.parent_id FROM {self.t['tree_portfolios']} p JOIN up ON p.id = up.id"
            f" WHERE p.parent_id IS NOT NULL) SELECT id FROM up",
            params,
        )
        return {r["id"] for r in rows}

    def folder_project(self, folder_id: str) -> str | None:
        """The project a folder is in: its top ancestor's (sub-folders follow moved parents)."""
        seen: set[str] = set()
        current: str | None = folder_id
        while current is not None and current not in seen:
            seen.add(current)
            row = self.tx.one(
                f"SELECT project_id, parent_id FROM {self.t['tree_folders']} WHERE id = ?",
                (current,),
            )
            if row is None:
                return None
            if row["parent_id"] is None:
                return str(row["project_id"])
            current = row["parent_id"]
        return None

    def sees_project(self, project_id: str | None) -> bool:
        return project_id is not None and (
            self.scope.all_projects or project_id in self.scope.project_ids
        )

    # --- rollups -----------------------------------------------------------------------

    def _sum(self, where: str, params: Sequence[Any], cte: str = "") -> dict[str, int]:
        kinds, kind_params = self.shown("item_kind")
        rows = self.tx.all(
            f"{cte} SELECT state, SUM(n) AS n FROM {self.t['tree_counts']}"
            f" WHERE ({where}) AND {kinds} GROUP BY state",
            [*params, *kind_params],
        )
        found = {r["state"]: int(r["n"]) for r in rows}
        counts = {state: found.get(state, 0) for state in STATES}
        return {**counts, "total": sum(counts.values())}

    def _subfolders(self, start: str) -> str:
        folders = self.t["tree_folders"]
        return (
            f"WITH RECURSIVE sub(id) AS (SELECT id FROM {folders} WHERE {start}"
            f" UNION SELECT f.id FROM {folders} f JOIN sub ON f.parent_id = sub.id)"
        )

    def folder_counts(self, folder_id: str) -> dict[str, int]:
        return self._sum(
            "node_kind = 'folder' AND node_id IN (SELECT id FROM sub)",
            [folder_id],
            self._subfolders("id = ?"),
        )

    def projects_counts(self, project_ids: Sequence[str]) -> dict[str, int]:
        """Everything in these projects: outside folders, and in every folder beneath."""
        tops, top_params = _in("project_id", project_ids)
        direct, direct_params = _in("node_id", project_ids)
        return self._sum(
            f"(node_kind = 'folder' AND node_id IN (SELECT id FROM sub))"
            f" OR (node_kind = 'project' AND {direct})",
            [*top_params, *direct_params],
            self._subfolders(f"parent_id IS NULL AND {tops}"),
        )

    def portfolio_projects(self, portfolio_id: str) -> list[str]:
        """The projects the caller sees in a portfolio and its sub-portfolios."""
        portfolios = self.t["tree_portfolios"]
        where, params = self.visible("id")
        rows = self.tx.all(
            f"WITH RECURSIVE ps(id) AS (SELECT CAST(? AS TEXT)"
            f" UNION SELECT p.id FROM {portfolios} p JOIN ps ON p.parent_id = ps.id)"
            f" SELECT id FROM {self.t['tree_projects']}"
            f" WHERE portfolio_id IN (SELECT id FROM ps) AND {where}",
            [portfolio_id, *params],
        )
        return [r["id"] for r in rows]

    def customer_projects(self, customer_id: str) -> list[str]:
        where, params = self.visible("project_id")
        rows = self.tx.all(
            f"SELECT project_id FROM {self.t['tree_project_customers']}"
            f" WHERE customer_id = ? AND {where}",
            [customer_id, *params],
        )
        return [r["project_id"] for r in rows]

    def all_projects(self) -> list[str]:
        where, params = self.visible("id")
        rows = self.tx.all(f"SELECT id FROM {self.t['tree_projects']} WHERE {where}", params)
        return [r["id"] for r in rows]

    def _exists(self, sql: str, params: Sequence[Any]) -> bool:
        return self.tx.one(sql + " LIMIT 1", params) is not None

    def describe(self, kind: str, row: Row) -> Row:
        """A node as shown: its counts (inside and beneath) and whether it has children."""
        node_id = row["id"]
        t = self.t
        kinds, kind_params = self.shown("kind")
        if kind == "item":
            counts = {state: int(state == row["state"]) for state in STATES}
            return {
                "kind": "item",
                "item_kind": row["kind"],
                "id": node_id,
                "name": f"#{row['number']} {row['title']}",
                "number": row["number"],
                "title": row["title"],
                "state": row["state"],
                "counts": {**counts, "total": 1},
                "has_children": False,
            }
        if kind in ("portfolio", "customer"):
            projects = (
                self.portfolio_projects(node_id)
                if kind == "portfolio"
                else self.customer_projects(node_id)
            )
            counts = self.projects_counts(projects)
            has_children = bool(projects) or (
                kind == "portfolio"
                and self.scope.all_projects
                and self._exists(
                    f"SELECT id FROM {t['tree_portfolios']} WHERE parent_id = ?", [node_id]
                )
            )
        elif kind == "project":
            counts = self.projects_counts([node_id])
            has_children = self._exists(
                f"SELECT id FROM {t['tree_folders']} WHERE project_id = ? AND parent_id IS NULL",
                [node_id],
            ) or self._exists(
                f"SELECT id FROM {t['tree_items']}"
                f" WHERE project_id = ? AND folder_id IS NULL AND {kinds}",
                [node_id, *kind_params],
            )
        else:
            counts = self.folder_counts(node_id)
            has_children = self._exists(
                f"SELECT id FROM {t['tree_folders']} WHERE parent_id = ?", [node_id]
            ) or self._exists(
                f"SELECT id FROM {t['tree_items']} WHERE folder_id = ? AND {kinds}",
                [node_id, *kind_params],
            )
        return {
            "kind": kind,
            "id": node_id,
            "ref": f"{kind}:{node_id}",
            "name": row["name"],
            "counts": counts,
            "has_children": has_children,
        }

    # --- children ----------------------------------------------------------------------

    def sources(self, parent: NodeRef) -> list[tuple[str, str, list[Any]]]:
        """Each kind of child of `parent`: (kind, condition, parameters), in display order."""
        t = self.t
        projects_seen = self.visible("id")
        if self.scope.all_projects:
            portfolios_seen: tuple[str, list[str]] = ("1 = 1", [])
        else:
            portfolios_seen = _in("id", self.portfolios_with_visible_projects())
        if parent.kind == "root":
            customers_seen: tuple[str, list[str]] = ("1 = 1", [])
            if not self.scope.all_projects:
                where, params = self.visible("project_id")
                customers_seen = (
                    f"id IN (SELECT customer_id FROM {t['tree_project_customers']} WHERE {where})",
                    params,
                )
            return [
                ("portfolio", f"parent_id IS NULL AND {portfolios_seen[0]}", portfolios_seen[1]),
                ("customer", customers_seen[0], customers_seen[1]),
                ("project", f"portfolio_id IS NULL AND {projects_seen[0]}", projects_seen[1]),
            ]
        if parent.kind == "portfolio":
            return [
                (
                    "portfolio",
                    f"parent_id = ? AND {portfolios_seen[0]}",
                    [parent.id, *portfolios_seen[1]],
                ),
                (
                    "project",
                    f"portfolio_id = ? AND {projects_seen[0]}",
                    [parent.id, *projects_seen[1]],
                ),
            ]
        if parent.kind == "customer":
            return [
                (
                    "project",
                    f"id IN (SELECT project_id FROM {t['tree_project_customers']}"
                    f" WHERE customer_id = ?) AND {projects_seen[0]}",
                    [parent.id, *projects_seen[1]],
                )
            ]
        kinds, kind_params = self.shown("kind")
        if parent.kind == "project":
            return [
                ("folder", "project_id = ? AND parent_id IS NULL", [parent.id]),
                (
                    "item",
                    f"project_id = ? AND folder_id IS NULL AND {kinds}",
                    [parent.id, *kind_params],
                ),
            ]
        return [
            ("folder", "parent_id = ?", [parent.id]),
            ("item", f"folder_id = ? AND {kinds}", [parent.id, *kind_params]),
        ]

    def page(self, parent: NodeRef, cursor: str | None, limit: int) -> tuple[list[Row], str | None]:
        after = _after(cursor)
        found: list[tuple[str, Row]] = []
        for kind, where, params in self.sources(parent):
            want = limit + 1 - len(found)
            if want <= 0 or (after is not None and RANK[kind] < after[0]):
                continue
            table = self.t["tree_items" if kind == "item" else f"tree_{kind}s"]
            order = "number" if kind == "item" else "name_key, id"
            if after is not None and RANK[kind] == after[0]:
                if kind == "item":
                    where, params = f"{where} AND number > ?", [*params, after[1]]
                else:
                    where = f"{where} AND (name_key > ? OR (name_key = ? AND id > ?))"
                    params = [*params, after[1], after[1], after[2]]
            rows = self.tx.all(
                f"SELECT * FROM {table} WHERE {where} ORDER BY {order} LIMIT ?", [*params, want]
            )
            found += [(kind, row) for row in rows]
        next_cursor = None
        if len(found) > limit:
            found = found[:limit]
            kind, last = found[-1]
            key = last["number"] if kind == "item" else last["name_key"]
            next_cursor = encode_cursor(RANK[kind], key, last["id"])
        return [self.describe(kind, row) for kind, row in found], next_cursor

    # --- the parent ----------------------------------------------------------------------

    def parent(self, ref: NodeRef) -> Row:
        """The parent node as shown (TreeNodeNotFoundError if missing or not the caller's)."""
        if ref.kind == "root":
            return {
                "kind": "root",
                "id": None,
                "ref": "root",
                "name": "root",
                "counts": self.projects_counts(self.all_projects()),
                "has_children": False,  # Set from the first page of children.
            }
        row = self.tx.one(f"SELECT * FROM {self.t[f'tree_{ref.kind}s']} WHERE id = ?", (ref.id,))
        if row is None:
            raise TreeNodeNotFoundError(str(ref))
        if ref.kind == "project" and not self.sees_project(ref.id):
            raise TreeNodeNotFoundError(str(ref))
        if not self.scope.all_projects and (
            (ref.kind == "portfolio" and ref.id not in self.portfolios_with_visible_projects())
            or (ref.kind == "customer" and not self.customer_projects(str(ref.id)))
        ):
            raise TreeNodeNotFoundError(str(ref))  # Holds nothing the caller may see.
        if ref.kind == "folder" and not self.sees_project(self.folder_project(str(ref.id))):
            raise TreeNodeNotFoundError(str(ref))
        return self.describe(ref.kind, row)


def _after(cursor: str | None) -> tuple[int, Any, str] | None:
    if cursor is None:
        return None
    rank, key, last_id = decode_cursor(cursor, 3)
    if rank not in RANK.values() or not isinstance(last_id, str):
        raise InvalidCursorError("cursor is not valid")
    # Items sort by number, containers by name: a key of any other type cannot be compared.
    if not isinstance(key, int if rank == RANK["item"] else str):
        raise InvalidCursorError("cursor is not valid")
    return rank, key, last_id


def tree_children(
    tx: Tx, t: Tables, parent: NodeRef, scope: Visibility, cursor: str | None, limit: int
) -> Row:
    """The parent node and one page of its children, as the caller may see them."""
    tree = _Tree(tx, t, scope)
    node = tree.parent(parent)
    children, next_cursor = tree.page(parent, cursor, limit)
    if parent.kind == "root":
        node["has_children"] = bool(children or cursor or tree.page(parent, None, 1)[0])
    return {"node": node, "items": children, "next_cursor": next_cursor}


# --- the places, for reads of other views ------------------------------------------------


@dataclass(frozen=True)
class _Everything:
    """No narrowing: the callers of these filter by the caller's scope themselves."""

    all_projects: bool = True
    project_ids: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset({"ticket", "task"})


_EVERYTHING = _Everything()


def place_ids(tx: Tx, t: Tables) -> list[str]:
    """Every portfolio, customer folder, project and folder the tree holds (their ids)."""
    tables = ("tree_portfolios", "tree_customers", "tree_projects", "tree_folders")
    return [row["id"] for table in tables for row in tx.all(f"SELECT id FROM {t[table]}")]


def folder_and_subfolders(tx: Tx, t: Tables, folder_id: str) -> frozenset[str]:
    """A folder and every folder beneath it, at any depth."""
    cte = _Tree(tx, t, _EVERYTHING)._subfolders("id = ?")
    return frozenset(r["id"] for r in tx.all(f"{cte} SELECT id FROM sub", [folder_id]))


def customer_project_ids(tx: Tx, t: Tables, customer_id: str) -> frozenset[str]:
    """The projects in a customer's folder."""
    return frozenset(_Tree(tx, t, _EVERYTHING).customer_projects(customer_id))
