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
    scoped = in_projects(request, "e.project_id")
    if scoped is None or not request.timesheets:
        return None
    entries, params = request.entries.where()
    where = [entries, "e.state <> 'withdrawn'", *scoped[0]]
    return where, [*params, *scoped[1]]


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
            **{name: _count_of("x.change", name) for name in ("created", "finished", "moved")},
            "reopened": _count_of("x.change", "reopened"),
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


def _filters(source: Source, filters: list[dict[str, Any]]) -> Where:
    where: list[str] = []
    params: list[Any] = []
    for one in filters:
        column = source.dimensions[one["field"]]
        values = one["value"] if one["op"] == "in" else [one["value"]]
        marks = ",".join("?" * len(values))
        if one["op"] == "ne":
            where.append(f"({column} IS NULL OR {column} <> ?)")
        else:
            where.append(f"{column} IN ({marks})")
        params += values
    return where, params


def _rows(
    tx: Tx, tables: TablesOf, request: ReportRequest, custom: dict[str, Any]
) -> dict[tuple[Any, ...], dict[str, int]]:
    """The measures per group (the dimensions' values, `period` as a period's start)."""
    source = SOURCES[custom["dataset"]]
    scoped = source.scope(request)
    if scoped is None:
        return {}
    dims = custom["dimensions"]
    picked = [d for d in dims if d != "period"]
    filtered = [f["field"] for f in custom["filters"]]
    alias = source.alias
    table = f"{tables(source.view)[source.table]} {alias}"
    if source.customers & {*picked, *filtered}:
        customers = tables("timesheets")["timesheet_project_customers"]
        table += f" LEFT JOIN {customers} pc ON pc.project_id = {alias}.project_id"
    if source.date_is_day:
        since, until = request.since.isoformat(), request.until.isoformat()
        in_range = f"{source.date} >= ? AND {source.date} <= ?"
    else:
        since, until = request.moments
        in_range = f"{source.date} >= ? AND {source.date} < ?"
    where, params = scoped
    chosen, chosen_params = _filters(source, custom["filters"])
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
    found: dict[tuple[Any, ...], dict[str, int]] = {}
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
    return round(value / 60, 2) if measure in HOURS else value


def custom_report(
    tx: Tx, tables: TablesOf, request: ReportRequest, custom: dict[str, Any]
) -> Report:
    """The custom report `custom` (`domain.views.custom_report`, in normal form)."""
    dims, measures = custom["dimensions"], custom["measures"]
    found = _rows(tx, tables, request, custom)
    labels: dict[str, dict[str, str]] = {}
    timesheets = tables("timesheets")
    for index, dim in enumerate(dims):
        if dim in NAMED:
            ids = [group[index] for group in found]
            if dim == "actor":
                ids = [i.partition(":")[2] for i in ids if i and i.startswith("user:")]
            labels[dim] = names(tx, timesheets, NAMED[dim], ids)
    columns: list[str] = []
    for dim in dims:
        columns += [dim, f"{dim}_name"] if dim in NAMED else [dim]
    columns += measures
    rows = []
    totals = dict.fromkeys(measures, 0)
    for group in sorted(found, key=lambda g: tuple("" if v is None else str(v) for v in g)):
        row: dict[str, Any] = {}
        for dim, value in zip(dims, group, strict=True):
            row[dim] = value
            if dim in NAMED:
                key = value.partition(":")[2] if dim == "actor" and value else value
                row[f"{dim}_name"] = labels[dim].get(key, value) if value else NONE
        for measure in measures:
            totals[measure] += found[group][measure]
            row[measure] = _shown(measure, found[group][measure])
        rows.append(row)
    return Report(
        columns,
        rows,
        {m: _shown(m, v) for m, v in totals.items()},
        _chart(request, dims, measures, rows),
    )


def run(tx: Tx, tables: TablesOf, request: ReportRequest) -> Report:
    """The custom report the request holds."""
    if request.custom is None:
        raise ValueError("a custom report run needs its definition")
    return custom_report(tx, tables, request, request.custom)


def _chart(
    request: ReportRequest, dims: list[str], measures: list[str], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Along the first dimension (every period of the range, for `period`), each measure
    summed over the others; no dimension: the totals."""
    if not dims:
        return chart("bar", "Totals", ["total"], {m: [r[m] for r in rows] for m in measures})
    first = dims[0]
    shown = f"{first}_name" if first in NAMED else first
    labels: list[str] = []
    if first == "period":
        labels = periods(request.since, request.until, request.period)
    sums: dict[str, list[float]] = {m: [0] * len(labels) for m in measures}
    for row in rows:
        label = str(row[shown] if row[shown] is not None else NONE)
        if label not in labels:
            labels.append(label)
            for m in measures:
                sums[m].append(0)
        for m in measures:
            sums[m][labels.index(label)] += row[m]
    kind = "line" if first == "period" else "bar"
    series = {m: [round(v, 2) for v in values] for m, values in sums.items()}
    return chart(kind, "Custom report", labels, series)
