"""Where an imported row's item goes, by name: a project (`Project`, or `Customer/Project`
for one in that customer's folder) and a folder in it, read from the `hierarchy` and
`customers` views. Names are compared as people read them: white space collapsed, case
folded. The write side checks that each exists and may be used."""

from __future__ import annotations

from dataclasses import dataclass, field

from projections.base import current_tables, loads
from projections.db import Tx


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass
class Places:
    """Every project and folder by name (read once per import)."""

    projects: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    customers: dict[str, list[str]] = field(default_factory=dict)
    folders: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, tx: Tx) -> Places:
        hierarchy = current_tables(tx, "hierarchy")
        customers = current_tables(tx, "customers")
        places = cls()
        for row in tx.all(f"SELECT id, name, customer_ids FROM {hierarchy['hierarchy_projects']}"):
            entry = (row["id"], list(loads(row["customer_ids"])))
            places.projects.setdefault(name_key(row["name"]), []).append(entry)
        for row in tx.all(f"SELECT id, name FROM {customers['customer_organisations']}"):
            places.customers.setdefault(name_key(row["name"]), []).append(row["id"])
        for row in tx.all(f"SELECT id, name, project_id FROM {hierarchy['hierarchy_folders']}"):
            key = (row["project_id"], name_key(row["name"]))
            places.folders.setdefault(key, []).append(row["id"])
        return places

    def project(self, path: str) -> list[str]:
        """The projects `path` may name (`Project`, or `Customer/Project`; a project
        whose own name has a `/` is found by it whole)."""
        whole = self.projects.get(name_key(path), [])
        customer, _, project = path.rpartition("/")
        if whole or not customer:
            return sorted(project_id for project_id, _ in whole)
        named = self.projects.get(name_key(project), [])
        owners = set(self.customers.get(name_key(customer), []))
        return sorted(project_id for project_id, held in named if owners & set(held))

    def folder(self, project_id: str, name: str) -> list[str]:
        """The folders of `project_id` named `name` (at any depth)."""
        return sorted(self.folders.get((project_id, name_key(name)), []))
