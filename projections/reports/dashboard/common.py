"""What every dashboard widget shares: who it is computed for, what it may read, and its
shape — the chart shape of `projections.reports.shape`, with the widget's type and title;
a widget may add figures of its own (totals, medians, the overdue tasks themselves)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.base import Tables
from projections.reports.shape import shaped as chart_shape
from projections.timesheet_query import EntryScope

TablesOf = Callable[[str], Tables]


@dataclass(frozen=True)
class WidgetScope:
    """Who a widget is computed for, and when: the projects (None: every project) and item
    kinds they may see, whose time entries they see, and today (the last day shown); and
    whether the company has the timesheets app and the SLA feature on (off, their figures
    are nobody's to see)."""

    projects: frozenset[str] | None
    kinds: frozenset[str]
    entries: EntryScope
    today: date
    timesheets: bool = True
    sla: bool = True


def shaped(
    widget: dict[str, Any],
    chart: str,
    labels: Sequence[Any],
    series: Mapping[str, Sequence[Any]],
    **extra: Any,
) -> dict[str, Any]:
    """A widget's data in the chart shape (`projections.reports.shape`)."""
    return chart_shape(widget["type"], widget["title"], chart, labels, series, **extra)


def scoped(
    scope: WidgetScope,
    widget: dict[str, Any],
    kind_column: str | None,
    project_column: str,
) -> tuple[list[str], list[Any]] | None:
    """The conditions limiting rows to what the caller may see and the widget asks for
    (its `kinds` and `project_id`, when it takes them); None when that is nothing."""
    where: list[str] = []
    params: list[Any] = []
    if kind_column is not None:
        kinds = [k for k in widget.get("kinds", sorted(scope.kinds)) if k in scope.kinds]
        if not kinds:
            return None
        where.append(f"{kind_column} IN ({','.join('?' * len(kinds))})")
        params += kinds
    project = widget.get("project_id")
    if scope.projects is not None:
        if not scope.projects or (project is not None and project not in scope.projects):
            return None
        if project is None:
            where.append(f"{project_column} IN ({','.join('?' * len(scope.projects))})")
            params += sorted(scope.projects)
    if project is not None:
        where.append(f"{project_column} = ?")
        params.append(project)
    return where, params
