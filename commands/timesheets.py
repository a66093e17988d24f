"""Time: timers, timesheet entries, approval, and what logged time does to its item.

Every change to an entry that changes whether (or how much, or on which day) it counts
records it on the item in the same write (`Ticket.TimeRecorded`): the first time logged on
a not-started item moves it to the first in-progress status, and a task's percent complete
and actual dates follow its timesheets until someone sets them by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from commands.application import LedgerDesk
from commands.models import Command, CommandResult, Context
from commands.projects import load_project, manages_projects, role_in
from commands.tickets import require_visible
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.access import ProjectRole
from domain.errors import NotFoundError, PermissionDeniedError
from domain.item_numbers import item_id
from domain.task import Task
from domain.ticket import Ticket
from domain.timer import Timers, timers_id
from domain.timesheet import Source, TimesheetEntry

LOGGERS = {ProjectRole.MANAGER, ProjectRole.LEAD, ProjectRole.STANDARD}
APPROVERS = {ProjectRole.MANAGER, ProjectRole.LEAD}


class EntryNotFoundError(NotFoundError):
    """Raised when no timesheet entry has the id (or the caller may not know of it)."""

    def __init__(self, entry_id: object) -> None:
        super().__init__(f"no timesheet entry {entry_id}")


class LogTime(Command):
    entry_id: UUID = Field(default_factory=uuid.uuid4)
    item: int = Field(ge=1)
    work_date: date
    minutes: int = Field(default=0, ge=0, le=24 * 60)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    billable: bool = True
    activity: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=10_000)
    draft: bool = False
    source: Source = Source.MANUAL


class EditEntry(Command):
    entry_id: UUID
    changes: dict[str, Any]


class EntryAction(Command):
    entry_id: UUID


class RejectEntry(Command):
    entry_id: UUID
    reason: str = Field(min_length=1, max_length=2_000)


class CorrectEntry(Command):
    entry_id: UUID
    correction_id: UUID = Field(default_factory=uuid.uuid4)
    minutes: int = Field(ge=-24 * 60, le=24 * 60)
    notes: str = Field(default="", max_length=10_000)


class TimerCommand(Command):
    item: int = Field(ge=1)


class StopTimer(TimerCommand):
    keep_for_review: bool = False
    billable: bool = True
    activity: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=10_000)


# --- the item side ---------------------------------------------------------------------


def item_of(uow: UnitOfWork, number: int) -> Ticket | Task:
    """The item time on `number` goes to: a converted ticket's time goes to its task."""
    item = uow.item(number)
    if isinstance(item, Ticket) and item.converted_to is not None:
        return uow.task(item.converted_to)
    return item


