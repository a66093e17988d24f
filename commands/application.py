"""The one eventsourcing Application every command saves through."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import Recording
from eventsourcing.utils import EnvType

from commands.event_store import LogHead
from commands.metrics import count_events
from domain.chat.chats import Chat
from domain.contact import Contact
from domain.item_numbers import ItemNumberCounter
from domain.notifications import Inbox
from domain.project import Project
from domain.task import Task
from domain.team import Team
from domain.ticket import Ticket
from domain.user import User
from domain.workflow.automations import Automations
from domain.workflow.statuses import Statuses

CommitListener = Callable[[int], None]
log = logging.getLogger("ledgerdesk.commands")
WRITE_LOCK_STRIPES = 64


class LedgerDesk(Application[UUID]):
    """The event-sourced application: one totally ordered log for every aggregate."""

    name = "ledgerdesk"
    snapshotting_intervals = {
        Ticket: 50,
        Task: 50,
        User: 50,
        ItemNumberCounter: 100,
        Team: 50,
        Project: 50,
        Contact: 50,
        Automations: 20,
        Statuses: 20,
        Inbox: 50,
        Chat: 50,
    }

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        self._listeners: list[CommitListener] = []
        self._listeners_lock = threading.Lock()
        self._write_locks = [threading.Lock() for _ in range(WRITE_LOCK_STRIPES)]
        # Every command saves through it (imported here: it runs units of work, which
        # name this class).
        from commands.group_commit import GroupCommit

        self.group_commit = GroupCommit(self)

    def write_lock(self, aggregate_id: UUID) -> threading.Lock:
        """The in-process lock for writes that change `aggregate_id` (striped by id)."""
        return self._write_locks[aggregate_id.int % WRITE_LOCK_STRIPES]

    def on_commit(self, listener: CommitListener) -> None:
        """Call `listener(position)` after every save in this process (embedded live views)."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The events are committed by now: a failed snapshot must not report the write as
        # failed (a retry would apply it twice). Loading just reads more events until the
        # next snapshot succeeds.
        try:
            self._snapshot_saved(processing_event)
        except Exception:
            log.exception("snapshot failed after a committed save; the save stands")

    def _snapshot_saved(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot each saved aggregate whose events passed a multiple of its interval.

        The aggregate saved is the state its last event left, so it is snapshotted as it
        is, at that version: the library's way reads it back from the store first (a
        snapshot and up to an interval of events, read and decoded after every commit that
        passes one). An aggregate not exactly at its last saved event is read back."""
        if self.snapshots is None:
            return
        aggregates: dict[UUID, Any] = processing_event.aggregates
        due: dict[UUID, int] = {}
        last: dict[UUID, int] = {}
        for event in processing_event.events:
            aggregate_id, version = event.originator_id, event.originator_version
            last[aggregate_id] = version
            aggregate = aggregates.get(aggregate_id)
            interval = (
                None if aggregate is None else self.snapshotting_intervals.get(type(aggregate))
            )
            if interval is not None and version % interval == 0:
                due[aggregate_id] = version
        snapshots = []
        for aggregate_id, version in due.items():
            aggregate = aggregates[aggregate_id]
            if aggregate.version == last[aggregate_id] and not aggregate.pending_events:
                snapshot_class: Any = getattr(type(aggregate), "Snapshot", self.snapshot_class)
                snapshots.append(snapshot_class.take(aggregate))
            else:
                self.take_snapshot(aggregate_id, version=version)
        if snapshots:
            self.snapshots.put(snapshots)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if not recordings:
            return
        count_events(type(r.domain_event).__qualname__ for r in recordings)
        position = max(r.notification.id for r in recordings)
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            # The events are committed: a listener's failure must not report the write as
            # failed (a retry would apply it twice). Views catch up on their next pass.
            try:
                listener(position)
            except Exception:
                log.exception("commit listener failed after a committed save; the save stands")

    def head(self) -> int:
        """The log position of the newest event (0 for an empty log)."""
        return self.recorder.max_notification_id() or 0

    def save_events(
        self, events: Sequence[Any], aggregates: dict[UUID, Any], head: LogHead | None = None
    ) -> list[Recording[UUID]]:
        """Save events already collected from `aggregates` (their state after the events)
        in one atomic write, as `save` would: record, snapshot, notify. `head` goes to the
        recorder (PostgreSQL's checks and reports the log's head; SQLite's ignores it)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        if head is not None:
            processing_event.saved_kwargs["head"] = head
        # Not `collect_events`: its runtime protocol check costs more than encoding an event.
        processing_event.events.extend(events)
        processing_event.aggregates.update(aggregates)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def save_all(self, aggregates: Sequence[Any]) -> int:
        """Save aggregates atomically; return the log position of the newest event."""
        recordings = self.save(*aggregates)
        if recordings:
            return max(r.notification.id for r in recordings)
        return self.head()


def create_tables(env: EnvType) -> None:
    """Create the event store's tables (the `migrate` step); servers never do this."""
    app = LedgerDesk(env={**env, "CREATE_TABLE": "y"})
    app.close()
