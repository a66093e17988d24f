"""Load aggregates for one command, save them in one atomic write, retry on conflict."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands.application import LedgerDesk
from commands.errors import (
    TaskNotFoundError,
    TicketNotFoundError,
    UserNotFoundError,
)
from commands.event_store import load_many
from domain.item_numbers import COUNTER_ID, ItemNumberCounter, item_id
from domain.task import Task
from domain.ticket import Ticket
from domain.user import User

T = TypeVar("T")


class Shared(Protocol):
    """The state a batch of commands shares (see `commands.group_commit`)."""

    made: dict[UUID, list[Any]]

    def load(self, aggregate_id: UUID) -> Any | None: ...


class UnitOfWork:
    """The aggregates one command reads and changes."""

    def __init__(self, app: LedgerDesk, shared: Shared | None = None) -> None:
        self.app = app
        self.shared = shared
        # One instance per aggregate in a unit of work: loading it twice and saving both
        # copies would collide with itself. In a batch, each aggregate is the batch's one
        # instance; `touched` is what this command was given.
        self.touched: dict[UUID, Any] = {}
        # Aggregates the caller knows do not exist (`know`): not asked of the store.
        self.absent: set[UUID] = set()

    def know(self, aggregate_id: UUID, aggregate: Any | None) -> None:
        """Take `aggregate` (None: it does not exist) as what the store holds for
        `aggregate_id`, for reading: a copy the caller keeps up to date, never saved."""
        if aggregate is None:
            self.absent.add(aggregate_id)
        else:
            self.touched[aggregate_id] = aggregate

    def keep(self, aggregates: Sequence[Any]) -> None:
        """Aggregates this unit of work made or changed, found by its later reads (a batch
        of new items shares one number counter, one new Inbox)."""
        for aggregate in aggregates:
            self.touched.setdefault(aggregate.id, aggregate)

    def get(self, aggregate_id: UUID, kind: type[T]) -> T | None:
        """The aggregate with this id if it exists and is a `kind` (else None)."""
        return self._get(aggregate_id, kind)

    def _get(self, aggregate_id: UUID, kind: type[T]) -> T | None:
        if aggregate_id in self.absent:
            return None
        aggregate: Any = self.touched.get(aggregate_id)
        if aggregate is None:
            if self.shared is not None:
                aggregate = self.shared.load(aggregate_id)
                if aggregate is None:
                    return None
            else:
                try:
                    aggregate = self.app.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    return None
            self.touched[aggregate_id] = aggregate
        return aggregate if isinstance(aggregate, kind) else None

    def get_many(self, ids: Sequence[UUID], kind: type[T]) -> dict[UUID, T]:
        """The aggregates among `ids` that exist and are a `kind`, read in bulk (for many
        small aggregates, such as an import's entries)."""
        missing = [i for i in ids if i not in self.touched and i not in self.absent]
        if self.shared is not None:
            # What the batch has decided on comes from the batch; the rest from the store.
            known = [i for i in missing if i in self.shared.made]
            for i in known:
                self._get(i, object)
            missing = [i for i in missing if i not in self.shared.made]
        self.touched.update(load_many(self.app, missing))
        found = ((i, self.touched.get(i)) for i in ids)
        return {i: a for i, a in found if isinstance(a, kind)}

    def ticket(self, number: int) -> Ticket:
        ticket = self._get(item_id(number), Ticket)
        if ticket is None:
            raise TicketNotFoundError(number)
        return ticket

    def task(self, number: int) -> Task:
        task = self._get(item_id(number), Task)
        if task is None:
            raise TaskNotFoundError(number)
        return task

    def item(self, number: int) -> Ticket | Task:
        """The ticket or task with this number."""
        item: Any = self._get(item_id(number), (Ticket, Task))  # type: ignore[arg-type]
        if item is None:
            raise TicketNotFoundError(number)
        return item  # type: ignore[no-any-return]

    def first_event(self, aggregate_id: UUID) -> Any:
        """The event that created an aggregate (what its state no longer says)."""
        made = self.shared.made.get(aggregate_id) if self.shared is not None else None
        if made and made[0].originator_version == 1:
            return made[0]  # Created earlier in this batch, not stored yet.
        return next(iter(self.app.events.get(aggregate_id, lte=1)))

    def user(self, user_id: UUID) -> User:
        user = self._get(user_id, User)
        if user is None:
            raise UserNotFoundError(str(user_id))
        return user

    def find_user(self, user_id: UUID) -> User | None:
        return self._get(user_id, User)

    def counter(self) -> ItemNumberCounter:
        return self._get(COUNTER_ID, ItemNumberCounter) or ItemNumberCounter.start()


def run(
    app: LedgerDesk,
    hot: UUID,
    decide: Callable[[UnitOfWork], Sequence[Any]],
    expected_version: int | None = None,
) -> tuple[list[Any], int]:
    """Run `decide` and save what it returns; on a concurrent write, decide again.

    `decide` sees current state: the stored state, and what the commands saved with it in
    the same group commit decided before it (`commands.group_commit`). A retried command
    never loses the other writer's update: it is re-applied on top of it (or refused by a
    guard that now fails). With `expected_version` (an If-Match), the `hot` aggregate must
    have been at that version before this command.
    """
    return app.group_commit.run(hot, decide, expected_version)
