"""Timesheets view: reads TimesheetEntry events (a row per entry, `timesheet_entries`), the
items time goes to (`Ticket.Opened`, `Task.Planned`, `Ticket.Retitled`,
`Ticket.ConvertedToTask`: `timesheet_items`), which customer folders each project sits in
(`timesheet_project_customers`) and the names of users, projects and customers
(`timesheet_names`); shows the timesheet list and the time reports.

- An entry stays in the project it was logged in (the event's `project_id`), even if its
  item moves later: the time was spent there.
- Time logged on a ticket that became a task is reported under the task: each entry keeps
  the number it was logged on (`item_number`) and the number it is reported under
  (`report_number`), moved to the task by `Ticket.ConvertedToTask`, whichever comes first.
- A withdrawn entry keeps its row (state `withdrawn`); reports leave it out.
- An imported entry waits in `timesheet_staged_entries` (which no query reads) until its
  import completes (`Import.Completed`), then moves to `timesheet_entries` with every other
  entry of that import at once; `TimesheetEntry.Restaged` moves it to another import.
- An entry of a project in several customer folders counts for each of them in a report by
  customer (so those groups may add up to more than the total); `(none)` holds the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from projections.base import (
    Positioned,
    Projection,
    Tables,
    iso,
    topic_name,
)
from projections.db import Row, Tx, cached_rows

ENTRY = "TimesheetEntry."
CREATED = ("Ticket.Opened", "Task.Planned")
ITEM_EVENTS = (*CREATED, "Ticket.Retitled", "Ticket.ConvertedToTask")
NAMES = {
    "User.Registered": "user",
    "User.Renamed": "user",
    "Project.Created": "project",
    "Project.Renamed": "project",
    "Organisation.Registered": "customer",
    "Organisation.Renamed": "customer",
}
FOLDERS = ("Project.PlacedInCustomerFolder", "Project.RemovedFromCustomerFolder")
STATES = {"Submitted": "submitted", "Withdrawn": "withdrawn", "Approved": "approved"}
ENTRY_EVENTS = ("Logged", "Edited", "Submitted", "Withdrawn", "Approved", "Rejected")
STAGING = ("TimesheetEntry.Restaged", "Import.Completed")
READS = (*(ENTRY + e for e in ENTRY_EVENTS), *ITEM_EVENTS, *NAMES, *FOLDERS, *STAGING)
ENTRY_COLUMNS = (
    *("id", "user_id", "item_number", "report_number", "project_id", "work_date", "week"),
    *("month", "minutes", "billable", "activity", "notes", "state", "rejection_reason"),
    *("source", "corrects", "started_at", "finished_at", "created_at", "updated_at", "version"),
)
ITEM_COLUMNS = ("number", "id", "kind", "title", "converted_to")
# Whose entries a caller sees beyond their own: those of the projects they manage or lead.
LEADING_ROLES = frozenset({"manager", "lead"})


class TimesheetProjection(Projection):
    """Reads TimesheetEntry events, item, project, customer-folder and name events, and
    `Import.Completed`; shows `timesheet_entries`, `timesheet_items`,
    `timesheet_project_customers` and `timesheet_names` (and keeps imported entries in
    `timesheet_staged_entries` until their import completes)."""

    name = "timesheets"
    schema_version = 2  # 2: imported entries are staged until their import completes.
    tables = (
        "timesheet_entries",
        "timesheet_staged_entries",
        "timesheet_items",
        "timesheet_project_customers",
        "timesheet_names",
    )
    topics = frozenset(f"ledgerdesk:{topic}" for topic in READS)

    def create(self, tx: Tx, t: Tables) -> None:
        entries = t["timesheet_entries"]
        columns = (
            " id TEXT PRIMARY KEY, user_id TEXT NOT NULL, item_number INTEGER NOT NULL,"
            " report_number INTEGER NOT NULL, project_id TEXT NOT NULL, work_date TEXT NOT NULL,"
            " week TEXT NOT NULL, month TEXT NOT NULL, minutes INTEGER NOT NULL,"
            " billable INTEGER NOT NULL, activity TEXT NOT NULL, notes TEXT NOT NULL,"
            " state TEXT NOT NULL, rejection_reason TEXT, source TEXT NOT NULL, corrects TEXT,"
            " started_at TEXT, finished_at TEXT, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, version INTEGER NOT NULL"
        )
        tx.execute(f"CREATE TABLE IF NOT EXISTS {entries} ({columns})")
        staged = t["timesheet_staged_entries"]
        tx.execute(f"CREATE TABLE IF NOT EXISTS {staged} ({columns}, import_id TEXT NOT NULL)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {staged}_import ON {staged} (import_id)")
        for columns in (
            "work_date, id",
            "user_id, work_date, id",
            "project_id, work_date, id",
            "report_number, work_date, id",
        ):
            name = f"{entries}_{columns.split(',')[0]}"
            tx.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {entries} ({columns})")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['timesheet_items']} (number INTEGER PRIMARY KEY,"
            " id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, title TEXT NOT NULL,"
            " converted_to INTEGER)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['timesheet_project_customers']} ("
            " project_id TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " PRIMARY KEY (project_id, customer_id))"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['timesheet_names']} (kind TEXT NOT NULL,"
            " id TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (kind, id))"
        )

    def key_columns(self, base: str) -> str:
        return {
            "timesheet_items": "number",
            "timesheet_project_customers": "project_id, customer_id",
            "timesheet_names": "kind, id",
        }.get(base, "id")

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        # Entries and items are loaded for the page, folded in memory and written back in
        # one batch; names and folders are rare and written as they come.
        page = _Page.load(tx, t, [p.event for p in events])
        for p in events:
            e, name = p.event, topic_name(p.event)
            if name in STAGING:
                page.staging_event(tx, t, name, e)
            elif name.startswith(ENTRY):
                page.entry_event(tx, t, name.removeprefix(ENTRY), e)
            elif name in ITEM_EVENTS:
                page.item_event(name, e)
            elif name in NAMES:
                tx.execute(
                    f"INSERT INTO {t['timesheet_names']} (kind, id, name) VALUES (?, ?, ?)"
                    " ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name",
                    (NAMES[name], str(e.originator_id), e.name),
                )
            elif name == FOLDERS[0]:
                tx.execute(
                    f"INSERT INTO {t['timesheet_project_customers']} (project_id, customer_id)"
                    " VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (str(e.originator_id), e.organisation_id),
                )
            elif name == FOLDERS[1]:
                tx.execute(
                    f"DELETE FROM {t['timesheet_project_customers']}"
                    " WHERE project_id = ? AND customer_id = ?",
                    (str(e.originator_id), e.organisation_id),
                )
        page.save(tx, t)


def _in(tx: Tx, sql: str, values: Sequence[Any]) -> list[Row]:
    """`sql` with `IN ({marks})` for every 500 of `values`."""
    rows: list[Row] = []
    for start in range(0, len(values), 500):
        chunk = list(values[start : start + 500])
        rows += tx.all(sql.format(marks=",".join("?" * len(chunk))), chunk)
    return rows


def _calendar(work_date: str) -> dict[str, str]:
    year, week, _ = date.fromisoformat(work_date).isocalendar()
    return {"work_date": work_date, "week": f"{year}-W{week:02d}", "month": work_date[:7]}


@dataclass
class _Page:
    """The rows one page of events touches, folded in memory."""

    entries: dict[str, Row]
    items: dict[str, Row]  # by item id
    numbers: dict[int, Row]  # the same rows by number
    changed: set[int]  # numbers of the items this page changed
    conversions: list[tuple[int, int]]  # (ticket, task) to apply to rows outside the page
    staged: dict[str, Row] = field(default_factory=dict)  # imported, not yet shown

    @classmethod
    def load(cls, tx: Tx, t: Tables, events: list[Any]) -> _Page:
        entry_ids, item_ids, numbers = set(), set(), set()
        for e in events:
            name = topic_name(e)
            if name.startswith(ENTRY):
                entry_ids.add(str(e.originator_id))
                if name == ENTRY + "Logged":
                    numbers.add(e.item_number)
            elif name in ITEM_EVENTS:
                item_ids.add(str(e.originator_id))
        entries = {
            r["id"]: r
            for r in _in(
                tx,
                f"SELECT * FROM {t['timesheet_entries']} WHERE id IN ({{marks}})",
                sorted(entry_ids),
            )
        }
        # Items by id: while rebuilding, only those the rebuild does not hold in memory and
        # that this page does not create are read (`cached_rows`); by number (the items time
        # is logged on), from the table.
        table = t["timesheet_items"]
        created = {str(e.originator_id) for e in events if topic_name(e) in CREATED}
        items = cached_rows(
            tx,
            table,
            item_ids,
            lambda keys: {
                r["id"]: r for r in _in(tx, f"SELECT * FROM {table} WHERE id IN ({{marks}})", keys)
            },
            created,
        )
        items.update(
            (r["id"], r)
            for r in _in(tx, f"SELECT * FROM {table} WHERE number IN ({{marks}})", sorted(numbers))
        )
        return cls(entries, items, {r["number"]: r for r in items.values()}, set(), [])

    def entry_event(self, tx: Tx, t: Tables, name: str, e: Any) -> None:
        entry_id = str(e.originator_id)
        if name == "Logged":
            item = self.numbers.get(e.item_number)
            rows = self.staged if e.import_id else self.entries
            rows[entry_id] = {
                "id": entry_id,
                "user_id": e.user_id,
                "item_number": e.item_number,
                "report_number": (item and item["converted_to"]) or e.item_number,
                "project_id": e.project_id,
                **_calendar(e.work_date),
                "minutes": e.minutes,
                "billable": int(e.billable),
                "activity": e.activity,
                "notes": e.notes,
                "state": e.state,
                "rejection_reason": None,
                "source": e.source,
                "corrects": e.corrects,
                "started_at": e.started_at,
                "finished_at": e.finished_at,
                "created_at": iso(e.timestamp),
                **({"import_id": e.import_id} if e.import_id else {}),
            }
        row = self.entries.get(entry_id) or self.staged.get(entry_id) or self._shown(tx, t, e)
        if row is None:
            return  # Not seen logged: nothing to change.
        if name == "Edited":
            changes = dict(e.changes)
            if "billable" in changes:
                changes["billable"] = int(changes["billable"])
            if "work_date" in changes:
                changes.update(_calendar(changes["work_date"]))
            row.update(changes)
        elif name in STATES:
            row.update(state=STATES[name], rejection_reason=None)
        elif name == "Rejected":
            row.update(state="rejected", rejection_reason=e.reason)
        row.update(updated_at=iso(e.timestamp), version=e.originator_version)

    def _shown(self, tx: Tx, t: Tables, e: Any) -> Row | None:
        """An entry shown since this page was loaded (its import completed in this page)."""
        row = tx.one(
            f"SELECT * FROM {t['timesheet_entries']} WHERE id = ?", (str(e.originator_id),)
        )
        if row is not None:
            self.entries[row["id"]] = row = dict(row)
        return row

    def staging_event(self, tx: Tx, t: Tables, name: str, e: Any) -> None:
        """An entry moves to another import, or an import completes: its entries show."""
        self._save_staged(tx, t)
        staged = t["timesheet_staged_entries"]
        if name == "TimesheetEntry.Restaged":
            tx.execute(
                f"UPDATE {staged} SET import_id = ?, updated_at = ?, version = ? WHERE id = ?",
                (e.import_id, iso(e.timestamp), e.originator_version, str(e.originator_id)),
            )
            return
        columns = ", ".join(ENTRY_COLUMNS)
        tx.execute(
            f"INSERT INTO {t['timesheet_entries']} ({columns}) SELECT {columns} FROM {staged}"
            " WHERE import_id = ?",
            (str(e.originator_id),),
        )
        tx.execute(f"DELETE FROM {staged} WHERE import_id = ?", (str(e.originator_id),))

    def _save_staged(self, tx: Tx, t: Tables) -> None:
        rows = list(self.staged.values())
        self.staged.clear()
        _upsert(tx, t["timesheet_staged_entries"], (*ENTRY_COLUMNS, "import_id"), "id", rows)

    def item_event(self, name: str, e: Any) -> None:
        item_id = str(e.originator_id)
        if name in CREATED:
            kind = "task" if name == "Task.Planned" else "ticket"
            row = {"number": e.number, "id": item_id, "kind": kind, "title": e.title}
            self.items[item_id] = self.numbers[e.number] = {**row, "converted_to": None}
            self.changed.add(e.number)
            return
        item = self.items.get(item_id)
        if item is None:
            return
        self.changed.add(item["number"])
        if name == "Ticket.Retitled":
            item["title"] = e.title
        else:  # Ticket.ConvertedToTask: its time is reported under the task from now on.
            item["converted_to"] = e.task_number
            self.conversions.append((item["number"], e.task_number))
            for entry in (*self.entries.values(), *self.staged.values()):
                if entry["report_number"] == item["number"]:
                    entry["report_number"] = e.task_number

    def save(self, tx: Tx, t: Tables) -> None:
        for ticket, task in self.conversions:
            for table in (t["timesheet_entries"], t["timesheet_staged_entries"]):
                tx.execute(
                    f"UPDATE {table} SET report_number = ? WHERE report_number = ?",
                    (task, ticket),
                )
        self._save_staged(tx, t)
        _upsert(tx, t["timesheet_entries"], ENTRY_COLUMNS, "id", list(self.entries.values()))
        items = [self.numbers[number] for number in sorted(self.changed)]
        _upsert(tx, t["timesheet_items"], ITEM_COLUMNS, "number", items)
        if (cache := tx.row_cache(t["timesheet_items"])) is not None:
            cache.keep({row["id"]: row for row in items})


def _upsert(tx: Tx, table: str, columns: Sequence[str], key: str, rows: list[Row]) -> None:
    if not rows:
        return
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    tx.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"
        f" ON CONFLICT ({key}) DO UPDATE SET {updates}",
        sorted((tuple(row[c] for c in columns) for row in rows), key=lambda r: r[0]),
    )
