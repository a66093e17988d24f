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
- An entry of a project in several customer folders counts for each of them in a report by
  customer (so those groups may add up to more than the total); `(none)` holds the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.access import StaffScope
from projections.base import (
    InvalidCursorError,
    Positioned,
    Projection,
    Tables,
    current_tables,
    decode_cursor,
    encode_cursor,
    iso,
    topic_name,
)
from projections.db import Row, Tx, ViewDatabase

ENTRY = "TimesheetEntry."
ITEM_EVENTS = ("Ticket.Opened", "Task.Planned", "Ticket.Retitled", "Ticket.ConvertedToTask")
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
READS = (*(ENTRY + e for e in ENTRY_EVENTS), *ITEM_EVENTS, *NAMES, *FOLDERS)
ENTRY_COLUMNS = (
    *("id", "user_id", "item_number", "report_number", "project_id", "work_date", "week"),
    *("month", "minutes", "billable", "activity", "notes", "state", "rejection_reason"),
    *("source", "corrects", "started_at", "finished_at", "created_at", "updated_at", "version"),
)
ITEM_COLUMNS = ("number", "id", "kind", "title", "converted_to")
# Whose entries a caller sees beyond their own: those of the projects they manage or lead.
LEADING_ROLES = frozenset({"manager", "lead"})
CHUNK = 2_000  # Rows per read transaction when a report is streamed.


class TimesheetProjection(Projection):
    """Reads TimesheetEntry events, item, project, customer-folder and name events; shows
    `timesheet_entries`, `timesheet_items`, `timesheet_project_customers` and
    `timesheet_names`."""

    name = "timesheets"
    tables = (
        "timesheet_entries",
        "timesheet_items",
        "timesheet_project_customers",
        "timesheet_names",
    )
    topics = frozenset(f"ledgerdesk:{topic}" for topic in READS)

    def create(self, tx: Tx, t: Tables) -> None:
        entries = t["timesheet_entries"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {entries} ("
            " id TEXT PRIMARY KEY, user_id TEXT NOT NULL, item_number INTEGER NOT NULL,"
            " report_number INTEGER NOT NULL, project_id TEXT NOT NULL, work_date TEXT NOT NULL,"
            " week TEXT NOT NULL, month TEXT NOT NULL, minutes INTEGER NOT NULL,"
            " billable INTEGER NOT NULL, activity TEXT NOT NULL, notes TEXT NOT NULL,"
            " state TEXT NOT NULL, rejection_reason TEXT, source TEXT NOT NULL, corrects TEXT,"
            " started_at TEXT, finished_at TEXT, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, version INTEGER NOT NULL)"
        )
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
            if name.startswith(ENTRY):
                page.entry_event(name.removeprefix(ENTRY), e)
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
        items = {
            r["id"]: r
            for r in _in(
                tx,
                f"SELECT * FROM {t['timesheet_items']} WHERE id IN ({{marks}})",
                sorted(item_ids),
            )
            + _in(
                tx,
                f"SELECT * FROM {t['timesheet_items']} WHERE number IN ({{marks}})",
                sorted(numbers),
            )
        }
        return cls(entries, items, {r["number"]: r for r in items.values()}, set(), [])

    def entry_event(self, name: str, e: Any) -> None:
        entry_id = str(e.originator_id)
        if name == "Logged":
            item = self.numbers.get(e.item_number)
            self.entries[entry_id] = {
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
            }
        row = self.entries.get(entry_id)
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

    def item_event(self, name: str, e: Any) -> None:
        item_id = str(e.originator_id)
        if name in ("Ticket.Opened", "Task.Planned"):
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
            for entry in self.entries.values():
                if entry["report_number"] == item["number"]:
                    entry["report_number"] = e.task_number

    def save(self, tx: Tx, t: Tables) -> None:
        for ticket, task in self.conversions:
            tx.execute(
                f"UPDATE {t['timesheet_entries']} SET report_number = ? WHERE report_number = ?",
                (task, ticket),
            )
        _upsert(tx, t["timesheet_entries"], ENTRY_COLUMNS, "id", list(self.entries.values()))
        items = [self.numbers[number] for number in sorted(self.changed)]
        _upsert(tx, t["timesheet_items"], ITEM_COLUMNS, "number", items)


def _upsert(tx: Tx, table: str, columns: Sequence[str], key: str, rows: list[Row]) -> None:
    if not rows:
        return
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    tx.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"
        f" ON CONFLICT ({key}) DO UPDATE SET {updates}",
        sorted((tuple(row[c] for c in columns) for row in rows), key=lambda r: r[0]),
    )


