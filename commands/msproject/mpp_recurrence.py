"""Recurring tasks' patterns, as MPXJ reads them from an MPP or MPT file. MSPDI holds only a
recurring task's flag (MS Project writes no pattern to XML, nor does MPXJ), so the pattern
is taken from MPXJ's model before the file is written as MSPDI, by task UID.

A pattern maps to a rule here (`domain.recurrence`) when it is: every n days, every n
weeks on some weekdays, every n months on a day of the month, or every year on a day of a
month, ending after a count or on a date. "Every n working days" (n > 1) and the relative
patterns ("the second Tuesday of the month") do not: such a task is recorded without one
(None), and its occurrences stay its subtasks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.msproject.plan import FileRecurrence
from domain.recurrence import Frequency

DAYS = (
    ("MO", "MONDAY"),
    ("TU", "TUESDAY"),
    ("WE", "WEDNESDAY"),
    ("TH", "THURSDAY"),
    ("FR", "FRIDAY"),
    ("SA", "SATURDAY"),
    ("SU", "SUNDAY"),
)


def recurrences_of(project: Any, day_of_week: Any) -> dict[int, FileRecurrence | None]:
    """Each recurring task's pattern by UID (None: one that maps to no rule here), from an
    MPXJ `ProjectFile`; `day_of_week` is Java's `java.time.DayOfWeek`."""
    found: dict[int, FileRecurrence | None] = {}
    for task in project.getTasks():
        if task.getRecurring() and task.getUniqueID() is not None:
            data = task.getRecurringTask()
            found[int(task.getUniqueID())] = (
                None if data is None else file_recurrence(data, day_of_week)
            )
    return found


def file_recurrence(data: Any, day_of_week: Any) -> FileRecurrence | None:
    """An MPXJ `RecurringData` as a pattern here, or None where none maps."""
    starts = _day(data.getStartDate())
    kind = None if data.getRecurrenceType() is None else str(data.getRecurrenceType().name())
    if starts is None or kind is None:
        return None
    interval = max(int(data.getFrequency() or 1), 1)
    by_date = bool(data.getUseEndDate())
    count = None if by_date else int(data.getOccurrences() or 0) or None
    until = _day(data.getFinishDate()) if by_date else None
    if kind == "DAILY":
        if data.getWorkingDaysOnly() and interval > 1:
            return None  # Every n working days: no such rule here.
        if data.getWorkingDaysOnly():  # Every working day: Monday to Friday.
            weekdays = tuple(code for code, _ in DAYS[:5])
            return FileRecurrence(Frequency.WEEKLY, starts, 1, weekdays, count=count, until=until)
        return FileRecurrence(Frequency.DAILY, starts, interval, count=count, until=until)
    if kind == "WEEKLY":
        days = tuple(code for code, name in DAYS if data.getWeeklyDay(day_of_week.valueOf(name)))
        return FileRecurrence(
            Frequency.WEEKLY, starts, interval, weekdays=days, count=count, until=until
        )
    if data.getRelative() or data.getDayNumber() is None:
        return None  # "The second Tuesday": no ordinal weekdays in rules here.
    day = int(data.getDayNumber())
    if kind == "MONTHLY":
        return FileRecurrence(
            Frequency.MONTHLY, starts, interval, month_days=(day,), count=count, until=until
        )
    if kind == "YEARLY" and data.getMonthNumber() is not None:
        first = _yearly_from(starts, int(data.getMonthNumber()), day)
        return (
            None
            if first is None
            else FileRecurrence(Frequency.YEARLY, first, 1, count=count, until=until)
        )
    return None


def _day(value: Any) -> date | None:
    """A Java `LocalDate` or `LocalDateTime` as a day."""
    return None if value is None else date.fromisoformat(str(value)[:10])


def _yearly_from(starts: date, month: int, day: int) -> date | None:
    """The first `month`/`day` on or after `starts` (a yearly rule's first occurrence)."""
    for year in range(starts.year, starts.year + 9):  # (29 February within eight years)
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= starts:
            return found
    return None
