"""What every report template shares: what was asked (the range, the period, the grouping,
who asks), periods, the names that label groups, and the shape of a report.

A report is `columns` and `rows` (a row per period and group, or per task), `totals`, and
the `chart` of it in the dashboard widgets' shape (`labels` along the axis, a series per
measure; `projections.reports.dashboard.common`), so that one drawing serves both."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain.values import utc_text
from projections.base import Tables
from projections.db import Tx
from projections.reports.shape import Period, names_in, period_of, periods, shaped
from projections.timesheet_query import EntryScope

__all__ = ["Period", "period_of", "periods"]

TablesOf = Callable[[str], Tables]
NONE = "(none)"


@dataclass(frozen=True)
class ReportRequest:
    """A template run: days `since` to `until` (inclusive, UTC), per `period`, grouped by
    `group_by` (or not), for a caller who sees `projects` (None: every one), item `kinds`
    and the time entries of `entries`; `today` for what is late; whether the company has
    the timesheets app on (off, no hours are shown)."""

    since: date
    until: date
    period: Period
    group_by: str | None
    projects: frozenset[str] | None
    kinds: frozenset[str]
    entries: EntryScope
    today: date
    timesheets: bool = True
    project: str | None = None  # only this project's (within `projects`)
    custom: dict[str, Any] | None = None  # a custom report's (`domain.views.custom_report`)

    @property
    def moments(self) -> tuple[str, str]:
        """The range as stored times: from the first day's start to the next day's."""
        start = datetime.combine(self.since, time(), UTC)
        end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
        return utc_text(start), utc_text(end)


@dataclass
class Report:
    columns: list[str]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    chart: dict[str, Any] = field(default_factory=dict)


def in_projects(request: ReportRequest, column: str) -> tuple[list[str], list[Any]] | None:
    """The condition limiting rows to the caller's projects; None when they see none."""
    if request.projects is None:
        return [], []
    if not request.projects:
        return None
    ids = sorted(request.projects)
    return [f"{column} IN ({','.join('?' * len(ids))})"], ids


def names(tx: Tx, timesheets: Tables, kind: str, ids: Iterable[str | None]) -> dict[str, str]:
    """The names of users, projects or customers (`kind`), from the timesheets view's
    directory of names."""
    return names_in(tx, timesheets["timesheet_names"], ids, kind)


def chart(
    kind: str, title: str, labels: Sequence[Any], series: Mapping[str, Sequence[Any]]
) -> dict[str, Any]:
    """A report's chart (`projections.reports.shape`)."""
    return shaped("report", title, kind, labels, series)
