"""The Task aggregate: work that needs planning.

A task has everything a ticket has (its place, people, status, conversation and
attachments, recorded with the shared events of `domain.ticket.WorkItem`) and a plan:
dates, a constraint, work and points, progress, actual dates, a milestone mark, one level
of subtasks, dependencies on other tasks and, optionally, a recurrence.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    InvalidValueError,
    SubtaskLevelError,
    TaskLinkError,
)
from domain.item_numbers import item_id
from domain.project import INBOX_ID
from domain.recurrence import Recurrence
from domain.schedule import (
    Constraint,
    ConstraintKind,
    LinkKind,
    add_working_days,
    next_working_day,
    working_days_between,
)
from domain.ticket import WorkItem, check_title
from domain.values import (
    Actor,
    Lifecycle,
    Priority,
    State,
    Status,
    normalise_email,
)

START_PINS = {ConstraintKind.START_NO_EARLIER_THAN, ConstraintKind.MUST_START_ON}
FINISH_PINS = {ConstraintKind.FINISH_NO_EARLIER_THAN, ConstraintKind.MUST_FINISH_ON}

DEFAULT_TASK_LIFECYCLE = Lifecycle(
    (
        Status("Not started", State.NOT_STARTED),
        Status("In progress", State.IN_PROGRESS),
        Status("On hold", State.IN_PROGRESS),
        Status("Done", State.FINISHED),
    )
)


EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 12, 31)


def check_day(field: str, day: date | None) -> None:
    """Plans live between 1900 and 9000: room for any lag or duration to stay a date."""
    if day is not None and not EARLIEST <= day <= LATEST:
        raise InvalidValueError(field, f"{field} must be between {EARLIEST} and {LATEST}")


def plan_dates(
    start: date | None, finish: date | None, duration_days: int | None, milestone: bool
) -> tuple[date | None, date | None, int | None]:
    """Complete a plan from what was given: start and finish, or start and duration
    (working days, Monday to Friday). A milestone lasts no time: it finishes on its start."""
    check_day("start", start)
    check_day("finish", finish)
    if duration_days is not None and duration_days < 0:
        raise InvalidValueError("duration_days", "duration_days must not be negative")
    if start is None:
        if finish is not None or duration_days is not None:
            raise InvalidValueError("start", "give a start with a finish or a duration")
        return None, None, None
    start = next_working_day(start)
    if milestone:
        return start, start, 0
    if finish is not None:
        if finish < start:
            raise InvalidValueError("finish", "finish must not be before start")
        days = working_days_between(start, finish) + 1
        if duration_days is not None and duration_days != days:
            raise InvalidValueError(
                "duration_days", f"{start} to {finish} is {days} working days, not {duration_days}"
            )
        return start, add_working_days(start, days - 1), days
    if duration_days == 0:
        raise InvalidValueError("duration_days", "only a milestone lasts 0 days")
    days = 1 if duration_days is None else duration_days
    return start, add_working_days(start, days - 1), days


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


class Task(WorkItem, Aggregate):
    """Work with a plan; the plan's dates move with its dependencies."""

    TOPIC = "ledgerdesk:Task"
    # class_version 2: snapshots of version 1 had no logged time or actuals_by_hand.
    class_version = 2
    LIFECYCLE = DEFAULT_TASK_LIFECYCLE

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Bring a version-1 snapshot's state to the shape of version 2 (actual dates set
        then were set by hand: nothing else set them)."""
        state["logged"] = {}
        state["actuals_by_hand"] = bool(state.get("actual_start") or state.get("actual_finish"))

    KIND = "task"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Scheduled: ClassVar[type[Aggregate.Event]]
        ConstraintSet: ClassVar[type[Aggregate.Event]]
        WorkEstimated: ClassVar[type[Aggregate.Event]]
        PointsEstimated: ClassVar[type[Aggregate.Event]]
        ProgressSet: ClassVar[type[Aggregate.Event]]
        ActualsRecorded: ClassVar[type[Aggregate.Event]]
        MilestoneSet: ClassVar[type[Aggregate.Event]]
        DependencyAdded: ClassVar[type[Aggregate.Event]]
        DependencyRemoved: ClassVar[type[Aggregate.Event]]
        SuccessorAdded: ClassVar[type[Aggregate.Event]]
        SuccessorRemoved: ClassVar[type[Aggregate.Event]]
        ParentSet: ClassVar[type[Aggregate.Event]]
        SubtaskAdded: ClassVar[type[Aggregate.Event]]
        SubtaskRemoved: ClassVar[type[Aggregate.Event]]
        RecurrenceSet: ClassVar[type[Aggregate.Event]]
        RecurrenceStopped: ClassVar[type[Aggregate.Event]]
        OccurrenceCreated: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(number: int) -> UUID:
        return item_id(number)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Task.Created"

    class Planned(Aggregate.Created):
        """The task exists: its fields, place and plan. A task converted from a ticket
        names it (`converted_from`) and carries its people and message visibilities; a
        task created by a recurring series names the series and the occurrence's date."""

        TOPIC = "ledgerdesk:Task.Planned"
        number: int
        title: str
        description: str
        requester_email: str | None
        priority: str
        status: str
        state: str
        project_id: str
        folder_id: str | None
        start: str | None
        finish: str | None
        duration_days: int | None
        work_hours: float | None
        points: float | None
        milestone: bool
        constraint: str
        constraint_on: str | None
        series_number: int | None
        occurrence_date: str | None
        converted_from: int | None
        carried: dict[str, Any] | None
        actor: str
        correlation_id: str

    @event(Planned)
    def __init__(
        self,
        number: int,
        title: str,
        description: str,
        requester_email: str | None,
        priority: str,
        status: str,
        state: str,
        project_id: str,
        folder_id: str | None,
        start: str | None,
        finish: str | None,
        duration_days: int | None,
        work_hours: float | None,
        points: float | None,
        milestone: bool,
        constraint: str,
        constraint_on: str | None,
        series_number: int | None,
        occurrence_date: str | None,
        converted_from: int | None,
        carried: dict[str, Any] | None,
        actor: str,
        correlation_id: str,
    ) -> None:
        carried = carried or {}
        self.number = number
        self.project_id = project_id
        self.folder_id = folder_id
        self.created_by = carried.get("created_by", actor)
        self.team_id = carried.get("team_id")
        self.title = title
        self.description = description
        self.requester_email = requester_email
        self.priority = priority
        self.status = status
        self.assignees = list(carried.get("assignees", []))
        self.followers = list(carried.get("followers", []))
        self.message_visibility = dict(carried.get("message_visibility", {}))
        self.logged = {k: list(v) for k, v in carried.get("logged", {}).items()}
        self.start = start
        self.finish = finish
        self.duration_days = duration_days
        self.work_hours = work_hours
        self.points = points
        self.milestone = milestone
        self.constraint = constraint
        self.constraint_on = constraint_on
        self.percent_complete = 0
        self.percent_by_hand = False
        self.actual_start: str | None = None
        self.actual_finish: str | None = None
        self.actuals_by_hand = False
        self.parent: int | None = None
        self.subtasks: list[int] = []
        # {predecessor number: [link kind, lag]}; the successor side mirrors it.
        self.predecessors: dict[str, list[Any]] = {}
        self.successors: dict[str, list[Any]] = {}
        self.series_number = series_number
        self.occurrence_date = occurrence_date
        self.converted_from = converted_from
        self.recurrence: dict[str, Any] | None = None
        self.recurrence_from: str | None = None
        self.last_occurrence: str | None = None

    @classmethod
    def plan(
        cls,
        *,
        number: int,
        title: str,
        description: str = "",
        priority: str = Priority.NORMAL.value,
        actor: Actor,
        correlation_id: str,
        project_id: UUID = INBOX_ID,
        folder_id: UUID | None = None,
        requester_email: str | None = None,
        start: date | None = None,
        finish: date | None = None,
        duration_days: int | None = None,
        work_hours: float | None = None,
        points: float | None = None,
        milestone: bool = False,
        constraint: Constraint | None = None,
        status: str | None = None,
        series_number: int | None = None,
        occurrence_date: date | None = None,
        converted_from: int | None = None,
        carried: dict[str, Any] | None = None,
    ) -> Task:
        """A new task with the next item number."""
        begin, end, days = plan_dates(start, finish, duration_days, milestone)
        constraint = constraint or Constraint(ConstraintKind.AS_SOON_AS_POSSIBLE, None)
        check_day("constraint_on", constraint.on)
        initial = cls.LIFECYCLE.status(status) if status else cls.LIFECYCLE.initial
        _check_amount("work_hours", work_hours)
        _check_amount("points", points)
        task = cls(
            number=number,
            title=check_title(title),
            description=description,
            requester_email=normalise_email(requester_email, "requester_email")
            if requester_email
            else None,
            priority=Priority.parse(priority).value,
            status=initial.name,
            state=initial.state.value,
            project_id=str(project_id),
            folder_id=str(folder_id) if folder_id else None,
            start=_iso(begin),
            finish=_iso(end),
            duration_days=days,
            work_hours=work_hours,
            points=points,
            milestone=milestone,
            constraint=constraint.kind.value,
            constraint_on=_iso(constraint.on),
            series_number=series_number,
            occurrence_date=_iso(occurrence_date),
            converted_from=converted_from,
            carried=carried,
            actor=actor.ref,
            correlation_id=correlation_id,
        )
        if task.logged:
            task.follow_time(actor, correlation_id)  # Time carried from a converted ticket.
        return task

    def move(
        self, project_id: UUID, folder_id: UUID | None, actor: Actor, correlation_id: str
    ) -> None:
        """Move to another project or folder; a task linked to others stays in its project
        (dependencies and subtasks link tasks of one project)."""
        linked = self.predecessors or self.successors or self.subtasks or self.parent
        if str(project_id) != self.project_id and linked:
            raise TaskLinkError(
                f"#{self.number} has dependencies or subtasks; remove them before moving it"
                " to another project"
            )
        super().move(project_id, folder_id, actor, correlation_id)

    # --- the plan -------------------------------------------------------------

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
    ) -> None:
        """Set the planned dates (`cause`: planned by a person, rescheduled by dragging,
        or moved by a dependency)."""
        begin, end, days = plan_dates(start, finish, duration_days, self.milestone)
        if (_iso(begin), _iso(end), days) != (self.start, self.finish, self.duration_days):
            self._scheduled(
                start=_iso(begin),
                finish=_iso(end),
                duration_days=days,
                cause=cause,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("Scheduled", topic="ledgerdesk:Task.Scheduled")
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
        if (constraint.kind.value, _iso(constraint.on)) != (self.constraint, self.constraint_on):
            self._constraint_set(
                constraint=constraint.kind.value,
                constraint_on=_iso(constraint.on),
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("ConstraintSet", topic="ledgerdesk:Task.ConstraintSet")
    def _constraint_set(
        self, constraint: str, constraint_on: str | None, actor: str, correlation_id: str
    ) -> None:
        self.constraint = constraint
        self.constraint_on = constraint_on

    def reschedule(
        self, start: date, finish: date | None, actor: Actor, correlation_id: str
    ) -> None:
        """What dragging the task's bar does: it starts on `start` (and, if given, finishes
        on `finish`), and the plan records the matching constraint: start no earlier than
        the new start, so that the forward pass keeps the task where it was put."""
        days = None if finish is not None else (self.duration_days or 1)
        self.schedule(start, finish, days, "rescheduled", actor, correlation_id)
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

    def estimate_work(self, work_hours: float | None, actor: Actor, correlation_id: str) -> None:
        _check_amount("work_hours", work_hours)
        if work_hours != self.work_hours:
            self._work_estimated(
                work_hours=work_hours, actor=actor.ref, correlation_id=correlation_id
            )
            self.follow_time(actor, correlation_id)  # Percent complete is logged / planned.

    def change_status(
        self,
        status: str,
        actor: Actor,
        correlation_id: str,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        super().change_status(status, actor, correlation_id, lifecycle)
        self.follow_time(actor, correlation_id)  # Finished: the actual finish follows.

    @event("WorkEstimated", topic="ledgerdesk:Task.WorkEstimated")
    def _work_estimated(self, work_hours: float | None, actor: str, correlation_id: str) -> None:
        self.work_hours = work_hours

    def estimate_points(self, points: float | None, actor: Actor, correlation_id: str) -> None:
        _check_amount("points", points)
        if points != self.points:
            self._points_estimated(points=points, actor=actor.ref, correlation_id=correlation_id)

    @event("PointsEstimated", topic="ledgerdesk:Task.PointsEstimated")
    def _points_estimated(self, points: float | None, actor: str, correlation_id: str) -> None:
        self.points = points

    def set_progress(self, percent: int, actor: Actor, correlation_id: str) -> None:
        """Percent complete, set by hand (0 to 100)."""
        if not 0 <= percent <= 100:
            raise InvalidValueError("percent_complete", "percent_complete is 0 to 100")
        if percent != self.percent_complete or not self.percent_by_hand:
            self._progress_set(
                percent_complete=percent,
                by_hand=True,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("ProgressSet", topic="ledgerdesk:Task.ProgressSet")
    def _progress_set(
        self, percent_complete: int, by_hand: bool, actor: str, correlation_id: str
    ) -> None:
        self.percent_complete = percent_complete
        self.percent_by_hand = by_hand

    def record_actuals(
        self,
        actual_start: date | None,
        actual_finish: date | None,
        actor: Actor,
        correlation_id: str,
        *,
        by_hand: bool = True,
    ) -> None:
        """Actual dates: set by hand, or following the timesheets (until set by hand)."""
        check_day("actual_start", actual_start)
        check_day("actual_finish", actual_finish)
        if actual_start and actual_finish and actual_finish < actual_start:
            raise InvalidValueError("actual_finish", "actual_finish must not be before its start")
        if actual_finish and not actual_start:
            raise InvalidValueError("actual_start", "a task that finished has started")
        new = (_iso(actual_start), _iso(actual_finish), by_hand or self.actuals_by_hand)
        if new != (self.actual_start, self.actual_finish, self.actuals_by_hand):
            self._actuals_recorded(
                actual_start=new[0],
                actual_finish=new[1],
                by_hand=by_hand,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    # `by_hand` (and `effective_from` below) came later: events stored without them were
    # recorded before anything but a person set actual dates (and carry the default).
    @event("ActualsRecorded", topic="ledgerdesk:Task.ActualsRecorded")
    def _actuals_recorded(
        self,
        actual_start: str | None,
        actual_finish: str | None,
        actor: str,
        correlation_id: str,
        by_hand: bool = True,
    ) -> None:
        self.actual_start = actual_start
        self.actual_finish = actual_finish
        self.actuals_by_hand = self.actuals_by_hand or by_hand

    def follow_time(self, actor: Actor, correlation_id: str) -> None:
        """What the timesheets say, where no one has said otherwise: percent complete is
        the logged time over the planned work, and the actual dates are the first and (once
        the task is finished) the last day time was logged."""
        if not self.percent_by_hand and self.work_hours:
            share = max(0, self.logged_minutes) / 60 / self.work_hours
            percent = min(100, round(share * 100))
            if percent != self.percent_complete:
                self._progress_set(
                    percent_complete=percent,
                    by_hand=False,
                    actor=actor.ref,
                    correlation_id=correlation_id,
                )
        if not self.actuals_by_hand and not self.logged:
            self.record_actuals(None, None, actor, correlation_id, by_hand=False)
        elif not self.actuals_by_hand:
            days = sorted(day for day, _ in self.logged.values())
            finish = days[-1] if self.state is State.FINISHED else None
            first = date.fromisoformat(days[0])
            last = date.fromisoformat(finish) if finish else None
            self.record_actuals(
                first, max(last, first) if last else None, actor, correlation_id, by_hand=False
            )

    def mark_milestone(self, milestone: bool, actor: Actor, correlation_id: str) -> None:
        """A milestone lasts no time; it finishes on its start."""
        if milestone == self.milestone:
            return
        self._milestone_set(milestone=milestone, actor=actor.ref, correlation_id=correlation_id)
        if self.start_date is not None:
            days = 0 if milestone else 1
            self.schedule(self.start_date, None, days, "planned", actor, correlation_id)

    @event("MilestoneSet", topic="ledgerdesk:Task.MilestoneSet")
    def _milestone_set(self, milestone: bool, actor: str, correlation_id: str) -> None:
        self.milestone = milestone

    # --- dependencies ---------------------------------------------------------

    def depend_on(
        self, predecessor: Task, kind: LinkKind, lag_days: int, actor: Actor, correlation_id: str
    ) -> None:
        """This task follows `predecessor` (both streams record it; saved together).
        The caller has checked that the link makes no cycle."""
        if predecessor.number == self.number:
            raise TaskLinkError("a task cannot depend on itself")
        if predecessor.project_id != self.project_id:
            raise TaskLinkError("dependencies link tasks of the same project")
        link = [kind.value, lag_days]
        if self.predecessors.get(str(predecessor.number)) == link:
            return
        self._dependency_added(
            predecessor=predecessor.number,
            kind=kind.value,
            lag_days=lag_days,
            actor=actor.ref,
            correlation_id=correlation_id,
        )
        predecessor._successor_added(
            successor=self.number,
            kind=kind.value,
            lag_days=lag_days,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("DependencyAdded", topic="ledgerdesk:Task.DependencyAdded")
    def _dependency_added(
        self, predecessor: int, kind: str, lag_days: int, actor: str, correlation_id: str
    ) -> None:
        self.predecessors[str(predecessor)] = [kind, lag_days]

    @event("SuccessorAdded", topic="ledgerdesk:Task.SuccessorAdded")
    def _successor_added(
        self, successor: int, kind: str, lag_days: int, actor: str, correlation_id: str
    ) -> None:
        self.successors[str(successor)] = [kind, lag_days]

    def drop_dependency(self, predecessor: Task, actor: Actor, correlation_id: str) -> None:
        if str(predecessor.number) not in self.predecessors:
            return
        self._dependency_removed(
            predecessor=predecessor.number, actor=actor.ref, correlation_id=correlation_id
        )
        predecessor._successor_removed(
            successor=self.number, actor=actor.ref, correlation_id=correlation_id
        )

    @event("DependencyRemoved", topic="ledgerdesk:Task.DependencyRemoved")
    def _dependency_removed(self, predecessor: int, actor: str, correlation_id: str) -> None:
        self.predecessors.pop(str(predecessor), None)

    @event("SuccessorRemoved", topic="ledgerdesk:Task.SuccessorRemoved")
    def _successor_removed(self, successor: int, actor: str, correlation_id: str) -> None:
        self.successors.pop(str(successor), None)

    # --- subtasks ---------------------------------------------------------------

    def make_subtask_of(self, parent: Task | None, actor: Actor, correlation_id: str) -> None:
        """Put this task under `parent` (one level only), or take it out with None. The
        old and new parents record it too (the caller saves them together)."""
        if parent is not None:
            if parent.number == self.number:
                raise SubtaskLevelError("a task cannot be its own subtask")
            if parent.parent is not None:
                raise SubtaskLevelError(f"#{parent.number} is itself a subtask")
            if self.subtasks:
                raise SubtaskLevelError(f"#{self.number} has subtasks of its own")
            if parent.project_id != self.project_id:
                raise SubtaskLevelError("a subtask is in its parent's project")
        target = parent.number if parent is not None else None
        if target == self.parent:
            return
        self._parent_set(parent=target, actor=actor.ref, correlation_id=correlation_id)
        if parent is not None:
            parent._subtask_added(
                subtask=self.number, actor=actor.ref, correlation_id=correlation_id
            )

    def release_subtask(self, number: int, actor: Actor, correlation_id: str) -> None:
        if number in self.subtasks:
            self._subtask_removed(subtask=number, actor=actor.ref, correlation_id=correlation_id)

    @event("ParentSet", topic="ledgerdesk:Task.ParentSet")
    def _parent_set(self, parent: int | None, actor: str, correlation_id: str) -> None:
        self.parent = parent

    @event("SubtaskAdded", topic="ledgerdesk:Task.SubtaskAdded")
    def _subtask_added(self, subtask: int, actor: str, correlation_id: str) -> None:
        self.subtasks.append(subtask)

    @event("SubtaskRemoved", topic="ledgerdesk:Task.SubtaskRemoved")
    def _subtask_removed(self, subtask: int, actor: str, correlation_id: str) -> None:
        self.subtasks.remove(subtask)

    # --- recurrence -------------------------------------------------------------

    def set_recurrence(
        self, rule: Recurrence, effective_from: date, actor: Actor, correlation_id: str
    ) -> None:
        """Make this task the template of a series, or change its rule. Either way the rule
        applies from `effective_from` (the day it is set: occurrences are never created
        for days before it). The template is the occurrence of its own start day."""
        if self.series_number is not None:
            raise InvalidValueError(
                "recurrence", f"#{self.number} is an occurrence of #{self.series_number}"
            )
        if rule.as_dict() != self.recurrence:
            self._recurrence_set(
                rule=rule.as_dict(),
                effective_from=effective_from.isoformat(),
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("RecurrenceSet", topic="ledgerdesk:Task.RecurrenceSet")
    def _recurrence_set(
        self,
        rule: dict[str, Any],
        actor: str,
        correlation_id: str,
        effective_from: str | None = None,
    ) -> None:
        self.recurrence = rule
        self.recurrence_from = effective_from or rule["starts"]

    def stop_recurrence(self, actor: Actor, correlation_id: str) -> None:
        if self.recurrence is not None:
            self._recurrence_stopped(actor=actor.ref, correlation_id=correlation_id)

    @event("RecurrenceStopped", topic="ledgerdesk:Task.RecurrenceStopped")
    def _recurrence_stopped(self, actor: str, correlation_id: str) -> None:
        self.recurrence = None

    def first_open_day(self) -> date | None:
        """The first day an occurrence may still be created for (None: the series has
        stopped): after the template's own start and the last occurrence, and not before
        the rule took effect."""
        if self.recurrence is None or self.recurrence_from is None:
            return None
        candidates = [date.fromisoformat(self.recurrence_from)]
        for day in (self.start, self.last_occurrence):
            if day is not None:
                candidates.append(date.fromordinal(date.fromisoformat(day).toordinal() + 1))
        return max(candidates)

    def record_occurrence(
        self, occurrence_date: date, number: int, actor: Actor, correlation_id: str
    ) -> bool:
        """Record that the occurrence of `occurrence_date` exists as item `number`; False
        (and nothing recorded) if that day is no longer open (see `first_open_day`)."""
        first = self.first_open_day()
        if first is None or occurrence_date < first:
            return False
        self._occurrence_created(
            occurrence_date=occurrence_date.isoformat(),
            number=number,
            actor=actor.ref,
            correlation_id=correlation_id,
        )
        return True

    @event("OccurrenceCreated", topic="ledgerdesk:Task.OccurrenceCreated")
    def _occurrence_created(
        self, occurrence_date: str, number: int, actor: str, correlation_id: str
    ) -> None:
        self.last_occurrence = occurrence_date


def _check_amount(field: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise InvalidValueError(field, f"{field} must not be negative")
