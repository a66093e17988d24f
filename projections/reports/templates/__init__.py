"""Report templates: each a ready-made report over the views, run for one caller over a
range of days (`ReportRequest`), as columns, rows, totals and a chart (`Report`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from projections.db import Tx
from projections.reports.templates import (
    custom,
    response_times,
    task_progress,
    tickets,
    user_activity,
)
from projections.reports.templates.common import Report, ReportRequest, TablesOf


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    group_by: tuple[str, ...]
    reads: tuple[str, ...]  # the views it reads (a run waits for them)
    run: Callable[[Tx, TablesOf, ReportRequest], Report]
    uses_period: bool = True


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "tickets",
            "Tickets created and finished",
            "Tickets created and finished per period, by customer, project, priority, channel"
            " or item type.",
            tickets.GROUPS,
            ("item_changes", "flat", "timesheets"),
            tickets.tickets,
        ),
        Template(
            "response-times",
            "Response and resolution times",
            "First responses and resolutions per period: how many, median and mean minutes,"
            " by priority, SLA policy or project.",
            response_times.GROUPS,
            ("sla", "flat", "timesheets"),
            response_times.response_times,
        ),
        Template(
            "task-progress",
            "Task progress and schedule variance",
            "Each task's progress, planned against actual dates and how many days late;"
            " or each project's totals.",
            task_progress.GROUPS,
            ("gantt", "timesheets"),
            task_progress.task_progress,
            uses_period=False,
        ),
        Template(
            "user-activity",
            "User activity",
            "What each person did per period, from the log: items created, changed, moved,"
            " finished, reopened and converted, and hours logged.",
            user_activity.GROUPS,
            ("item_changes", "timesheets"),
            user_activity.user_activity,
        ),
        Template(
            "custom",
            "Custom report",
            "A data set (items, changes, time) grouped by the dimensions you choose, with the"
            " measures you choose, filtered: run it with `dataset`, `dimensions`, `measures`"
            " and `filters`, or save it.",
            (),
            custom.READS,
            custom.run,
        ),
    )
}

__all__ = ["TEMPLATES", "Report", "ReportRequest", "Template"]
