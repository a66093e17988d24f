"""Load aggregates for one command, save them in one atomic write, retry on conflict."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from commands.application import LedgerDesk
from commands.errors import (
    ConcurrentWriteError,
    TaskNotFoundError,
    TicketNotFoundError,
    UserNotFoundError,
    VersionMismatchError,
)
from commands.event_store import load_many
from domain.item_numbers import COUNTER_ID, ItemNumberCounter, item_id
from domain.task import Task
from domain.ticket import Ticket
from domain.user import User

T = TypeVar("T")
MAX_ATTEMPTS = 30


class UnitOfWork:
    """The aggregates one command reads and changes."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app
        # One instance per aggregate in a unit of work: loading it twice and saving both
        # copies would collide with itself.
        self._loaded: dict[UUID, Any] = {}

    def get(self, aggregate_id: UUID, kind: type[T]) -> T | None:
        """The aggregate with this id if it exists and is a `kind` (else None)."""
        return self._get(aggregate_id, kind)

    def _get(self, aggregate_id: UUID, kind: type[T]) -> T | None:
        aggregate: Any = self._loaded.get(aggregate_id)
        if aggregate is None:
            try:
                aggregate = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
            self._loaded[aggregate_id] = aggregate
        return aggregate if isinstance(aggregate, kind) else None

    def get_many(self, ids: Sequence[UUID], kind: type[T]) -> dict[UUID, T]:
        """The aggregates among `ids` that exist and are a `kind`, read in bulk (for many
        small aggregates, such as an import's entries)."""
        missing = [i for i in ids if i not in self._loaded]
        self._loaded.update(load_many(self.app, missing))
        found = ((i, self._loaded.get(i)) for i in ids)
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

    `decide` loads fresh state each attempt, so a retried command never loses
    the other writer's update: it is re-applied on top of it (or refused by a
    guard that now fails). Writers in this process that would change the same
    `hot` aggregate take turns instead of colliding; only writers in other
    processes can conflict, and they back off exponentially. With `expected_version`
    (an If-Match), the hot aggregate must have been at that version before this command.
    """
    with app.write_lock(hot):
        for attempt in range(MAX_ATTEMPTS):
            aggregates = list(decide(UnitOfWork(app)))
            if expected_version is not None:
                _check_version(aggregates, hot, expected_version)
            try:
                return aggregates, app.save_all(aggregates)
            except IntegrityError:
                time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
    raise ConcurrentWriteError


def _check_version(aggregates: list[Any], hot: UUID, expected: int) -> None:
    target = next((a for a in aggregates if a.id == hot), None)
    if target is None:
        return
    before = target.version - len(target.pending_events)
    if before != expected:
        raise VersionMismatchError(expected, before)
