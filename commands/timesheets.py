"""Time: the service every time command goes through (entries, timers, CSV imports), one
atomic write each (an import: bounded batches, then one write that shows them)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.imports.timesheets import TimesheetImport, import_timesheets
from commands.models import CommandResult, Context
from commands.timers import StopTimer, TimerCommand, timer_action
from commands.timesheet_entries import (
    CorrectEntry,
    EditEntry,
    EntryAction,
    EntryNotFoundError,
    LogTime,
    RejectEntry,
    approve_entry,
    correct_entry,
    edit_entry,
    load_entry,
    log_time,
    reject_entry,
    submit_entry,
    withdraw_entry,
)
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.errors import PermissionDeniedError
from domain.item_numbers import item_id
from domain.timer import Timers, timers_id
from domain.timesheet import TimesheetEntry

__all__ = [
    "CorrectEntry",
    "EditEntry",
    "EntryAction",
    "EntryNotFoundError",
    "LogTime",
    "RejectEntry",
    "StopTimer",
    "TimerCommand",
    "TimesheetService",
]


class TimesheetService:
    """Timers and timesheet entries: each command one atomic write with its item."""

    def __init__(
        self,
        app: LedgerDesk,
        allow_several_timers: bool = False,
        stopping: threading.Event | None = None,
    ) -> None:
        self.app = app
        self.allow_several_timers = allow_several_timers
        # Set when the process shuts down: an import stops between two batches.
        self.stopping = stopping or threading.Event()

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

    def import_csv(self, content: bytes, ctx: Context) -> TimesheetImport:
        """Import a timesheet CSV: every row checked, then staged in batches, then shown at
        once (see `commands.imports.timesheets`)."""
        return import_timesheets(self.app, content, ctx, self.stopping)

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
