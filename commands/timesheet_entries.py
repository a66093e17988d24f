"""Timesheet entries: logging, editing, approval, corrections, and what logged time does to
its item.

Every change to an entry that changes whether (or how much, or on which day) it counts
records it on the item in the same write (`Ticket.TimeRecorded`): the first time logged on
a not-started item moves it to the first in-progress status, and a task's percent complete
and actual dates follow its timesheets until someone sets them by hand.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import Field

from commands.imports.staging import is_staged
from commands.models import Command, Context
from commands.projects import load_project, manages_projects, role_in
from commands.tickets import require_visible
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from commands.workflow.statuses import lifecycle_of_item
from domain.access import ProjectRole
from domain.errors import InvalidValueError, NotFoundError, PermissionDeniedError
from domain.task import Task
from domain.ticket import Ticket
from domain.timesheet import Source, TimesheetEntry, duration

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
    hours: Decimal | None = None
    minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    billable: bool = True
    activity: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=10_000)
    draft: bool = False
    source: Source = Source.MANUAL


class EditEntry(Command):
    entry_id: UUID
    changes: dict[str, Any]  # `EDITABLE` names; a new duration goes in `hours` or `minutes`
    hours: Decimal | None = None
    minutes: int | None = None


class EntryAction(Command):
    entry_id: UUID


class RejectEntry(Command):
    entry_id: UUID
    reason: str = Field(min_length=1, max_length=2_000)


class CorrectEntry(Command):
    entry_id: UUID
    correction_id: UUID = Field(default_factory=uuid.uuid4)
    hours: Decimal | None = None
    minutes: int | None = Field(default=None, ge=-24 * 60, le=24 * 60)
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
    minutes = entry.minutes if counted else 0
    lifecycle = lifecycle_of_item(uow, item)
    item.record_time(entry.id, day, minutes, ctx.actor, ctx.correlation_id, lifecycle)
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
    lead (404 otherwise). An entry an unfinished import staged is not there yet."""
    entry = uow.get(entry_id, TimesheetEntry)
    if entry is None or is_staged(uow, entry.import_id):
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
    """The caller's own time on an item they may see and work on: `hours` or `minutes`, or
    a start and finish."""
    minutes = duration(cmd.hours, cmd.minutes) or 0
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
        minutes=minutes,
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
    minutes = duration(cmd.hours, cmd.minutes)
    changes = cmd.changes if minutes is None else {**cmd.changes, "minutes": minutes}
    entry = load_entry(uow, cmd.entry_id, ctx)
    _own(entry, uow, ctx, "edit")
    entry.edit(changes, ctx.actor, ctx.correlation_id)
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
    minutes = duration(cmd.hours, cmd.minutes)
    if not minutes:
        raise InvalidValueError("hours", "give the change in hours or minutes")
    original = load_entry(uow, cmd.entry_id, ctx)
    if project_role(uow, ctx, current_project(uow, original)) not in APPROVERS:
        _own(original, uow, ctx, "correct")
    entry = TimesheetEntry.log(
        entry_id=cmd.correction_id,
        user_id=UUID(original.user_id),
        item_number=original.item_number,
        project_id=original.project_id,
        work_date=date.fromisoformat(original.work_date),
        minutes=minutes,
        billable=original.billable,
        activity=original.activity,
        notes=cmd.notes,
        corrects=original,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [entry, *count_on_item(entry, uow, ctx)]
