"""The write side's one entry point: every command goes through here to the event store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from commands.application import LedgerDesk
from commands.blobs import BlobStore
from commands.errors import TicketNotFoundError, VersionMismatchError
from commands.models import (
    CommandResult,
    Context,
    OpenTicket,
    TicketCommand,
)
from commands.tickets import TICKET_HANDLERS, authorize, open_ticket, require_visible
from commands.unit_of_work import UnitOfWork, run
from domain.item_numbers import COUNTER_ID, item_id
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

    def change_ticket(
        self,
        number: int,
        commands: Sequence[TicketCommand],
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Apply several ticket commands in one atomic write (e.g. a PATCH)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            ticket = uow.ticket(number)
            if expected_version is not None and ticket.version != expected_version:
                raise VersionMismatchError(expected_version, ticket.version)
            # Checked even when there is nothing to do: the answer shows the ticket.
            require_visible(ticket, uow, ctx)
            others: list[Any] = []
            for cmd in commands:
                authorize(ticket, cmd, uow, ctx)
                others += TICKET_HANDLERS[type(cmd)](ticket, cmd, uow, ctx) or []
            return [ticket, *others]

        aggregates, position = run(self.app, item_id(number), decide)
        return _result(aggregates[0], position)

    def require_permission(self, number: int, cmd: TicketCommand, ctx: Context) -> None:
        """Raise unless `ctx` may do `cmd` to ticket `number` now (e.g. before storing an
        upload's bytes, so that refused callers cannot fill the blob store)."""
        uow = UnitOfWork(self.app)
        authorize(uow.ticket(number), cmd, uow, ctx)

    def ticket_events(self, number: int, until: datetime | None = None) -> list[Any]:
        """A ticket's events in order, up to `until` (for as-of reads and audits)."""
        events: list[Any] = list(self.app.events.get(item_id(number)))
        if not events or not isinstance(events[0], Ticket.Opened):
            raise TicketNotFoundError(number)
        if until is None:
            return events
        return [e for e in events if e.timestamp <= until]


def _result(aggregate: Any, position: int) -> CommandResult:
    return CommandResult(
        id=aggregate.id,
        number=getattr(aggregate, "number", None),
        version=aggregate.version,
        position=position,
    )
