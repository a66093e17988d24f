"""Group commit: the commands that arrive together in a process are saved in one transaction.

Every command goes through `GroupCommit.run`. The first caller to find no batch in progress
leads: it takes every command waiting (up to `MAX_BATCH`), decides them one after the other
on shared state — each sees what the ones before it in the batch decided, so sixteen new
items take sixteen consecutive numbers from one counter — and saves all their events in one
event-store transaction: one table lock, one commit, one fsync. While it saves, the next
commands queue; when it is done it hands the lead to the first of them and answers its own
caller. A command that fails to decide (a domain error, a version mismatch) is left out:
what it changed on the shared state is undone and the others go on. When the transaction
meets a concurrent write by another process, no command of the batch is lost: each is run
again on its own, deciding on fresh state and retrying as before (see `run_alone`).

What a batch read (the counter, the Inbox, the item types, a user: the aggregates every
batch asks for) is kept for the next batch, which brings it up to the stored state in one
query (`up_to_date`) instead of a read per aggregate — so each command still decides on
current state, including what other processes wrote in between. On PostgreSQL even that
query is skipped when the kept state is known current as of a log position (nothing was
written between the read and the save that left it): the batch decides on it as it is, and
its save checks under the table lock that the log's head is still there; if another writer
saved meanwhile, the save writes nothing (`LogMoved`) and the batch is decided again after
the query. Copies are made by `commands.forks.fork`, which shares only values that cannot change.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from commands.errors import ConcurrentWriteError, VersionMismatchError
from commands.event_store import LogHead, LogMoved, events_after
from commands.forks import fork
from commands.metrics import command_name, count_command
from commands.unit_of_work import UnitOfWork
from domain.errors import DomainError

if TYPE_CHECKING:
    from commands.application import LedgerDesk

Decide = Callable[[UnitOfWork], Sequence[Any]]
Outcome = tuple[list[Any], int]
MAX_ATTEMPTS = 30
# Commands saved in one transaction at most: a batch this size is a few hundred events.
MAX_BATCH = 128
# Aggregates a batch keeps for the next one (what its commands read, brought up to date by
# the next batch in one query): more than this and the next batch reads them as usual.
MAX_KEPT = 256


class _Request:
    """One command waiting for its batch."""

    __slots__ = ("alone", "decide", "done", "error", "expected_version", "hot", "lead", "outcome")

    def __init__(self, hot: UUID, decide: Decide, expected_version: int | None) -> None:
        self.hot = hot
        self.decide = decide
        self.expected_version = expected_version
        # Released once, when the command is answered or handed the lead: a bare lock is
        # the cheapest one-shot signal (an Event builds a Condition and a waiter list for
        # every command, and its `set` takes the Condition's lock to wake one waiter).
        self.done = threading.Lock()
        self.done.acquire()
        self.lead = False
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        self.alone = False  # Run again on its own after the batch met another's write.

    def answer(self) -> Outcome:
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


class GroupCommit:
    """Combines the commands of concurrent callers in this process into one write."""

    def __init__(self, app: LedgerDesk, max_batch: int = MAX_BATCH) -> None:
        self.app = app
        self.max_batch = max_batch
        self._mutex = threading.Lock()
        self._queue: deque[_Request] = deque()
        self._leading = False
        self._local = threading.local()
        # What the last batch read, as it left it (only the leader touches it): the next
        # batch reads what changed since in one query instead of reading each again.
        self._kept: dict[UUID, Any | None] = {}
        # The log's head as of which the kept aggregates are known to be current (None:
        # not known): the next batch decides on them without reading, and its save checks
        # that the head is still there (see `_Batch`).
        self._kept_head: int | None = None
        # What the batches did, for the benchmark and the tests: batches, commands, and the
        # commands run again alone after a batch met another process's write.
        self.batches = 0
        self.commands = 0
        self.fallbacks = 0
        # Batches decided again because another writer saved between the kept state and
        # the batch's save (PostgreSQL).
        self.moved = 0

    def run(self, hot: UUID, decide: Decide, expected_version: int | None = None) -> Outcome:
        try:
            outcome = self._run(hot, decide, expected_version)
        except (DomainError, VersionMismatchError):
            count_command(command_name(decide), "refused")
            raise
        except Exception:
            count_command(command_name(decide), "failed")
            raise
        count_command(command_name(decide), "saved")
        return outcome

    def _run(self, hot: UUID, decide: Decide, expected_version: int | None) -> Outcome:
        if getattr(self._local, "deciding", False):
            # A command started while deciding another could neither wait for the batch it
            # is part of nor be saved apart from it (a retried batch would repeat it).
            raise RuntimeError("a command may not run another command while it decides")
        request = _Request(hot, decide, expected_version)
        with self._mutex:
            self._queue.append(request)
            lead = not self._leading
            self._leading = True
        if not lead:
            request.done.acquire()
            if not request.lead:
                return request.answer()
        try:
            self._lead()
        finally:
            self._hand_over()
        return request.answer()

    def _lead(self) -> None:
        with self._mutex:
            count = min(len(self._queue), self.max_batch)
            batch = [self._queue.popleft() for _ in range(count)]
        kept, self._kept = self._kept, {}
        head, self._kept_head = self._kept_head, None
        self._local.deciding = True
        try:
            work = _Batch(self.app, batch, kept, head)
            try:
                work.commit()
            except LogMoved:
                # Another writer saved since the kept state was current: nothing of the
                # batch was written; decide it again, on what the log holds now.
                self.moved += 1
                for request in batch:
                    request.error = None
                work = _Batch(self.app, batch, kept, None)
                work.commit()
            self._kept = work.keep()
            self._kept_head = work.head_after if self._kept else None
        except BaseException as error:
            # The write itself failed (the database is gone, say): every command of the
            # batch that has no answer yet answers with that error.
            for request in batch:
                if request.outcome is None and request.error is None:
                    request.error = error
            if not isinstance(error, Exception):
                raise
        finally:
            self._local.deciding = False
            self.batches += 1
            self.commands += len(batch)
            self.fallbacks += sum(1 for request in batch if request.alone)
            for request in batch:
                if not request.lead:
                    request.done.release()

    def _hand_over(self) -> None:
        """Make the first waiting command the next leader, or end leading."""
        with self._mutex:
            if self._queue:
                following = self._queue[0]
                following.lead = True
                following.done.release()
            else:
                self._leading = False


class _Batch:
    """Commands decided one after the other on shared state, then saved together."""

    def __init__(
        self,
        app: LedgerDesk,
        requests: list[_Request],
        kept: dict[UUID, Any],
        head: int | None,
    ) -> None:
        self.app = app
        self.requests = requests
        # The state every command of the batch sees: each aggregate once, as the commands
        # before decided it; and the events those commands made, per aggregate.
        self.shared: dict[UUID, Any] = {}
        self.absent: set[UUID] = set()
        self.events: list[Any] = []
        self.made: dict[UUID, list[Any]] = {}
        self.decided: list[tuple[_Request, list[Any], list[Any]]] = []
        self.fell_back = False
        # Aggregates an earlier command of the batch answers with: the next command to ask
        # for one gets a copy, so that an answer never shows what came after it.
        self.answered: set[UUID] = set()
        # What the batch before read, as stored now (None: absent). When it is known to be
        # current as of a position (`head`), it is used as it is and the save checks that
        # the log's head is still there; otherwise it is brought up to date by one read,
        # which also says as of which position, and the save says whether anyone wrote
        # between that read and the save (only then is the kept state known current).
        # (A head is only ever known where the recorder reports one under its lock:
        # PostgreSQL. SQLite's recorder ignores `LogHead`, so its batches always read.)
        self.checked = head is not None
        if self.checked:
            self.current, self.head_read = kept, head
        else:
            self.current, self.head_read = up_to_date(app, kept)
        # The head after this batch's save, when what it read is known current there.
        self.head_after: int | None = None
        self.read: set[UUID] = set()

    def load(self, aggregate_id: UUID) -> Any | None:
        """The aggregate as this batch has it so far (None when it does not exist)."""
        if aggregate_id in self.shared:
            if aggregate_id in self.answered:
                self.answered.discard(aggregate_id)
                self.shared[aggregate_id] = fork(self.shared[aggregate_id])
            return self.shared[aggregate_id]
        if aggregate_id in self.absent and aggregate_id not in self.made:
            return None
        aggregate: Any = None
        if aggregate_id in self.current:
            stored = self.current[aggregate_id]
            aggregate = None if stored is None else fork(stored)
        else:
            with suppress(AggregateNotFoundError):
                aggregate = self.app.repository.get(aggregate_id)
        self.read.add(aggregate_id)
        for event in self.made.get(aggregate_id, ()):
            aggregate = event.mutate(aggregate)
        if aggregate is None:
            self.absent.add(aggregate_id)
        else:
            self.shared[aggregate_id] = aggregate
        return aggregate

    def keep(self) -> dict[UUID, Any | None]:
        """What this batch read, as its saved commands left it, for the next batch (each a
        copy of its own: a caller may still hold the one it was answered with)."""
        if self.fell_back or len(self.read) > MAX_KEPT:
            return {}
        kept: dict[UUID, Any | None] = {}
        for aggregate_id in self.read:
            aggregate = self.shared.get(aggregate_id)
            if aggregate is not None and not aggregate.pending_events:
                kept[aggregate_id] = fork(aggregate)
            elif aggregate is None and aggregate_id in self.absent:
                kept[aggregate_id] = None
        return kept

    def commit(self) -> None:
        for request in self.requests:
            uow = UnitOfWork(self.app, self)
            try:
                aggregates = list(request.decide(uow))
                if request.expected_version is not None:
                    check_version(aggregates, request.hot, request.expected_version)
            except Exception as error:  # noqa: BLE001 - this command's answer, not the batch's
                request.error = error
                self._forget(uow.touched)
                continue
            events = self._collect(aggregates)
            self._forget(uow.touched)  # Anything changed but not returned is not saved.
            self.decided.append((request, aggregates, events))
        if not self.events:
            # Nothing to save, so no save to check the head: the batch checks it itself
            # (its answers, refusals included, may have been decided on kept state that
            # another writer has changed since: then they are decided again).
            head = self.app.head() if self.decided or self.checked else 0
            if self.checked and head != self.head_read:
                raise LogMoved(f"the log moved on: at {head}, not {self.head_read}")
            for request, aggregates, _ in self.decided:
                request.outcome = (aggregates, head)
            self.head_after = self.head_read if head == self.head_read else None
            return
        log_head = LogHead(expected=self.head_read if self.checked else None)
        try:
            recordings = self.app.save_events(
                self.events,
                {a.id: a for _, saved, _ in self.decided for a in saved},
                head=log_head,
            )
        except IntegrityError:
            # Another process wrote to one of these aggregates first: each command again, on
            # its own and on fresh state (the ones refused here too: they decided on state
            # that is not saved).
            self.fell_back = True
            for request in self.requests:
                request.alone = True
                request.error = None
                try:
                    request.outcome = run_alone(
                        self.app, request.hot, request.decide, request.expected_version
                    )
                except Exception as error:  # noqa: BLE001 - its own answer
                    request.error = error
            return
        positions = {
            (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
            for r in recordings
        }
        head = max(positions.values(), default=0)
        if log_head.seen is not None and log_head.seen == self.head_read:
            self.head_after = head
        for request, aggregates, events in self.decided:
            mine = [positions[(e.originator_id, e.originator_version)] for e in events]
            request.outcome = (aggregates, max(mine) if mine else head)

    def _collect(self, aggregates: list[Any]) -> list[Any]:
        events: list[Any] = []
        for aggregate in aggregates:
            pending = aggregate.collect_events()
            if pending:
                self.made.setdefault(aggregate.id, []).extend(pending)
                events += pending
            self.shared[aggregate.id] = aggregate
            self.answered.add(aggregate.id)
            self.absent.discard(aggregate.id)
        self.events += events
        return events

    def _forget(self, touched: dict[UUID, Any]) -> None:
        """Drop the shared copy of every aggregate a command left with changes that will not
        be saved: the next command to ask for it gets it as stored, with the batch's
        decided events applied again."""
        for aggregate_id, aggregate in touched.items():
            if aggregate is not None and aggregate.pending_events:
                self.shared.pop(aggregate_id, None)


def run_alone(
    app: LedgerDesk, hot: UUID, decide: Decide, expected_version: int | None = None
) -> Outcome:
    """Decide and save one command in its own transaction; on a concurrent write, decide
    again (on fresh state, so the other writer's update is never lost), backing off."""
    with app.write_lock(hot):
        for attempt in range(MAX_ATTEMPTS):
            aggregates = list(decide(UnitOfWork(app)))
            if expected_version is not None:
                check_version(aggregates, hot, expected_version)
            try:
                return aggregates, app.save_all(aggregates)
            except IntegrityError:
                time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
    raise ConcurrentWriteError


def check_version(aggregates: list[Any], hot: UUID, expected: int) -> None:
    target = next((a for a in aggregates if a.id == hot), None)
    if target is None:
        return
    before = target.version - len(target.pending_events)
    if before != expected:
        raise VersionMismatchError(expected, before)


def up_to_date(
    app: LedgerDesk, kept: dict[UUID, Any | None]
) -> tuple[dict[UUID, Any | None], int | None]:
    """`kept` brought up to the stored state: what was written since (by this process's
    other writers, or another process) read in one query and applied to a copy; and the
    log's head as of that read (None when not known: nothing kept, or SQLite)."""
    if not kept:
        return {}, None
    versions = {i: 0 if a is None else a.version for i, a in kept.items()}
    current = dict(kept)
    found, head = events_after(app, versions)
    for aggregate_id, stored in found.items():
        aggregate = kept[aggregate_id]
        aggregate = None if aggregate is None else fork(aggregate)
        for event in map(app.mapper.to_domain_event, stored):
            aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
        current[aggregate_id] = aggregate
    return current, head