# --- who sees what ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryScope:
    """Whose entries a caller sees: their own and every entry of the projects they manage or
    lead; every entry for admins and users who manage projects."""

    user_id: str
    everything: bool
    led_projects: frozenset[str]

    @classmethod
    def of(cls, user_id: str, staff: StaffScope) -> EntryScope:
        led = frozenset(p for p, role in staff.roles.items() if role in LEADING_ROLES)
        return cls(user_id, staff.all_projects, led)

    def where(self) -> tuple[str, list[Any]]:
        if self.everything:
            return "1 = 1", []
        if not self.led_projects:
            return "e.user_id = ?", [self.user_id]
        led = sorted(self.led_projects)
        return f"(e.user_id = ? OR e.project_id IN ({','.join('?' * len(led))}))", [
            self.user_id,
            *led,
        ]


@dataclass(frozen=True)
class EntryFilter:
    """Which entries a list or report covers (dates inclusive); always within `scope`."""

    scope: EntryScope
    user: str | None = None
    item: int | None = None  # a converted ticket's number means its task's
    project: str | None = None
    state: str | None = None
    billable: bool | None = None
    since: date | None = None
    until: date | None = None

    def where(self, t: Tables) -> tuple[list[str], list[Any]]:
        scoped, params = self.scope.where()
        where = [scoped]
        for column, value in (
            ("user_id", self.user),
            ("project_id", self.project),
            ("state", self.state),
            ("billable", None if self.billable is None else int(self.billable)),
        ):
            if value is not None:
                where.append(f"e.{column} = ?")
                params.append(value)
        if self.item is not None:
            where.append(
                "e.report_number = COALESCE((SELECT converted_to FROM"
                f" {t['timesheet_items']} WHERE number = ?), ?)"
            )
            params += [self.item, self.item]
        if self.since is not None:
            where.append("e.work_date >= ?")
            params.append(self.since.isoformat())
        if self.until is not None:
            where.append("e.work_date <= ?")
            params.append(self.until.isoformat())
        return where, params


def _hours(minutes: int) -> float:
    # minutes / 60 never ends in an exact 5 at the third decimal: rounding cannot tie.
    return round(minutes / 60, 2)


# --- the list -----------------------------------------------------------------------------


