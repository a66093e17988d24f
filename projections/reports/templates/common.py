"""What every report template shares: what was asked (the range, the period, the grouping,
who asks), periods, the names that label groups, and the shape of a report.

A report is `columns` and `rows` (a row per period and group, or per task), `totals`, and
the `chart` of it in the dashboard widgets' shape (`labels` along the axis, a series per
measure; `projections.reports.dashboard.common`), so that one drawing serves both."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from domain.values import utc_text
from projections.base import Tables
from projections.db import Tx
from projections.timesheet_query import EntryScope

Period = Literal["day", "week", "month"]
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


def period_of(day: str, period: Period) -> str:
    """The period an ISO day (or time) is in: the day, the week's Monday, or `YYYY-MM`."""
    if period == "month":
        return day[:7]
    if period == "week":
        moment = date.fromisoformat(day[:10])
        return (moment - timedelta(days=moment.weekday())).isoformat()
    return day[:10]


def periods(since: date, until: date, period: Period) -> list[str]:
    """Every period from `since` to `until`, in order."""
    found: list[str] = []
    day = since
    while day <= until:
        key = period_of(day.isoformat(), period)
        if not found or found[-1] != key:
            found.append(key)
        day += timedelta(days=1)
    return found


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
    directory of names; an unknown id is shown as itself."""
    wanted = sorted({i for i in ids if i})
    found = {i: i for i in wanted}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in tx.all(
            f"SELECT id, name FROM {timesheets['timesheet_names']}"
            f" WHERE kind = ? AND id IN ({','.join('?' * len(chunk))})",
            [kind, *chunk],
        ):
            found[row["id"]] = row["name"]
    return found


def chart(
    kind: str, title: str, labels: Sequence[Any], series: Mapping[str, Sequence[Any]]
) -> dict[str, Any]:
    return {
        "type": "report",
        "title": title,
        "chart": kind,
        "labels": list(labels),
        "series": [{"name": name, "values": list(values)} for name, values in series.items()],
    }
