"""The write side's one entry point: every command goes through here to the event store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.blobs import BlobStore
from commands.company_settings import require_kind_on
from commands.errors import TaskNotFoundError, TicketNotFoundError, VersionMismatchError
from commands.models import (
    CommandResult,
    Context,
    OpenTask,
    OpenTicket,
    RecurrenceRule,
    TaskCommand,
    TicketCommand,
)
from commands.tasks import TASK_HANDLERS, clone_task, convert_ticket, open_task
from commands.tickets import (
    TICKET_HANDLERS,
    authorize,
    open_ticket,
    require_tasks_app,
    require_tickets_app,
    require_visible,
)
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.errors import InvalidValueError
from domain.item_numbers import COUNTER_ID, item_id
from domain.reading import mark_read
from domain.sla.item_sla import item_sla_id
from domain.task import Task
from domain.ticket import Ticket


class CommandService:
    """Turns commands into saved events and returns what the caller needs to read them."""

    def __init__(self, app: LedgerDesk, blobs: BlobStore) -> None:
        self.app = app
        self.blobs = blobs

    def open_ticket(self, cmd: OpenTicket, ctx: Context) -> CommandResult:
        # Every new item changes the one number counter: that is the hot aggregate.
        aggregates, position = run(self.app, COUNTER_ID, lambda uow: open_ticket(cmd, uow, ctx))
        return _result(aggregates[-1], position)

    def open_task(self, cmd: OpenTask, ctx: Context) -> CommandResult:
        aggregates, position = run(self.app, COUNTER_ID, lambda uow: open_task(cmd, uow, ctx))
        return _result(aggregates[-1], position)

    def change_ticket(
        self,
        number: int,
        commands: Sequence[TicketCommand],
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Apply several ticket commands in one atomic write (e.g. a PATCH)."""
        return self._change(number, Ticket, commands, ctx, expected_version)

    def change_task(
        self,
        number: int,
        commands: Sequence[TaskCommand],
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Apply several task commands in one atomic write (e.g. a PATCH); the tasks
        that follow it move with it in the same write."""
        return self._change(number, Task, commands, ctx, expected_version)

    def change_item(
        self,
        number: int,
        commands: Sequence[TicketCommand],
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Apply commands that tickets and tasks share to whichever item `number` is."""
        return self._change(number, None, commands, ctx, expected_version)

    def _change(
        self,
        number: int,
        kind: type[Ticket] | type[Task] | None,
        commands: Sequence[Any],
        ctx: Context,
        expected_version: int | None,
    ) -> CommandResult:
        def decide(uow: UnitOfWork) -> list[Any]:
            if kind is not None:  # Without the kind's app, 403 whether or not it exists.
                (require_tickets_app if kind is Ticket else require_tasks_app)(
                    acting_user(uow, ctx)
                )
            item = _load(uow, number, kind)
            # Checked even when there is nothing to do (the answer shows the item), and
            # before the version, which an outsider must not learn either.
            require_visible(item, uow, ctx)
            require_kind_on(uow, item.KIND)  # Its app switched off: not there (404).
            if expected_version is not None and item.version != expected_version:
                raise VersionMismatchError(expected_version, item.version)
            item.check_changeable()
            handlers = TASK_HANDLERS if isinstance(item, Task) else TICKET_HANDLERS
            others: list[Any] = []
            for cmd in commands:
                if type(cmd) not in handlers:
                    raise InvalidValueError("body", f"a {item.KIND} takes no {type(cmd).__name__}")
                authorize(item, cmd, uow, ctx)
                others += handlers[type(cmd)](item, cmd, uow, ctx) or []
            return [item, *others]

        aggregates, position = run(self.app, item_id(number), decide)
        return _result(aggregates[0], position)

    def convert_ticket(self, number: int, ctx: Context) -> CommandResult:
        """Ticket `number` becomes a new task (one atomic write); answers with the task."""

        def decide(uow: UnitOfWork) -> list[Any]:
            ticket = uow.ticket(number)
            require_visible(ticket, uow, ctx)
            return convert_ticket(ticket, uow, ctx)

        aggregates, position = run(self.app, COUNTER_ID, decide)
        return _result(aggregates[-1], position)

    def clone_task(self, number: int, rule: RecurrenceRule, ctx: Context) -> CommandResult:
        """A recurring copy of task `number` (a new series); answers with the copy."""

        def decide(uow: UnitOfWork) -> list[Any]:
            source = uow.task(number)
            require_visible(source, uow, ctx)
            return clone_task(source, rule, uow, ctx)

        aggregates, position = run(self.app, COUNTER_ID, decide)
        return _result(aggregates[-1], position)

    def mark_read(self, number: int, ctx: Context) -> tuple[int, int]:
        """The caller has read item `number`'s conversation (any item they may see, even a
        finished one): how many messages were new to them, and the log position (0: nothing
        to record)."""
        read: list[str] = []

        def decide(uow: UnitOfWork) -> list[Any]:
            read.clear()
            item = uow.item(number)
            require_visible(item, uow, ctx)
            read.extend(mark_read(item, ctx.actor, ctx.correlation_id))
            return [item] if read else []

        _, position = run(self.app, item_id(number), decide)
        return len(read), position

    def require_permission(self, number: int, cmd: TicketCommand, ctx: Context) -> None:
        """Raise unless `ctx` may do `cmd` to item `number` now (e.g. before storing an
        upload's bytes, so that refused callers cannot fill the blob store)."""
        uow = UnitOfWork(self.app)
        item = uow.item(number)
        authorize(item, cmd, uow, ctx)
        item.check_changeable()

    def ticket_events(self, number: int, until: datetime | None = None) -> list[Any]:
        """A ticket's events in order, up to `until` (for as-of reads and audits)."""
        events: list[Any] = list(self.app.events.get(item_id(number)))
        if not events or not isinstance(events[0], Ticket.Opened):
            raise TicketNotFoundError(number)
        return _until(events, until)

    def item_events(self, number: int, until: datetime | None = None) -> list[Any]:
        """A ticket's or a task's events (see `ticket_events` and `task_events`)."""
        first = list(self.app.events.get(item_id(number), lte=1))
        if first and topic_of(first[0]) == "ledgerdesk:Task.Planned":
            return self.task_events(number, until)
        return self.ticket_events(number, until)

    def item_events_at(self, number: int, version: int) -> list[Any]:
        """A ticket's or task's events as of its `version` (what a write's answer shows, even
        if another write followed). A converted task's events begin with its ticket's: only
        its own are cut at `version`."""
        own = item_id(number)
        return [
            e
            for e in self.item_events(number)
            if e.originator_id != own or e.originator_version <= version
        ]

    def customer_ticket_events_after(self, number: int, item: UUID, version: int) -> list[Any]:
        """The events of ticket `number` as a write at `version` of `item` left them; a
        ticket converted into a task goes on as that task (which `item` then is)."""
        events = self.ticket_events(number)
        if item == item_id(number):
            return [e for e in events if e.originator_version <= version]
        return [
            e
            for e in self.task_events(events[-1].task_number)
            if e.originator_id != item or e.originator_version <= version
        ]

    def task_events(self, number: int, until: datetime | None = None) -> list[Any]:
        """A task's events in order, up to `until`; a task converted from a ticket begins
        with the ticket's events (its history starts with the ticket's)."""
        events: list[Any] = list(self.app.events.get(item_id(number)))
        if not events or topic_of(events[0]) != "ledgerdesk:Task.Planned":
            raise TaskNotFoundError(number)
        source = events[0].converted_from
        if source is not None:
            events = list(self.app.events.get(item_id(source))) + events
        return _until(events, until)

    def events_to_fold(
        self, number: int, kind: str, converted_from: int | None, until: datetime
    ) -> list[Any]:
        """An item's events up to `until` (a task's with the ticket it came from), then its
        SLA's (and that ticket's), for folding a view of it as of that moment."""
        if kind == "task":
            own = self.task_events(number, until)
        else:
            own = self.stream(item_id(number), until=until)
        items = [item_id(number)] + ([item_id(converted_from)] if converted_from else [])
        slas = [self.stream(item_sla_id(i), until=until) for i in items]
        return own + [event for sla in slas for event in sla]

    def stream(
        self,
        aggregate_id: UUID,
        *,
        until: datetime | None = None,
        version: int | None = None,
        after: int | None = None,
    ) -> list[Any]:
        """An aggregate's own events in order, after version `after`, up to the moment
        `until` and to `version` (a Gantt baseline folds each task's stream as of a moment;
        a write's answer folds on from what it last folded, up to the version its write
        left, even if another write followed)."""
        events = self.app.events.get(aggregate_id, gt=after, lte=version)
        return _until(list(events), until)


def _load(uow: UnitOfWork, number: int, kind: type[Ticket] | type[Task] | None) -> Any:
    if kind is Ticket:
        return uow.ticket(number)
    if kind is Task:
        return uow.task(number)
    return uow.item(number)


def _until(events: list[Any], until: datetime | None) -> list[Any]:
    return events if until is None else [e for e in events if e.timestamp <= until]


def topic_of(event: Any) -> str:
    return str(getattr(type(event), "TOPIC", ""))


def _result(aggregate: Any, position: int) -> CommandResult:
    return CommandResult(
        id=aggregate.id,
        number=getattr(aggregate, "number", None),
        version=aggregate.version,
        position=position,
    )
