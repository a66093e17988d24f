"""Recurring tasks: expand a series' rule into dates (RFC 5545, by python-dateutil) and
create each due occurrence exactly once.

Exactly once holds in the write model, whoever calls and however often: an occurrence
is created in the same atomic write that records it on its series' template task, and the
template refuses a date it has already recorded (or one before it). Two workers racing for
the same occurrence collide on the template's version; the loser decides again, finds it
recorded and writes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal
from uuid import UUID

from dateutil import rrule

from commands.application import LedgerDesk
from commands.folders import load_folder
from commands.models import CommandResult, Context
from commands.tasks import calendar_of, copy_fields
from commands.unit_of_work import UnitOfWork, run
from commands.workflow.statuses import lifecycle_for
from domain.item_numbers import COUNTER_ID
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.recurrence import Frequency, Recurrence
from domain.task import Task
from domain.values import Actor

FREQUENCIES: dict[Frequency, Literal[0, 1, 2, 3, 4, 5, 6]] = {
    Frequency.DAILY: rrule.DAILY,
    Frequency.WEEKLY: rrule.WEEKLY,
    Frequency.MONTHLY: rrule.MONTHLY,
    Frequency.YEARLY: rrule.YEARLY,
}
WEEKDAYS = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}
RECURRENCE = Actor.system("recurrence")


def occurrences(
    rule: Recurrence, first: date, until: date, calendar: WorkCalendar = STANDARD
) -> list[date]:
    """The working days of `rule` from `first` to `until` (both inclusive), in order.
    A day the rule names that is a day off in `calendar` (the project's: by default Saturday
    and Sunday) has no occurrence: plans are in working days (choose weekdays in the rule to
    say which days)."""
    if until < first:
        return []
    expanded = rrule.rrule(
        FREQUENCIES[rule.frequency],
        dtstart=datetime.combine(rule.starts, time()),
        interval=rule.interval,
        byweekday=[WEEKDAYS[d] for d in rule.weekdays] or None,
        bymonthday=list(rule.month_days) or None,
        count=rule.count,
        until=datetime.combine(rule.until, time()) if rule.until else None,
    )
    moments = expanded.between(
        datetime.combine(first, time()), datetime.combine(until, time()), inc=True
    )
    return [m.date() for m in moments if calendar.is_working(m.date())]


def due(template: Task, until: date, calendar: WorkCalendar) -> list[date]:
    """The occurrences of `template`'s series not created yet, up to `until`, on working
    days of `calendar` (its project's)."""
    first = template.first_open_day()
    if first is None or template.recurrence is None:
        return []
    rule = Recurrence.from_dict(template.recurrence)
    return occurrences(rule, first, until, calendar)


def create_occurrence(uow: UnitOfWork, series: int, day: date, ctx: Context) -> list[Any]:
    """The occurrence of `series` on `day`, with its template's record of it; nothing if
    it exists already, the series stopped, or the rule (as it is now) no longer has it."""
    template = uow.task(series)
    calendar = calendar_of(template, uow)
    if day not in due(template, day, calendar):
        return []
    counter = uow.counter()
    number = counter.issue("task", ctx.actor, ctx.correlation_id)
    occurrence = Task.plan(
        number=number,
        **copy_fields(template, start=day),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        series_number=template.number,
        occurrence_date=day,
        carried={"assignees": list(template.assignees), "followers": list(template.followers)},
        lifecycle=lifecycle_for(uow, "task", "task"),
        calendar=calendar,
    )
    template.record_occurrence(day, number, ctx.actor, ctx.correlation_id)
    folder = load_folder(uow, UUID(template.folder_id)) if template.folder_id else None
    if folder is not None:
        folder.file_item(number, ctx.actor, ctx.correlation_id)
    return [counter, template, occurrence, *([folder] if folder else [])]


class RecurrenceService:
    """Creates the occurrences of recurring tasks that are due."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def create_due(self, series: int, today: date, correlation_id: str) -> list[CommandResult]:
        """Create every due occurrence of `series` (each exactly once, in date order)."""
        ctx = Context(actor=RECURRENCE, correlation_id=correlation_id)
        created: list[CommandResult] = []
        reading = UnitOfWork(self.app)
        template = reading.task(series)
        for day in due(template, today, calendar_of(template, reading)):
            aggregates, position = run(
                self.app,
                COUNTER_ID,
                lambda uow, day=day: create_occurrence(uow, series, day, ctx),  # type: ignore[misc]
            )
            if aggregates:
                task = aggregates[2]
                created.append(
                    CommandResult(
                        id=task.id, number=task.number, version=task.version, position=position
                    )
                )
        return created
