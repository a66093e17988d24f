"""Widgets of the SLA targets: first-response and resolution times, and compliance per
week (from the `sla` view's `sla_rounds`, placed by the `flat` view's items).

Times are wall-clock minutes from a round's start to its answer (business hours are what a
target is judged by; how long a customer waited is what these show). A round counts in the
week it was answered (times) or decided (compliance: a met one when answered, a breached
one when it fell due)."""

from __future__ import annotations

from typing import Any

from projections.db import Tx
from projections.reports.dashboard.common import TablesOf, WidgetScope, scoped, shaped
from projections.reports.shape import period_of, weeks
from projections.reports.templates import response_times as templates
from projections.reports.templates.common import ReportRequest


def _rounds(
    tx: Tx,
    tables: TablesOf,
    widget: dict[str, Any],
    scope: WidgetScope,
    moment: str,
    since: str,
    extra: str,
) -> list[dict[str, Any]]:
    """The rounds of items the caller may see whose `moment` column is since `since` (a
    converted ticket's rounds are its task's: the item it is now)."""
    where = scoped(
        scope, widget, "COALESCE(f.kind, g.kind)", "COALESCE(f.project_id, g.project_id)"
    )
    if where is None or not scope.sla:
        return []
    flat = tables("flat")["flat_items"]
    return tx.all(
        f"SELECT r.metric, r.state, r.started_at, r.answered_at, r.decided_at"
        f" FROM {tables('sla')['sla_rounds']} r"
        f" LEFT JOIN {flat} f ON f.number = r.number"
        f" LEFT JOIN {flat} g ON g.converted_from_ticket = r.number"
        f" WHERE r.{moment} >= ? AND {extra} AND {' AND '.join(where[0] or ['1 = 1'])}",
        [since, *where[1]],
    )


def _off(scope: WidgetScope) -> dict[str, str]:
    """Says so when the SLA feature is off (the figures are then empty)."""
    return {} if scope.sla else {"switched_off": "SLA feature"}


def response_times(
    tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope
) -> dict[str, Any]:
    """The median minutes to a first response and to a resolution, per week answered, and
    over all the weeks shown (with how many rounds and their mean): the response-times
    report (`projections.reports.templates.response_times`) of those weeks, for the
    widget's reader."""
    mondays = weeks(scope.today, widget["weeks"])
    project = widget.get("project_id")
    projects = scope.projects
    if project is not None:
        projects = frozenset({project} if projects is None else {project} & projects)
    request = ReportRequest(
        since=mondays[0],
        until=scope.today,
        period="week",
        group_by=None,
        projects=projects if scope.sla else frozenset(),
        kinds=scope.kinds,
        entries=scope.entries,
        today=scope.today,
        timesheets=scope.timesheets,
        project=project,
    )
    report = templates.response_times(tx, tables, request)
    summary = {
        metric: {
            "count": report.totals[f"{metric}_count"],
            "median_minutes": report.totals[f"{metric}_median_minutes"],
            "mean_minutes": report.totals[f"{metric}_mean_minutes"],
        }
        for metric in templates.METRICS
    }
    series = {s["name"]: s["values"] for s in report.chart["series"]}
    return shaped(widget, "line", report.chart["labels"], series, summary=summary, **_off(scope))


def sla_compliance(
    tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope
) -> dict[str, Any]:
    """How many targets were met and how many breached per week decided, and the share
    met (every metric: first response, next response, resolution)."""
    mondays = [m.isoformat() for m in weeks(scope.today, widget["weeks"])]
    tally = {state: dict.fromkeys(mondays, 0) for state in ("met", "breached")}
    for r in _rounds(
        tx, tables, widget, scope, "decided_at", mondays[0], "r.state IN ('met', 'breached')"
    ):
        week = period_of(r["decided_at"], "week")
        if week in tally[r["state"]]:
            tally[r["state"]][week] += 1
    met, breached = (list(tally[s].values()) for s in ("met", "breached"))
    percent = [
        round(100 * m / (m + b), 1) if m + b else None for m, b in zip(met, breached, strict=True)
    ]
    total_met, total_breached = sum(met), sum(breached)
    decided = total_met + total_breached
    return shaped(
        widget,
        "stacked_bar",
        mondays,
        {"met": met, "breached": breached},
        percent_met=percent,
        totals={
            "met": total_met,
            "breached": total_breached,
            "percent_met": round(100 * total_met / decided, 1) if decided else None,
        },
        **_off(scope),
    )
