"""The timesheets view's queries: who sees which entries, the timesheet list, and the
time reports (grouped totals, and the chunks an export streams). The view itself, and what
it keeps, is `projections.timesheets`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.access import StaffScope
from projections.base import (
    InvalidCursorError,
    Tables,
    current_tables,
    decode_cursor,
    encode_cursor,
)
from projections.db import Row, Tx, ViewDatabase
from projections.timesheets import LEADING_ROLES, TimesheetProjection

CHUNK = 2_000  # Rows per read transaction when a report is streamed.

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
