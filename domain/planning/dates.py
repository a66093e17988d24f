"""A task's planned dates: start and finish in working days, a constraint, a milestone mark,
and how typing or dragging dates moves the constraint with them.

`TaskDates` is part of the `Task` aggregate (`domain.task`): its methods check the rules and
record the events, whose classes and topics `Task` defines over the appliers here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.errors import InvalidValueError
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import Constraint, ConstraintKind
from domain.values import Actor
from domain.work_item import WorkItem

START_PINS = {ConstraintKind.START_NO_EARLIER_THAN, ConstraintKind.MUST_START_ON}
FINISH_PINS = {ConstraintKind.FINISH_NO_EARLIER_THAN, ConstraintKind.MUST_FINISH_ON}
EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 12, 31)


def check_day(field: str, day: date | None) -> None:
    """Plans live between 1900 and 9000: room for any lag or duration to stay a date."""
    if day is not None and not EARLIEST <= day <= LATEST:
        raise InvalidValueError(field, f"{field} must be between {EARLIEST} and {LATEST}")


def plan_dates(
    start: date | None,
    finish: date | None,
    duration_days: int | None,
    milestone: bool,
    calendar: WorkCalendar = STANDARD,
) -> tuple[date | None, date | None, int | None]:
    """Complete a plan from what was given: start and finish, or start and duration
    (working days of `calendar`, the project's): a start on a day off moves to the working
    day after, a finish on one to the working day before. A milestone lasts no time: it
    finishes on its start."""
    check_day("start", start)
    check_day("finish", finish)
    if duration_days is not None and duration_days < 0:
        raise InvalidValueError("duration_days", "duration_days must not be negative")
    if start is None:
        if finish is not None or duration_days is not None:
            raise InvalidValueError("start", "give a start with a finish or a duration")
        return None, None, None
    given, start = start, calendar.next_working(start)
    if milestone:
        return start, start, 0
    if finish is not None:
        if finish < given:
            raise InvalidValueError("finish", "finish must not be before start")
        last = calendar.previous_working(finish)  # A finish on a day off: the day before.
        if last < start:
            raise InvalidValueError("finish", f"{given} to {finish} holds no working day")
        days = calendar.between(start, last) + 1
        if duration_days is not None and duration_days != days:
            raise InvalidValueError(
                "duration_days", f"{start} to {last} is {days} working days, not {duration_days}"
            )
        return start, last, days
    if duration_days == 0:
        raise InvalidValueError("duration_days", "only a milestone lasts 0 days")
    days = 1 if duration_days is None else duration_days
    try:
        finish = calendar.add(start, days - 1)
    except (OverflowError, ValueError):
        finish = date.max
    if finish > LATEST:
        raise InvalidValueError(
            "duration_days", f"{days} working days from {start} end after {LATEST}"
        )
    return start, finish, days


def iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


class TaskDates(WorkItem):
    """The plan's dates, constraint and milestone mark."""

    start: str | None
    finish: str | None
    duration_days: int | None
    milestone: bool
    constraint: str
    constraint_on: str | None
    predecessors: dict[str, list[Any]]

    @property
    def start_date(self) -> date | None:
        return date.fromisoformat(self.start) if self.start else None

    @property
    def finish_date(self) -> date | None:
        return date.fromisoformat(self.finish) if self.finish else None

    @property
    def constraint_value(self) -> Constraint:
        on = date.fromisoformat(self.constraint_on) if self.constraint_on else None
        return Constraint(ConstraintKind(self.constraint), on)

    def schedule(
        self,
        start: date | None,
        finish: date | None,
        duration_days: int | None,
        cause: str,
        actor: Actor,
        correlation_id: str,
        calendar: WorkCalendar = STANDARD,
    ) -> None:
        """Set the planned dates (`cause`: planned by a person, rescheduled by dragging,
        or moved by a dependency), in working days of `calendar` (the project's)."""
        begin, end, days = plan_dates(start, finish, duration_days, self.milestone, calendar)
        if (iso_day(begin), iso_day(end), days) != (self.start, self.finish, self.duration_days):
            self._scheduled(
                start=iso_day(begin),
                finish=iso_day(end),
                duration_days=days,
                cause=cause,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    def _scheduled(
        self,
        start: str | None,
        finish: str | None,
        duration_days: int | None,
        cause: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.start = start
        self.finish = finish
        self.duration_days = duration_days

    def set_constraint(self, constraint: Constraint, actor: Actor, correlation_id: str) -> None:
        check_day("constraint_on", constraint.on)
        if (constraint.kind.value, iso_day(constraint.on)) != (
            self.constraint,
            self.constraint_on,
        ):
            self._constraint_set(
                constraint=constraint.kind.value,
                constraint_on=iso_day(constraint.on),
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    def _constraint_set(
        self, constraint: str, constraint_on: str | None, actor: str, correlation_id: str
    ) -> None:
        self.constraint = constraint
        self.constraint_on = constraint_on

    def reschedule(
        self,
        start: date,
        finish: date | None,
        actor: Actor,
        correlation_id: str,
        calendar: WorkCalendar = STANDARD,
    ) -> None:
        """What dragging the task's bar does: it starts on `start` (and, if given, finishes
        on `finish`), and the plan records the matching constraint: start no earlier than
        the new start, so that the forward pass keeps the task where it was put."""
        days = None if finish is not None else (self.duration_days or 1)
        self.schedule(start, finish, days, "rescheduled", actor, correlation_id, calendar)
        kind = (
            ConstraintKind.MUST_START_ON
            if self.constraint == ConstraintKind.MUST_START_ON.value
            else ConstraintKind.START_NO_EARLIER_THAN
        )
        self.set_constraint(Constraint(kind, self.start_date), actor, correlation_id)

    def pin_typed(
        self, start_typed: bool, finish_typed: bool, actor: Actor, correlation_id: str
    ) -> None:
        """A date typed on a task whose constraint names a date of that kind moves the
        constraint's date with it (as dragging does); so does a start typed on a linked
        as-soon-as-possible task, which the forward pass would otherwise pull back."""
        kind = self.constraint_value.kind
        if start_typed and self.start_date is not None:
            if kind in START_PINS:
                pin = Constraint(kind, self.start_date)
            elif kind is ConstraintKind.AS_SOON_AS_POSSIBLE and self.predecessors:
                pin = Constraint(ConstraintKind.START_NO_EARLIER_THAN, self.start_date)
            else:
                return
        elif finish_typed and self.finish_date is not None and kind in FINISH_PINS:
            pin = Constraint(kind, self.finish_date)
        else:
            return
        self.set_constraint(pin, actor, correlation_id)

    def mark_milestone(
        self,
        milestone: bool,
        actor: Actor,
        correlation_id: str,
        calendar: WorkCalendar = STANDARD,
    ) -> None:
        """A milestone lasts no time; it finishes on its start."""
        if milestone == self.milestone:
            return
        self._milestone_set(milestone=milestone, actor=actor.ref, correlation_id=correlation_id)
        if self.start_date is not None:
            days = 0 if milestone else 1
            self.schedule(self.start_date, None, days, "planned", actor, correlation_id, calendar)

    def _milestone_set(self, milestone: bool, actor: str, correlation_id: str) -> None:
        self.milestone = milestone
