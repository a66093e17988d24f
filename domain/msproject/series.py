"""Recurring tasks whose pattern maps to a rule here (`domain.recurrence`), as a series: MS
Project shows a recurring task as a summary task with its occurrences below it; here it is
the template of a series — the summary's name, its first occurrence's dates, the rule — and
each later occurrence a task of the series on its own day (`series_number`,
`occurrence_date`), recorded on the template, so that the series goes on from the file's
last occurrence and never makes one the file has again.

Only an MPP or MPT file holds a pattern (`commands.msproject.mpp_recurrence`); a recurring
task without one keeps its occurrences as its subtasks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from domain.errors import InvalidValueError
from domain.msproject.plan import FileRecurrence, FileTask
from domain.recurrence import Recurrence


@dataclass(frozen=True, slots=True)
class Series:
    template: FileTask  # the summary task, with its first occurrence's days
    first: FileTask  # the first occurrence: the template's own day
    occurrences: tuple[int, ...]  # the later occurrences' UIDs, by day
    pattern: FileRecurrence  # the rule: from the first occurrence's day to the last's


def series_of(
    tasks: Sequence[FileTask], kinds: dict[int, tuple[str, int | None]]
) -> dict[int, Series]:
    """The recurring summary tasks that become series, by UID: a parent task here whose
    pattern maps to a rule and whose occurrences all have a start.

    The file holds every occurrence, so the rule runs from the first occurrence's day (as
    the file has it) to the last one's: the series it makes is the file's, and the worker
    that creates occurrences never makes one the file did not have (MS Project's patterns
    and the rules here differ at the edges: the 31st of a short month, leap days)."""
    below: dict[int, list[FileTask]] = defaultdict(list)
    for task in tasks:
        kind, container = kinds[task.uid]
        if kind == "subtask" and container is not None:
            below[container].append(task)
    found: dict[int, Series] = {}
    for task in tasks:
        occurrences = below.get(task.uid, [])
        if not (task.recurring and task.recurrence and occurrences):
            continue
        if any(o.start is None for o in occurrences):
            continue
        ordered = sorted(occurrences, key=lambda o: (o.start, o.uid))
        first, last = ordered[0], ordered[-1]
        assert first.start is not None
        assert last.start is not None
        pattern = replace(
            task.recurrence, starts=first.start.date(), count=None, until=last.start.date()
        )
        if rule_of(pattern) is None:
            continue
        template = replace(
            task, start=first.start, finish=first.finish, summary=False, recurring=False,
            duration_minutes=first.duration_minutes, milestone=first.milestone,
            work_minutes=first.work_minutes, percent_complete=first.percent_complete,
            actual_start=first.actual_start, actual_finish=first.actual_finish,
        )  # fmt: skip
        found[task.uid] = Series(template, first, tuple(o.uid for o in ordered[1:]), pattern)
    return found


def rule_of(pattern: FileRecurrence) -> Recurrence | None:
    """The rule a pattern is here, or None where it is not one (an end before its start)."""
    try:
        return Recurrence(
            frequency=pattern.frequency, starts=pattern.starts, interval=pattern.interval,
            weekdays=pattern.weekdays, month_days=pattern.month_days, count=pattern.count,
            until=pattern.until,
        )  # fmt: skip
    except InvalidValueError:
        return None
