"""The response and resolution times report: per period and group (priority, SLA policy or
project), how many first responses and resolutions there were and their median and mean
minutes (from the `sla` view's `sla_rounds`: a round counts in the period it was answered).

Minutes are wall-clock, from the round's start (the item's opening, or the customer's
message a first response answers) to its answer; only items held to an SLA policy are
measured, each by the policy and priority it was judged by; a ticket converted since
counts as the task it became (its project now)."""

from __future__ import annotations

from datetime import datetime
from statistics import median
from typing import Any

from domain.views.report import TEMPLATE_GROUPS
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

GROUPS = TEMPLATE_GROUPS["response-times"]
METRICS = ("first_response", "resolution")
_KEYS = {
    "priority": "r.priority",
    "policy": "r.policy_name",
    "project": "COALESCE(f.project_id, g.project_id)",
}
MEASURES = tuple(
    f"{metric}_{measure}"
    for metric in METRICS
    for measure in ("count", "median_minutes", "mean_minutes")
)


def _minutes(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 60


def _figures(times: dict[str, list[float]]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for metric in METRICS:
        found = times.get(metric, [])
        shown[f"{metric}_count"] = len(found)
        shown[f"{metric}_median_minutes"] = round(median(found), 1) if found else None
        shown[f"{metric}_mean_minutes"] = round(sum(found) / len(found), 1) if found else None
    return shown


def response_times(tx: Tx, tables: TablesOf, request: ReportRequest) -> Report:
    group = request.group_by
    found: dict[tuple[str, str | None], dict[str, list[float]]] = {}
    every_time: dict[str, list[float]] = {}
    per_period: dict[str, dict[str, list[float]]] = {}
    scoped = in_projects(request, "COALESCE(f.project_id, g.project_id)")
    kinds = sorted(request.kinds)
    if scoped is not None and kinds:
        where, params = scoped
        since, until = request.moments
        key = _KEYS[group] if group else "NULL"
        flat = tables("flat")["flat_items"]
        for r in tx.all(
            f"SELECT r.metric, r.started_at, r.answered_at, {key} AS grp"
            f" FROM {tables('sla')['sla_rounds']} r"
            f" LEFT JOIN {flat} f ON f.number = r.number"
            f" LEFT JOIN {flat} g ON g.converted_from_ticket = r.number"
            " WHERE r.metric IN ('first_response', 'resolution') AND r.answered_at >= ?"
            f" AND r.answered_at < ?"
            f" AND COALESCE(f.kind, g.kind) IN ({','.join('?' * len(kinds))})"
            f"{''.join(f' AND {w}' for w in where)}",
            [since, until, *kinds, *params],
        ):
            minutes = _minutes(r["started_at"], r["answered_at"])
            period = period_of(r["answered_at"], request.period)
            found.setdefault((period, r["grp"]), {}).setdefault(r["metric"], []).append(minutes)
            per_period.setdefault(period, {}).setdefault(r["metric"], []).append(minutes)
            every_time.setdefault(r["metric"], []).append(minutes)
    labels = (
        names(tx, tables("timesheets"), "project", [g for _, g in found])
        if group == "project"
        else {}
    )
    columns = [
        "period",
        *([group] if group else []),
        *(["project_name"] if group == "project" else []),
        *MEASURES,
    ]
    rows = []
    for period, grp in sorted(found, key=lambda k: (k[0], str(k[1] or ""))):
        row: dict[str, Any] = {"period": period}
        if group:
            row[group] = grp
        if group == "project":
            row["project_name"] = labels.get(grp or "", NONE)
        rows.append({**row, **_figures(found[(period, grp)])})
    every = periods(request.since, request.until, request.period)
    series = {
        f"{metric} (median minutes)": [
            _figures(per_period.get(p, {}))[f"{metric}_median_minutes"] for p in every
        ]
        for metric in METRICS
    }
    drawn = chart("line", "First response and resolution times", every, series)
    return Report(columns, rows, _figures(every_time), drawn)