def count_on_item(entry: TimesheetEntry, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """Record on its item (and, for a correction, on the entry it corrects) what `entry`
    now counts, and what follows from it. Returns what changed besides `entry`."""
    original = uow.get(UUID(entry.corrects), TimesheetEntry) if entry.corrects else None
    if original is not None:
        counted = entry.minutes if entry.counts else 0
        original.check_correction(entry.id, counted)
        original.adjust(entry.id, counted, ctx.actor, ctx.correlation_id)
    return [_count_on(entry, uow, ctx), *([original] if original else [])]


def _count_on(entry: TimesheetEntry, uow: UnitOfWork, ctx: Context) -> Ticket | Task:
    item = item_of(uow, entry.item_number)
    counted = entry.counts
    day = date.fromisoformat(entry.work_date) if counted else None
    item.record_time(entry.id, day, entry.minutes if counted else 0, ctx.actor, ctx.correlation_id)
    return item


# --- permissions --------------------------------------------------------------------------


def project_role(uow: UnitOfWork, ctx: Context, project_id: str) -> ProjectRole | None:
    user = acting_user(uow, ctx)
    if manages_projects(user):
        return ProjectRole.MANAGER
    assert user is not None
    return role_in(uow, load_project(uow, UUID(project_id), ctx), user)


def _owner(entry: TimesheetEntry, ctx: Context) -> bool:
    return ctx.actor.kind == "user" and ctx.actor.ident == entry.user_id


def load_entry(uow: UnitOfWork, entry_id: UUID, ctx: Context) -> TimesheetEntry:
    """An entry the caller may know of: their own, or one of a project they manage or
    lead (404 otherwise)."""
    entry = uow.get(entry_id, TimesheetEntry)
    if entry is None:
        raise EntryNotFoundError(entry_id)
    if not _owner(entry, ctx) and project_role(uow, ctx, current_project(uow, entry)) not in (
        APPROVERS
    ):
        raise EntryNotFoundError(entry_id)
    return entry


def current_project(uow: UnitOfWork, entry: TimesheetEntry) -> str:
    """The project the entry's item is in now: its managers and leads approve it."""
    return item_of(uow, entry.item_number).project_id


def _own(entry: TimesheetEntry, uow: UnitOfWork, ctx: Context, doing: str) -> None:
    """Only the person whose time it is changes it, while they may still log time there
    (withdrawing is always theirs to do)."""
    if ctx.actor.kind == "system":
        return
    if not _owner(entry, ctx):
        raise PermissionDeniedError(f"only the person whose time it is may {doing} it")
    if doing != "withdraw":
        require_logger(item_of(uow, entry.item_number), uow, ctx)


# --- handlers -------------------------------------------------------------------------------


def require_logger(item: Ticket | Task, uow: UnitOfWork, ctx: Context) -> None:
    """The caller may see the item (404 otherwise) and log time in its project."""
    role = require_visible(item, uow, ctx)
    if role is not None and role not in LOGGERS:
        raise PermissionDeniedError("your role in this project does not allow logging time")


def log_time(cmd: LogTime, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """The caller's own time on an item they may see and work on."""
    user = acting_user(uow, ctx)
    if user is None:
        raise PermissionDeniedError("time is logged by a staff user")
    item = item_of(uow, cmd.item)
    require_logger(item, uow, ctx)
    entry = TimesheetEntry.log(
        entry_id=cmd.entry_id,
        user_id=user.id,
        item_number=item.number,
        project_id=item.project_id,
        work_date=cmd.work_date,
        minutes=cmd.minutes,
        started_at=cmd.started_at,
        finished_at=cmd.finished_at,
        billable=cmd.billable,
        activity=cmd.activity,
        notes=cmd.notes,
        source=cmd.source,
        draft=cmd.draft,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [entry, *count_on_item(entry, uow, ctx)]


def edit_entry(cmd: EditEntry, uow: UnitOfWork, ctx: Context) -> list[Any]:
    entry = load_entry(uow, cmd.entry_id, ctx)
    _own(entry, uow, ctx, "edit")
    entry.edit(cmd.changes, ctx.actor, ctx.correlation_id)
    return [entry, *count_on_item(entry, uow, ctx)]


def submit_entry(cmd: EntryAction, uow: UnitOfWork, ctx: Context) -> list[Any]:
    entry = load_entry(uow, cmd.entry_id, ctx)
    _own(entry, uow, ctx, "submit")
    entry.submit(ctx.actor, ctx.correlation_id)
    return [entry, *count_on_item(entry, uow, ctx)]


def withdraw_entry(cmd: EntryAction, uow: UnitOfWork, ctx: Context) -> list[Any]:
    entry = load_entry(uow, cmd.entry_id, ctx)
    _own(entry, uow, ctx, "withdraw")
    entry.withdraw(ctx.actor, ctx.correlation_id)
    return [entry, *count_on_item(entry, uow, ctx)]


def _approver(entry: TimesheetEntry, uow: UnitOfWork, ctx: Context) -> None:
    if project_role(uow, ctx, current_project(uow, entry)) not in APPROVERS:
        raise PermissionDeniedError("only the project's managers and leads approve time")


def approve_entry(cmd: EntryAction, uow: UnitOfWork, ctx: Context) -> list[Any]:
    entry = load_entry(uow, cmd.entry_id, ctx)
    _approver(entry, uow, ctx)
    entry.approve(ctx.actor, ctx.correlation_id)
    return [entry]


def reject_entry(cmd: RejectEntry, uow: UnitOfWork, ctx: Context) -> list[Any]:
    entry = load_entry(uow, cmd.entry_id, ctx)
    _approver(entry, uow, ctx)
    entry.reject(cmd.reason, ctx.actor, ctx.correlation_id)
    return [entry, *count_on_item(entry, uow, ctx)]


def correct_entry(cmd: CorrectEntry, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """A new entry adjusting an approved one by `minutes` (its user or an approver logs
    it; it goes to approval like any other)."""
    original = load_entry(uow, cmd.entry_id, ctx)
    if project_role(uow, ctx, current_project(uow, original)) not in APPROVERS:
        _own(original, uow, ctx, "correct")
    entry = TimesheetEntry.log(
        entry_id=cmd.correction_id,
        user_id=UUID(original.user_id),
        item_number=original.item_number,
        project_id=original.project_id,
        work_date=date.fromisoformat(original.work_date),
        minutes=cmd.minutes,
        billable=original.billable,
        activity=original.activity,
        notes=cmd.notes,
        corrects=original,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [entry, *count_on_item(entry, uow, ctx)]


# --- timers ---------------------------------------------------------------------------------


def _timers(uow: UnitOfWork, ctx: Context) -> Timers:
    user = acting_user(uow, ctx)
    if user is None:
        raise PermissionDeniedError("timers belong to staff users")
    return uow.get(timers_id(user.id), Timers) or Timers(user_id=str(user.id))


def timer_action(
    action: str, cmd: TimerCommand, uow: UnitOfWork, ctx: Context, allow_several: bool
) -> list[Any]:
    timers = _timers(uow, ctx)
    now = datetime.now(UTC)
    if action != "start" and str(cmd.item) in timers.timers:
        number = cmd.item  # A timer keeps the number it was started on (even if converted).
    else:
        number = item_of(uow, cmd.item).number
    if action in ("start", "resume"):
        require_logger(item_of(uow, number), uow, ctx)
    if action == "discard":
        timers.stop(number, now, None, ctx.actor, ctx.correlation_id)
    elif action == "start":
        timers.start(number, now, allow_several, ctx.actor, ctx.correlation_id)
    elif action == "resume":
        timers.resume(number, now, allow_several, ctx.actor, ctx.correlation_id)
    elif action == "pause":
        timers.pause(number, now, ctx.actor, ctx.correlation_id)
    else:
        return stop_timer(timers, number, now, cmd, uow, ctx)
    return [timers]


def stop_timer(
    timers: Timers,
    number: int,
    now: datetime,
    cmd: TimerCommand,
    uow: UnitOfWork,
    ctx: Context,
) -> list[Any]:
    """End the timer; its time (whole minutes, at least one) becomes a timesheet entry
    dated today, submitted or, with `keep_for_review`, a draft."""
    seconds = timers.seconds(number, now)
    minutes = max(1, round(seconds / 60))
    options = cmd if isinstance(cmd, StopTimer) else StopTimer(item=number)
    logged = log_time(
        LogTime(
            item=number,
            work_date=now.date(),
            minutes=min(minutes, 24 * 60),
            billable=options.billable,
            activity=options.activity,
            notes=options.notes,
            draft=options.keep_for_review,
            source=Source.TIMER,
        ),
        uow,
        ctx,
    )
    timers.stop(number, now, logged[0].id, ctx.actor, ctx.correlation_id)
    return [timers, *logged]


class TimesheetService:
    """Timers and timesheet entries: each command one atomic write with its item."""

    def __init__(self, app: LedgerDesk, allow_several_timers: bool = False) -> None:
        self.app = app
        self.allow_several_timers = allow_several_timers

    def _run(self, hot: UUID, decide: Callable[[UnitOfWork], list[Any]]) -> CommandResult:
        aggregates, position = run(self.app, hot, decide)
        first = aggregates[0]
        return CommandResult(id=first.id, number=None, version=first.version, position=position)

    def log(self, cmd: LogTime, ctx: Context) -> CommandResult:
        saved, position = run(self.app, item_id(cmd.item), lambda uow: log_time(cmd, uow, ctx))
        entry = saved[0]
        return CommandResult(id=entry.id, number=None, version=entry.version, position=position)

    def edit(self, cmd: EditEntry, ctx: Context) -> CommandResult:
        return self._run(cmd.entry_id, lambda uow: edit_entry(cmd, uow, ctx))

    def submit(self, cmd: EntryAction, ctx: Context) -> CommandResult:
        return self._run(cmd.entry_id, lambda uow: submit_entry(cmd, uow, ctx))

    def withdraw(self, cmd: EntryAction, ctx: Context) -> CommandResult:
        return self._run(cmd.entry_id, lambda uow: withdraw_entry(cmd, uow, ctx))

    def approve(self, cmd: EntryAction, ctx: Context) -> CommandResult:
        return self._run(cmd.entry_id, lambda uow: approve_entry(cmd, uow, ctx))

    def reject(self, cmd: RejectEntry, ctx: Context) -> CommandResult:
        return self._run(cmd.entry_id, lambda uow: reject_entry(cmd, uow, ctx))

    def correct(self, cmd: CorrectEntry, ctx: Context) -> CommandResult:
        return self._run(cmd.correction_id, lambda uow: correct_entry(cmd, uow, ctx))

    def timer(self, action: str, cmd: TimerCommand, ctx: Context) -> CommandResult:
        user_ref = UUID(ctx.actor.ident) if ctx.actor.kind == "user" else uuid.uuid4()

        def decide(uow: UnitOfWork) -> list[Any]:
            return timer_action(action, cmd, uow, ctx, self.allow_several_timers)

        aggregates, position = run(self.app, timers_id(user_ref), decide)
        # A stopped timer answers with the entry its time went to; the others with the timers.
        entry = next((a for a in aggregates if isinstance(a, TimesheetEntry)), None)
        target = entry or aggregates[0]
        return CommandResult(id=target.id, number=None, version=target.version, position=position)

    def entry(self, entry_id: UUID, ctx: Context) -> TimesheetEntry:
        """An entry the caller may know of."""
        return load_entry(UnitOfWork(self.app), entry_id, ctx)

    def entry_at(self, entry_id: UUID, version: int) -> TimesheetEntry:
        """The entry at `version`: what a write that was allowed just left (no check)."""
        found: TimesheetEntry = self.app.repository.get(entry_id, version=version)
        return found

    def timers(self, ctx: Context) -> tuple[Timers | None, datetime]:
        uow = UnitOfWork(self.app)
        user = acting_user(uow, ctx)
        if user is None:
            raise PermissionDeniedError("timers belong to staff users")
        return uow.get(timers_id(user.id), Timers), datetime.now(UTC)
