"""The Task aggregate: work that needs planning.

A task has everything a ticket has (its place, people, status, conversation and
attachments, recorded with the shared events of `domain.work_item.WorkItem`) and a plan,
whose parts are in `domain.planning`: dates, a constraint and a milestone mark (`dates`),
work, points, progress and actual dates (`progress`), dependencies on other tasks
(`dependencies`), one level of subtasks (`subtasks`) and, optionally, a recurrence
(`recurring`). Each part checks its rules and says how its events apply; this class
defines the events themselves, with the topics stored history names them by.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import TaskLinkError
from domain.item_numbers import item_id
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import Constraint, ConstraintKind
from domain.planning.dates import TaskDates, check_day, iso_day, plan_dates
from domain.planning.dependencies import TaskDependencies
from domain.planning.progress import TaskProgress, check_amount
from domain.planning.recurring import RecurringTask
from domain.planning.subtasks import TaskSubtasks
from domain.project import INBOX_ID
from domain.ticket import Ticket
from domain.values import (
    Actor,
    Lifecycle,
    Priority,
    State,
    Status,
    normalise_email,
)
from domain.work_item import check_title

DEFAULT_TASK_LIFECYCLE = Lifecycle(
    (
        Status("Not started", State.NOT_STARTED),
        Status("In progress", State.IN_PROGRESS),
        Status("On hold", State.IN_PROGRESS),
        Status("Done", State.FINISHED),
    ),
    {State.NOT_STARTED: "Not started", State.IN_PROGRESS: "In progress", State.FINISHED: "Done"},
)


class Task(TaskDates, TaskProgress, TaskDependencies, TaskSubtasks, RecurringTask, Aggregate):
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

    if TYPE_CHECKING:  # Defined at runtime by the event decorators below.
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

    @classmethod
    def shared_events(cls) -> type:
        return Ticket

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
        self.status_state = state
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
        lifecycle: Lifecycle | None = None,
        calendar: WorkCalendar = STANDARD,
    ) -> Task:
        """A new task with the next item number (its status one of `lifecycle`'s: the task
        type's statuses as configured; default: the shipped ones), its dates in working days
        of `calendar` (its project's)."""
        begin, end, days = plan_dates(start, finish, duration_days, milestone, calendar)
        constraint = constraint or Constraint(ConstraintKind.AS_SOON_AS_POSSIBLE, None)
        check_day("constraint_on", constraint.on)
        lifecycle = lifecycle or cls.LIFECYCLE
        initial = lifecycle.status(status) if status else lifecycle.initial
        check_amount("work_hours", work_hours)
        check_amount("points", points)
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
            start=iso_day(begin),
            finish=iso_day(end),
            duration_days=days,
            work_hours=work_hours,
            points=points,
            milestone=milestone,
            constraint=constraint.kind.value,
            constraint_on=iso_day(constraint.on),
            series_number=series_number,
            occurrence_date=iso_day(occurrence_date),
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

    def change_status(
        self,
        status: str,
        actor: Actor,
        correlation_id: str,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        super().change_status(status, actor, correlation_id, lifecycle)
        self.follow_time(actor, correlation_id)  # Finished: the actual finish follows.

    # --- the plan's events ---------------------------------------------------
    # Each part of the plan (domain.planning) says how its events apply; the events are
    # defined here, on the aggregate, with the topics stored history names them by.

    _scheduled = event("Scheduled", topic="ledgerdesk:Task.Scheduled")(TaskDates._scheduled)
    _constraint_set = event("ConstraintSet", topic="ledgerdesk:Task.ConstraintSet")(
        TaskDates._constraint_set
    )
    _milestone_set = event("MilestoneSet", topic="ledgerdesk:Task.MilestoneSet")(
        TaskDates._milestone_set
    )
    _work_estimated = event("WorkEstimated", topic="ledgerdesk:Task.WorkEstimated")(
        TaskProgress._work_estimated
    )
    _points_estimated = event("PointsEstimated", topic="ledgerdesk:Task.PointsEstimated")(
        TaskProgress._points_estimated
    )
    _progress_set = event("ProgressSet", topic="ledgerdesk:Task.ProgressSet")(
        TaskProgress._progress_set
    )
    _actuals_recorded = event("ActualsRecorded", topic="ledgerdesk:Task.ActualsRecorded")(
        TaskProgress._actuals_recorded
    )
    _dependency_added = event("DependencyAdded", topic="ledgerdesk:Task.DependencyAdded")(
        TaskDependencies._dependency_added
    )
    _successor_added = event("SuccessorAdded", topic="ledgerdesk:Task.SuccessorAdded")(
        TaskDependencies._successor_added
    )
    _dependency_removed = event("DependencyRemoved", topic="ledgerdesk:Task.DependencyRemoved")(
        TaskDependencies._dependency_removed
    )
    _successor_removed = event("SuccessorRemoved", topic="ledgerdesk:Task.SuccessorRemoved")(
        TaskDependencies._successor_removed
    )
    _parent_set = event("ParentSet", topic="ledgerdesk:Task.ParentSet")(TaskSubtasks._parent_set)
    _subtask_added = event("SubtaskAdded", topic="ledgerdesk:Task.SubtaskAdded")(
        TaskSubtasks._subtask_added
    )
    _subtask_removed = event("SubtaskRemoved", topic="ledgerdesk:Task.SubtaskRemoved")(
        TaskSubtasks._subtask_removed
    )
    _recurrence_set = event("RecurrenceSet", topic="ledgerdesk:Task.RecurrenceSet")(
        RecurringTask._recurrence_set
    )
    _recurrence_stopped = event("RecurrenceStopped", topic="ledgerdesk:Task.RecurrenceStopped")(
        RecurringTask._recurrence_stopped
    )
    _occurrence_created = event("OccurrenceCreated", topic="ledgerdesk:Task.OccurrenceCreated")(
        RecurringTask._occurrence_created
    )
