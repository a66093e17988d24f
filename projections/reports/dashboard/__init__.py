"""Dashboard widgets: each widget type's data, computed from the views for one caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.base import tables_of
from projections.db import Tx
from projections.reports.dashboard.common import TablesOf, WidgetScope
from projections.reports.dashboard.items import counts, created_vs_finished, workload
from projections.reports.dashboard.targets import response_times, sla_compliance
from projections.reports.dashboard.work import burn_down, overdue_tasks, time_logged

Widget = Callable[[Tx, TablesOf, dict[str, Any], WidgetScope], dict[str, Any]]
COMPUTE: dict[str, Widget] = {
    "counts": counts,
    "created_vs_finished": created_vs_finished,
    "response_times": response_times,
    "sla_compliance": sla_compliance,
    "workload": workload,
    "time_logged": time_logged,
    "overdue_tasks": overdue_tasks,
    "burn_down": burn_down,
}
# The views each widget type reads (a dashboard's read waits for them).
READS: dict[str, tuple[str, ...]] = {
    "counts": ("flat",),
    "created_vs_finished": ("item_changes",),
    "response_times": ("sla", "flat"),
    "sla_compliance": ("sla", "flat"),
    "workload": ("flat", "users"),
    "time_logged": ("timesheets",),
    "overdue_tasks": ("gantt",),
    "burn_down": ("gantt", "item_changes"),
}


def widget_data(
    tx: Tx, tables: TablesOf, widget: dict[str, Any], scope: WidgetScope
) -> dict[str, Any]:
    """One widget's data for the caller of `scope`."""
    return COMPUTE[widget["type"]](tx, tables, widget, scope)


def dashboard_data(
    tx: Tx, widgets: list[dict[str, Any]], scope: WidgetScope
) -> list[dict[str, Any]]:
    """Every widget's data, in order, in one read transaction (each view's live tables
    looked up once)."""
    of = tables_of(tx)
    return [widget_data(tx, of, widget, scope) for widget in widgets]


__all__ = ["READS", "TablesOf", "WidgetScope", "dashboard_data", "widget_data"]
