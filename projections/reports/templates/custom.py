"""Custom reports: a data set's rows in the range, grouped by the dimensions asked, each
group's measures summed (`domain.views.custom_report` names what may be asked).

One query per report: the data set's table, limited to the days asked, what the reader
may see and the filters, grouped by the dimensions and the day, measures summed in SQL;
days are then added up into the period asked (every measure is a sum). Projects, users
and customers are shown by name beside their id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from projections.db import Tx
from projections.reports.shape import distinct_names
from projections.reports.templates.common import (
    NONE,
    Report,
    ReportRequest,
    TablesOf,
    chart,
    in_projects,
    names,
    period_of,
    periods,
)

Where = tuple[list[str], list[Any]]


def _count_of(column: str, value: str) -> str:
    return f"SUM(CASE WHEN {column} = '{value}' THEN 1 ELSE 0 END)"


def _items_scope(request: ReportRequest) -> Where | None:
    scoped = in_projects(request, "x.project_id")
    kinds = sorted(request.kinds)
    if scoped is None or not kinds:
        return None
    where, params = scoped
    return [*where, f"x.kind IN ({','.join('?' * len(kinds))})"], [*params, *kinds]


def _time_scope(request: ReportRequest) -> Where | None:
    """A reader's own time and their led projects' (everyone's: an admin's), as in the
    time report; none while the timesheets app is off."""
    if not request.timesheets or request.projects == frozenset():
        return None
    entries, params = request.entries.where()
    return [entries, "e.state <> 'withdrawn'"], params


@dataclass(frozen=True)
class Source:
    """Where a data set's rows are: its view and table, its date column (a time, or a day),
    who may see a row, what each dimension and measure is in SQL."""

    view: str
    table: str
    date: str
    date_is_day: bool
    scope: Callable[[ReportRequest], Where | None]
    dimensions: dict[str, str]
    measures: dict[str, str]
    alias: str = "x"
    # Dimensions that need the project's customers (a project in two customers' folders
    # counts for each).
    customers: frozenset[str] = field(default_factory=lambda: frozenset({"customer"}))


SOURCES: dict[str, Source] = {
    "items": Source(
        "flat",
        "flat_items",
        "x.created_at",
        False,
        _items_scope,
        {
            "kind": "x.kind", "item_type": "x.item_type", "project": "x.project_id",
            "customer": "pc.customer_id", "priority": "x.priority", "status": "x.status",
            "state": "x.state", "channel": "x.channel", "sla_state": "x.sla_state",
        },
        {
            "count": "COUNT(*)",
            "open": "SUM(CASE WHEN x.state <> 'finished' THEN 1 ELSE 0 END)",
            "finished": _count_of("x.state", "finished"),
        },
    ),
    "changes": Source(
        "item_changes",
        "item_changes",
        "x.occurred_at",
        False,
        _items_scope,
        {
            "kind": "x.kind", "change": "x.change", "actor": "x.actor", "cause": "x.cause",
            "project": "x.project_id",
        },
        {
            "changes": "COUNT(*)",
            **{
                name: _count_of("x.change", name)
                for name in ("created", "changed", "moved", "finished", "reopened", "converted")
            },
        },
    ),
    "time": Source(
        "timesheets",
        "timesheet_entries",
        "e.work_date",
        True,
        _time_scope,
        {
            "user": "e.user_id", "project": "e.project_id", "customer": "pc.customer_id",
            "activity": "e.activity",
            "billable": "CASE WHEN e.billable = 1 THEN 'true' ELSE 'false' END",
            "state": "e.state",
        },
        {
            "minutes": "SUM(e.minutes)",
            "hours": "SUM(e.minutes)",  # shown in hours, rounded once
            "billable_hours": "SUM(CASE WHEN e.billable = 1 THEN e.minutes ELSE 0 END)",
            "entries": "COUNT(*)",
        },
        alias="e",
    ),
}  # fmt: skip
HOURS = ("hours", "billable_hours")
NAMED = {"project": "project", "user": "user", "customer": "customer", "actor": "user"}
READS = ("flat", "item_changes", "timesheets")


def _filters(source: Source, filters: list[dict[str, Any]], customers: str) -> Where:
    """The filters as conditions: `ne` keeps what has no value; a filter on `customer` asks
    whether the row's project is in a customer's folder (a row is never counted twice)."""
    where: list[str] = []
    params: list[Any] = []
    for one in filters:
        values = one["value"] if one["op"] == "in" else [one["value"]]
        marks = ",".join("?" * len(values))
        if one["field"] in source.customers:
            held = (
                f"EXISTS (SELECT 1 FROM {customers} c2 WHERE c2.project_id ="
                f" {source.alias}.project_id AND c2.customer_id IN ({marks}))"
            )
            where.append(f"NOT {held}" if one["op"] == "ne" else held)
        elif one["op"] == "ne":
            column = source.dimensions[one["field"]]
            where.append(f"({column} IS NULL OR {column} <> ?)")
        else:
            where.append(f"{source.dimensions[one['field']]} IN ({marks})")
        params += values
    return where, params


Found = dict[tuple[Any, ...], dict[str, int]]


def _rows(tx: Tx, tables: TablesOf, request: ReportRequest, custom: dict[str, Any]) -> Found:
    """The measures per group (the dimensions' values, `period` as a period's start)."""
    source = SOURCES[custom["dataset"]]
    scoped = source.scope(request)
    if scoped is None:
        return {}
    dims = custom["dimensions"]
    picked = [d for d in dims if d != "period"]
    alias = source.alias
    table = f"{tables(source.view)[source.table]} {alias}"
    customers = tables("timesheets")["timesheet_project_customers"]
    if source.customers & set(picked):  # a project in two customers' folders: in both
        table += f" LEFT JOIN {customers} pc ON pc.project_id = {alias}.project_id"
    if source.date_is_day:
        since, until = request.since.isoformat(), request.until.isoformat()
        in_range = f"{source.date} >= ? AND {source.date} <= ?"
    else:
        since, until = request.moments
        in_range = f"{source.date} >= ? AND {source.date} < ?"
    where, params = scoped
    chosen, chosen_params = _filters(source, custom["filters"], customers)
    if request.project is not None:
        chosen.append(f"{alias}.project_id = ?")
        chosen_params.append(request.project)
    keys = [f"{source.dimensions[d]} AS d{i}" for i, d in enumerate(picked)]
    grouped = [source.dimensions[d] for d in picked]
    day = f"substr({source.date}, 1, 10)"
    sums = [f"{source.measures[m]} AS m{i}" for i, m in enumerate(custom["measures"])]
    rows = tx.all(
        f"SELECT {', '.join([*keys, f'{day} AS day', *sums])} FROM {table}"
        f" WHERE {' AND '.join([in_range, *where, *chosen])}"
        f" GROUP BY {', '.join([*grouped, day])}",
        [since, until, *params, *chosen_params],
    )
    found: Found = {}
    for r in rows:
        values = iter(r[f"d{i}"] for i in range(len(picked)))
        group = tuple(
            period_of(r["day"], request.period) if d == "period" else next(values) for d in dims
        )
        sums_of = found.setdefault(group, dict.fromkeys(custom["measures"], 0))
        for i, measure in enumerate(custom["measures"]):
            sums_of[measure] += int(r[f"m{i}"] or 0)
    return found


def _shown(measure: str, value: int) -> float | int:
    """A measure as shown: hours from the minutes summed (rounded once), else the count."""
    return round(value / 60, 2) if measure in HOURS else value


def _labels(tx: Tx, tables: TablesOf, dims: list[str], found: Found) -> list[dict[Any, str]]:
    """Per dimension, what each of its values is shown as: a name (told apart from another
    of the same name) for projects, users, customers and actors, else the value."""
    shown: list[dict[Any, str]] = []
    timesheets = tables("timesheets")
    for index, dim in enumerate(dims):
        values = sorted(
            {group[index] for group in found}, key=lambda v: "" if v is None else str(v)
        )
        if dim not in NAMED:
            shown.append({v: NONE if v is None else str(v) for v in values})
            continue
        # An actor is a user by name; anyone else (a customer, a rule) as they are recorded.
        ids = [_named_id(dim, v) for v in values]
        known = names(tx, timesheets, NAMED[dim], [i for i in ids if i])
        named = [known[i] if i else (v or NONE) for v, i in zip(values, ids, strict=True)]
        told = distinct_names(named, [str(v) for v in values])
        shown.append(dict(zip(values, told, strict=True)))
    return shown


def _named_id(dim: str, value: str | None) -> str | None:
    if dim != "actor":
        return value
    return value[len("user:") :] if value and value.startswith("user:") else None


def custom_report(
    tx: Tx, tables: TablesOf, request: ReportRequest, custom: dict[str, Any]
) -> Report:
    """The custom report `custom` (`domain.views.custom_report`, in normal form)."""
    dims, measures = custom["dimensions"], custom["measures"]
    found = _rows(tx, tables, request, custom)
    labels = _labels(tx, tables, dims, found)
    columns: list[str] = []
    for dim in dims:
        columns += [dim, f"{dim}_name"] if dim in NAMED else [dim]
    columns += measures
    totals = dict.fromkeys(measures, 0)
    for sums in found.values():
        for measure in measures:
            totals[measure] += sums[measure]
    if not dims:  # One row of totals, whatever there is
        summed = {m: _shown(m, totals[m]) for m in measures}
        drawn = chart("bar", "Totals", ["total"], {m: [summed[m]] for m in measures})
        return Report(columns, [summed], dict(summed), drawn)
    ordered = sorted(
        found,
        key=lambda g: tuple(
            (v if d == "period" else labels[i][v]).casefold() if v is not None else ""
            for i, (d, v) in enumerate(zip(dims, g, strict=True))
        ),
    )
    rows = []
    for group in ordered:
        row: dict[str, Any] = {}
        for index, (dim, value) in enumerate(zip(dims, group, strict=True)):
            row[dim] = value
            if dim in NAMED:
                row[f"{dim}_name"] = labels[index][value]
        for measure in measures:
            row[measure] = _shown(measure, found[group][measure])
        rows.append(row)
    return Report(
        columns,
        rows,
        {m: _shown(m, v) for m, v in totals.items()},
        _chart(request, dims, measures, found, labels[0]),
    )


def run(tx: Tx, tables: TablesOf, request: ReportRequest) -> Report:
    """The custom report the request holds."""
    if request.custom is None:
        raise ValueError("a custom report run needs its definition")
    return custom_report(tx, tables, request, request.custom)


def _chart(
    request: ReportRequest,
    dims: list[str],
    measures: list[str],
    found: Found,
    shown: dict[Any, str],
) -> dict[str, Any]:
    """Along the first dimension (every period of the range, for `period`), each measure
    summed over the others (hours from the minutes, rounded once)."""
    first = dims[0]
    if first == "period":
        along: list[Any] = periods(request.since, request.until, request.period)
        labels = list(along)
    else:
        along = sorted(shown, key=lambda v: shown[v].casefold())
        labels = [shown[v] for v in along]
    place = {value: index for index, value in enumerate(along)}
    sums: dict[str, list[int]] = {m: [0] * len(along) for m in measures}
    for group, values in found.items():
        for m in measures:
            sums[m][place[group[0]]] += values[m]
    kind = "line" if first == "period" else "bar"
    series = {m: [_shown(m, v) for v in values] for m, values in sums.items()}
    return chart(kind, "Custom report", labels, series)