def list_entries(
    tx: Tx, t: Tables, query: EntryFilter, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of entries by work date (then id), and the cursor of the next page."""
    where, params = query.where(t)
    if cursor is not None:
        tag, work_date, entry_id = decode_cursor(cursor, 3)
        if tag != "entries" or not isinstance(work_date, str) or not isinstance(entry_id, str):
            raise InvalidCursorError("cursor was not made by the timesheet list")
        where.append("(e.work_date, e.id) > (?, ?)")
        params += [work_date, entry_id]
    rows = tx.all(
        "SELECT e.*, un.name AS user_name, pn.name AS project_name, i.kind AS item_kind,"
        f" i.title AS item_title FROM {t['timesheet_entries']} e"
        f" LEFT JOIN {t['timesheet_names']} un ON un.kind = 'user' AND un.id = e.user_id"
        f" LEFT JOIN {t['timesheet_names']} pn ON pn.kind = 'project' AND pn.id = e.project_id"
        f" LEFT JOIN {t['timesheet_items']} i ON i.number = e.report_number"
        f" WHERE {' AND '.join(where)} ORDER BY e.work_date, e.id LIMIT ?",
        (*params, limit + 1),
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("entries", rows[-1]["work_date"], rows[-1]["id"])
    return [_entry(row) for row in rows], next_cursor


def _entry(row: Row) -> dict[str, Any]:
    """An entry as the write side shows it (`item`, `date`, `hours`), with the names of its
    user, project and item, and the item its time is reported under."""
    return {
        "id": row["id"],
        "user_id": row["user_id"],
        "user_name": row["user_name"],
        "item": row["item_number"],
        "reported_item": row["report_number"],
        "item_kind": row["item_kind"],
        "item_title": row["item_title"],
        "project_id": row["project_id"],
        "project_name": row["project_name"],
        "date": row["work_date"],
        "minutes": row["minutes"],
        "hours": round(row["minutes"] / 60, 4),
        **{k: row[k] for k in ("started_at", "finished_at")},
        "billable": bool(row["billable"]),
        **{k: row[k] for k in ("activity", "notes", "source", "state", "rejection_reason")},
        **{k: row[k] for k in ("corrects", "created_at", "updated_at", "version")},
    }


# --- reports ------------------------------------------------------------------------------

# Each grouping: the SQL of its key, the key's name, then the columns that label it.
DIMENSIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "user": ("e.user_id", "user_id", ("user_name",)),
    "item": ("e.report_number", "item_number", ("item_kind", "item_title")),
    "project": ("e.project_id", "project_id", ("project_name",)),
    "customer": ("COALESCE(pc.customer_id, '')", "customer_id", ("customer_name",)),
    "week": ("e.week", "week", ("week_start",)),
    "month": ("e.month", "month", ()),
}
REPORT_STATES = ("draft", "submitted", "approved", "rejected")
MEASURES = (
    ("minutes", "1 = 1"),
    ("billable_minutes", "e.billable = 1"),
    ("non_billable_minutes", "e.billable = 0"),
    *((f"{state}_minutes", f"e.state = '{state}'") for state in REPORT_STATES),
)


@dataclass(frozen=True)
class ReportQuery:
    """Totals of `filter`'s entries (never withdrawn ones) per group of `group_by`."""

    filter: EntryFilter
    group_by: tuple[str, ...]

    @property
    def tag(self) -> str:
        return "report:" + ",".join(self.group_by)


def report_columns(group_by: Sequence[str]) -> list[str]:
    """The columns of a report's rows, in order: each grouping's key and labels, then the
    entry count and every total in minutes and in hours."""
    columns = [c for d in group_by for c in (DIMENSIONS[d][1], *DIMENSIONS[d][2])]
    columns.append("entries")
    for measure, _ in MEASURES:
        columns += [measure, measure.replace("minutes", "hours")]
    return columns


def _measured(row: Row) -> dict[str, Any]:
    shown: dict[str, Any] = {"entries": row["entries"]}
    for measure, _ in MEASURES:
        minutes = int(row[measure] or 0)
        shown[measure] = minutes
        shown[measure.replace("minutes", "hours")] = _hours(minutes)
    return shown


def _aggregates() -> str:
    return "COUNT(*) AS entries, " + ", ".join(
        f"SUM(CASE WHEN {condition} THEN e.minutes ELSE 0 END) AS {measure}"
        for measure, condition in MEASURES
    )


def _report_where(t: Tables, query: ReportQuery) -> tuple[list[str], list[Any]]:
    where, params = query.filter.where(t)
    return [*where, "e.state <> 'withdrawn'"], params


def _groups_sql(
    t: Tables, query: ReportQuery, after: Sequence[Any] | None, limit: int | None
) -> tuple[str, list[Any]]:
    """The groups after the key `after` (all, or up to `limit`), in key order.

    The key range goes into WHERE (before grouping), so a later page aggregates only the
    entries it still has to cover."""
    keys = [DIMENSIONS[d][0] for d in query.group_by]
    names = [DIMENSIONS[d][1] for d in query.group_by]
    where, params = _report_where(t, query)
    if after is not None:
        where.append(f"({', '.join(keys)}) > ({', '.join('?' * len(keys))})")
        params += list(after)
    folders = t["timesheet_project_customers"]
    join = (
        f" LEFT JOIN {folders} pc ON pc.project_id = e.project_id"
        if "customer" in query.group_by
        else ""
    )
    labels, joins = _labels(t, query.group_by)
    grouped = ", ".join(keys)
    if limit is not None:
        params.append(limit)
    sql = (
        f"SELECT g.*{labels} FROM (SELECT"
        f" {', '.join(f'{k} AS {n}' for k, n in zip(keys, names, strict=True))},"
        f" {_aggregates()} FROM {t['timesheet_entries']} e{join}"
        f" WHERE {' AND '.join(where)} GROUP BY {grouped} ORDER BY {grouped}"
        f"{'' if limit is None else ' LIMIT ?'}) g"
        f"{joins} ORDER BY {', '.join(f'g.{n}' for n in names)}"
    )
    return sql, params


def _groups(
    tx: Tx, t: Tables, query: ReportQuery, after: Sequence[Any] | None, limit: int
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Up to `limit` groups after the key `after`: (key, row) each."""
    names = [DIMENSIONS[d][1] for d in query.group_by]
    rows = tx.all(*_groups_sql(t, query, after, limit))
    return [(tuple(row[n] for n in names), _group(row, query.group_by)) for row in rows]


def _labels(t: Tables, group_by: Sequence[str]) -> tuple[str, str]:
    labels, joins = "", ""
    for kind, key in (("user", "user_id"), ("project", "project_id"), ("customer", "customer_id")):
        if kind in group_by:
            labels += f", {kind[0]}n.name AS {kind}_name"
            joins += (
                f" LEFT JOIN {t['timesheet_names']} {kind[0]}n"
                f" ON {kind[0]}n.kind = '{kind}' AND {kind[0]}n.id = g.{key}"
            )
    if "item" in group_by:
        labels += ", i.kind AS item_kind, i.title AS item_title"
        joins += f" LEFT JOIN {t['timesheet_items']} i ON i.number = g.item_number"
    return labels, joins


def _group(row: Row, group_by: Sequence[str]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for d in group_by:
        key, labels = DIMENSIONS[d][1], DIMENSIONS[d][2]
        shown[key] = row[key]
        for label in labels:
            shown[label] = row.get(label)
    if "customer" in group_by and not shown["customer_id"]:
        shown["customer_id"] = None  # Projects in no customer folder.
    if "week" in group_by:
        year, _, week = row["week"].partition("-W")
        shown["week_start"] = date.fromisocalendar(int(year), int(week), 1).isoformat()
    shown.update(_measured(row))
    return shown


def _totals(tx: Tx, t: Tables, query: ReportQuery) -> dict[str, Any]:
    """Every entry once (a project in two customer folders is not counted twice here)."""
    where, params = _report_where(t, query)
    row = tx.one(
        f"SELECT {_aggregates()} FROM {t['timesheet_entries']} e WHERE {' AND '.join(where)}",
        params,
    )
    assert row is not None
    return _measured(row)


def _after(query: ReportQuery, cursor: str) -> list[Any]:
    tag, *key = decode_cursor(cursor, 1 + len(query.group_by))
    if tag != query.tag:
        raise InvalidCursorError("cursor was made for another grouping")
    for d, value in zip(query.group_by, key, strict=True):
        if not isinstance(value, int if d == "item" else str):
            raise InvalidCursorError("cursor is not valid")
    return key


def _planned_for_these_dates(tx: Tx) -> None:
    """After a few runs PostgreSQL plans a prepared statement once for any parameters,
    guessing that a date range holds 0.5% of the rows: for a year that picks an index walk
    ~9x slower than the scan a report needs. Reports are planned for their own values."""
    if tx.dialect == "postgres":
        tx.execute("SET LOCAL plan_cache_mode = force_custom_plan")


def report(
    tx: Tx, t: Tables, query: ReportQuery, cursor: str | None = None, limit: int = 1000
) -> dict[str, Any]:
    """A page of groups in key order with their totals, the totals of everything the query
    covers, and the cursor of the next page."""
    _planned_for_these_dates(tx)
    page = _groups(tx, t, query, _after(query, cursor) if cursor else None, limit + 1)
    more = len(page) > limit
    page = page[:limit]
    groups = [row for _, row in page]
    if more or cursor or "customer" in query.group_by:
        totals = _totals(tx, t, query)
    else:  # Every entry is in exactly one of these groups.
        sums = {c: sum(g[c] for g in groups) for c in ("entries", *(m for m, _ in MEASURES))}
        totals = _measured(sums)
    return {
        "groups": groups,
        "totals": totals,
        "next_cursor": encode_cursor(query.tag, *page[-1][0]) if more else None,
    }


def report_chunks(
    views: ViewDatabase, query: ReportQuery, chunk: int | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Every group of the report, `chunk` at a time (the first, possibly empty, at once):
    an export of any size never holds more than one chunk in memory.

    PostgreSQL aggregates once and hands the groups over through a server-side cursor, in
    one read transaction that stays open while the client reads. SQLite connections
    belong to threads, so there each chunk is a keyset page read in its own transaction,
    starting after the last key of the one before."""
    size = chunk or CHUNK
    if views.dialect == "postgres":
        yield from _cursor_chunks(views, query, size)
        return
    after: tuple[Any, ...] | None = None
    while True:
        with views.read() as tx:
            page = _groups(tx, current_tables(tx, TimesheetProjection.name), query, after, size)
        yield [row for _, row in page]
        if len(page) < size:
            return
        after = page[-1][0]


def _cursor_chunks(
    views: ViewDatabase, query: ReportQuery, size: int
) -> Iterator[list[dict[str, Any]]]:
    with views.read() as tx:
        _planned_for_these_dates(tx)
        sql, params = _groups_sql(current_tables(tx, TimesheetProjection.name), query, None, None)
        tx.execute(f"DECLARE timesheet_report NO SCROLL CURSOR FOR {sql}", params)
        while True:
            rows = tx.all(f"FETCH FORWARD {int(size)} FROM timesheet_report")
            yield [_group(row, query.group_by) for row in rows]
            if len(rows) < size:
                return
