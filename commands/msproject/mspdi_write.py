"""Writing a `FilePlan` as a Microsoft Project XML file (MSPDI) that MS Project opens.

MS Project reads MSPDI against its schema, whose elements are sequences: each element is
written in the order the schema gives (Project 2010+, SaveVersion 14, which is also the
order MS Project itself writes — `Active` and `Manual` after a task's `Name`). Only what a
plan holds is written; MS Project computes the rest (slack, costs, early and late dates)
when it opens the file.

- **The project**: SaveVersion 14, Name, the `extra` Title ... Author, StartDate (when the
  plan has one: else MS Project starts the project today), the calendar's UID, the working
  day and week in minutes.
- **The calendar**: one base calendar, the plan's own (`FilePlan.calendar`; else
  "Standard", Monday to Friday): its working weekdays 08:00-12:00 and 13:00-17:00, its
  exceptions in the Project 2007+ form (`Exceptions`, sorted, as MS Project requires; not
  also as Project 2003's `WeekDay` 0, which MPXJ adds for other tools).
- **Tasks**, in plan order, with the project summary task (UID 0, outline level 0) first
  when the plan has none: fixed-duration tasks (Type 1) with their durations in days
  (DurationFormat 7; 8, elapsed days, for an elapsed duration) and links with their lags
  (LagFormat 7 with LinkLag in tenths of a minute; 8 for elapsed time; 19 with the percent
  itself for a percent). A task without an outline number gets one from the outline.
- **Resources** (a cost resource as MS Project writes one: Type 0 with IsCostResource) and
  **assignments**.

Dates are written `YYYY-MM-DDTHH:MM:SS` (seconds; no time zone). Characters XML cannot hold
(NUL and the other C0 controls but tab and line ends) are left out; a carriage return is
kept (as a character reference). `read_mspdi(write_mspdi(plan)) == plan` for a plan that
holds only what is written (see the tests).
"""

from __future__ import annotations

import re
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from commands.msproject.mspdi_calendars import day_type_of
from commands.msproject.mspdi_format import (
    CONSTRAINT_CODES,
    EXTRA,
    FORMAT_DAYS,
    FORMAT_ELAPSED_DAYS,
    LAG_FORMATS,
    LINK_CODES,
    NAMESPACE,
    SAVE_VERSION,
    format_datetime,
    format_day,
    format_duration,
    format_number,
)
from domain.msproject.plan import (
    CalendarException,
    FileCalendar,
    FileLink,
    FilePlan,
    FileResource,
    FileTask,
    LagUnit,
)

DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
WORKING_TIMES = (("08:00:00", "12:00:00"), ("13:00:00", "17:00:00"))
CURRENCY = "USD"  # (plans here hold no costs)
FIXED_DURATION = 1  # Task/Type: 0 fixed units, 1 fixed duration, 2 fixed work
RESOURCE_TYPES = {"work": 1, "material": 0, "cost": 0}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Value = str | int | bool | datetime | None


def write_mspdi(plan: FilePlan) -> bytes:
    """The plan as an MSPDI file (UTF-8)."""
    project = Element("Project", xmlns=NAMESPACE)
    _add(project, "SaveVersion", SAVE_VERSION)
    _add(project, "Name", plan.name or None)
    for key in EXTRA:
        _add(project, key, plan.extra.get(key) or None)
    _add(project, "ScheduleFromStart", True)
    _add(project, "StartDate", plan.start)
    _add(project, "CurrencyCode", CURRENCY)  # required by the schema from Project 2007 on
    calendar = plan.calendar or FileCalendar(plan.calendar_uid or 1, "Standard")
    _add(project, "CalendarUID", calendar.uid)
    _add(project, "DefaultStartTime", WORKING_TIMES[0][0])
    _add(project, "DefaultFinishTime", WORKING_TIMES[-1][1])
    _add(project, "MinutesPerDay", plan.minutes_per_day)
    _add(project, "MinutesPerWeek", plan.minutes_per_week)
    _calendar(SubElement(project, "Calendars"), calendar)
    tasks = SubElement(project, "Tasks")
    if not any(task.uid == 0 for task in plan.tasks):
        summary = FileTask(0, 0, plan.name, 0, summary=True, start=plan.start)
        _task(tasks, summary, "0")
    for task, outline in zip(plan.tasks, _outline_numbers(plan.tasks), strict=True):
        _task(tasks, task, task.outline_number or outline)
    resources = SubElement(project, "Resources")
    for number, resource in enumerate(plan.resources, 1):
        _resource(resources, resource, number)
    assignments = SubElement(project, "Assignments")
    for number, assignment in enumerate(plan.assignments, 1):
        element = SubElement(assignments, "Assignment")
        _add(element, "UID", number)
        _add(element, "TaskUID", assignment.task_uid)
        _add(element, "ResourceUID", assignment.resource_uid)
        _add(element, "Units", format_number(assignment.units))
    indent(project, space="  ")
    text = tostring(project, encoding="unicode").replace("\r", "&#13;")
    return (DECLARATION + text + "\n").encode("utf-8")


