"""What every dashboard widget shares: who it is computed for, its weeks, and its shape.

A widget's data is `{"type", "title", "chart", "labels", "series", ...}`: `labels` name
the points along the chart's axis (a week's Monday, a status, a person), each series is
`{"name", "values"}` with one value per label, and `chart` says how to draw it (`bar`,
`stacked_bar`, `horizontal_bar`, `line`). A widget may add figures of its own (totals,
medians, the overdue tasks themselves)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from projections.base import Tables
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


def weeks(today: date, count: int) -> list[date]:
    """The Mondays of the `count` weeks up to and including this one, oldest first."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def week_of(day: str) -> str:
    """The Monday (ISO date) of the week an ISO day or time falls in."""
    moment = date.fromisoformat(day[:10])
    return (moment - timedelta(days=moment.weekday())).isoformat()


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


def shaped(
    widget: dict[str, Any],
    chart: str,
    labels: Sequence[Any],
    series: dict[str, Sequence[Any]],
    **extra: Any,
) -> dict[str, Any]:
    """A widget's data in the common shape."""
    return {
        "type": widget["type"],
        "title": widget["title"],
        "chart": chart,
        "labels": list(labels),
        "series": [{"name": name, "values": list(values)} for name, values in series.items()],
        **extra,
    }


def distinct_names(names: Sequence[str], ids: Sequence[str]) -> list[str]:
    """The names as shown side by side: two people of one name told apart by their ids'
    first characters (a chart's series are keyed by what they show)."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return [
        name if counts[name] == 1 else f"{name} ({i[:8]})"
        for name, i in zip(names, ids, strict=True)
    ]


def user_names(tx: Any, users: Tables, ids: Sequence[str]) -> dict[str, str]:
    """Each staff user's name (their id when the directory does not know them)."""
    names = {i: i for i in ids}
    chunk = sorted(set(ids))
    for start in range(0, len(chunk), 500):
        part = chunk[start : start + 500]
        for row in tx.all(
            f"SELECT id, name FROM {users['users_directory']}"
            f" WHERE id IN ({','.join('?' * len(part))})",
            part,
        ):
            names[row["id"]] = row["name"]
    return names