def _add(parent: Element, tag: str, value: Value) -> None:
    """A child element `tag` holding `value` (none for None)."""
    if value is None:
        return
    if isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, datetime):
        text = format_datetime(value)
    else:
        text = _NOT_XML.sub("", str(value))
    SubElement(parent, tag).text = text


def _calendar(calendars: Element, calendar: FileCalendar) -> None:
    element = SubElement(calendars, "Calendar")
    _add(element, "UID", calendar.uid)
    _add(element, "Name", calendar.name or "Standard")
    _add(element, "IsBaseCalendar", True)
    _add(element, "BaseCalendarUID", -1)
    weekdays = SubElement(element, "WeekDays")
    for weekday in sorted(range(7), key=day_type_of):  # Sunday (1) to Saturday (7)
        day = SubElement(weekdays, "WeekDay")
        working = weekday in calendar.working_weekdays
        _add(day, "DayType", day_type_of(weekday))
        _add(day, "DayWorking", working)
        if working:
            _working_times(day)
    if calendar.exceptions:
        exceptions = SubElement(element, "Exceptions")
        for exception in sorted(calendar.exceptions, key=lambda each: (each.starts, each.ends)):
            _exception(exceptions, exception)


def _exception(exceptions: Element, exception: CalendarException) -> None:
    element = SubElement(exceptions, "Exception")
    _add(element, "EnteredByOccurrences", False)
    period = SubElement(element, "TimePeriod")
    _add(period, "FromDate", format_day(exception.starts))
    _add(period, "ToDate", format_day(exception.ends, end=True))
    _add(element, "Occurrences", 1)
    _add(element, "Name", exception.name or None)
    _add(element, "Type", 1)  # daily: every day from FromDate to ToDate
    _add(element, "DayWorking", exception.working)
    if exception.working:
        _working_times(element)


def _working_times(parent: Element) -> None:
    times = SubElement(parent, "WorkingTimes")
    for start, finish in WORKING_TIMES:
        time = SubElement(times, "WorkingTime")
        _add(time, "FromTime", start)
        _add(time, "ToTime", finish)


def _task(tasks: Element, task: FileTask, outline_number: str) -> None:
    element = SubElement(tasks, "Task")
    _add(element, "UID", task.uid)
    _add(element, "GUID", task.guid)
    _add(element, "ID", task.id)
    _add(element, "Name", task.name or None)
    _add(element, "Active", task.active)
    _add(element, "Manual", task.manual)
    _add(element, "Type", FIXED_DURATION)
    _add(element, "IsNull", task.null)
    _add(element, "OutlineNumber", outline_number)
    _add(element, "OutlineLevel", task.outline_level)
    _add(element, "Start", task.start)
    _add(element, "Finish", task.finish)
    duration = format_duration(task.duration_minutes or 0)
    _add(element, "Duration", duration)
    if task.manual:
        _add(element, "ManualStart", task.start)
        _add(element, "ManualFinish", task.finish)
        _add(element, "ManualDuration", duration)
    _add(element, "DurationFormat", FORMAT_ELAPSED_DAYS if task.duration_elapsed else FORMAT_DAYS)
    _add(element, "Work", format_duration(task.work_minutes or 0))
    _add(element, "Recurring", task.recurring)
    _add(element, "Milestone", task.milestone)
    _add(element, "Summary", task.summary)
    _add(element, "PercentComplete", task.percent_complete)
    _add(element, "ActualStart", task.actual_start)
    _add(element, "ActualFinish", task.actual_finish)
    _add(element, "ConstraintType", CONSTRAINT_CODES[task.constraint])
    _add(element, "ConstraintDate", task.constraint_date)
    _add(element, "Notes", task.notes or None)
    for link in task.predecessors:
        _link(element, link)


def _link(task: Element, link: FileLink) -> None:
    element = SubElement(task, "PredecessorLink")
    _add(element, "PredecessorUID", link.predecessor_uid)
    _add(element, "Type", LINK_CODES[link.kind])
    _add(element, "CrossProject", False)
    tenths = link.lag if link.lag_unit == LagUnit.PERCENT else link.lag * 10
    _add(element, "LinkLag", round(tenths))
    _add(element, "LagFormat", LAG_FORMATS[link.lag_unit])


def _resource(resources: Element, resource: FileResource, number: int) -> None:
    element = SubElement(resources, "Resource")
    _add(element, "UID", resource.uid)
    _add(element, "ID", number)
    _add(element, "Name", resource.name or None)
    _add(element, "Type", RESOURCE_TYPES.get(resource.kind, 1))
    _add(element, "IsNull", False)
    _add(element, "EmailAddress", resource.email or None)
    if resource.kind == "cost":
        _add(element, "IsCostResource", True)


def _outline_numbers(tasks: tuple[FileTask, ...]) -> list[str]:
    """Each task's outline number from the outline levels ("1", "1.1", "1.2", "2"); the
    project summary task's is "0"."""
    numbers: list[str] = []
    counters: list[int] = []
    for task in tasks:
        level = max(task.outline_level, 0)
        if level == 0:
            numbers.append("0")
            continue
        counters = counters[:level] + [0] * (level - len(counters))
        counters[level - 1] += 1
        numbers.append(".".join(str(count or 1) for count in counters))
    return numbers
