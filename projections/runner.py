"""Follows the log into the views: each page of view changes commits with its position.

A view that cannot apply its next page is recorded as failed and retried on its own,
backing off, while the others go on (see `projections.failures`). Rebuilds go into a new
generation of tables beside the live one and switch over in one transaction; `verify`
rebuilds into fresh tables and compares.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from projections.audits import Audits
from projections.base import TRACKING_DDL, Projection, Tables
from projections.db import AdvisoryClaims, Tx, ViewDatabase, listen
from projections.failures import (
    FAILURES_DDL,
    Retries,
    ViewFailure,
    clear_failure,
    failures,
    pinpoint,
)
from projections.generations import Progress
from projections.log import EventLog

log = logging.getLogger("ledgerdesk.projections")
REBUILD_PAGE_SIZE = 5000


@dataclass(frozen=True)
class ViewStatus:
    view: str
    generation: int
    position: int
    head: int
    failure: ViewFailure | None = None

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class ProjectionRunner(Audits):
    """Keeps every registered view up to date with the log."""

    def __init__(
        self,
        log: EventLog,
        db: ViewDatabase,
        projections: Sequence[Projection],
        page_size: int = 1000,
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
        rebuild_page_size: int | None = None,
    ) -> None:
        self.log = log
        self.db = db
        self.projections = {p.name: p for p in projections}
        self.page_size = page_size
        # Rebuilds and audits read bigger pages (each page is one transaction for all the
        # views being built, its rows held in memory until then): fewer reads per view.
        self.rebuild_page_size = rebuild_page_size or max(page_size, REBUILD_PAGE_SIZE)
        # A failing view waits retry_base seconds, doubling up to retry_cap, between tries.
        self.retries = Retries(db, retry_base, retry_cap)
        self.wake = threading.Event()
        # How long the runner sleeps when no commit wakes it (a poll, in case a wake is lost).
        self.idle_seconds = 1.0
        self._advanced = threading.Condition()
        self._topics = {p.name: frozenset(p.topics) for p in projections}

    # --- set-up and status --------------------------------------------------

    def migrate(self, progress: Callable[[str], Progress | None] | None = None) -> list[str]:
        """Create the tracking table and the first generation of every view; rebuild (beside
        the live tables, then switch) each view whose schema version changed. Returns the
        names of the views rebuilt."""
        stale = []
        with self.db.write() as tx:
            tx.execute(TRACKING_DDL)
            tx.execute(FAILURES_DDL)
            if "schema_version" not in tx.columns("projection_tracking"):
                tx.execute(
                    "ALTER TABLE projection_tracking"
                    " ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 1"
                )
            for projection in self.projections.values():
                row = tx.one(
                    "SELECT schema_version FROM projection_tracking"
                    " WHERE view = ? AND is_current = 1",
                    (projection.name,),
                )
                if row is None:
                    projection.create(tx, Tables(1))
                    tx.execute(
                        "INSERT INTO projection_tracking"
                        " (view, generation, position, is_current, schema_version)"
                        " VALUES (?, 1, 0, 1, ?)",
                        (projection.name, projection.schema_version),
                    )
                elif row["schema_version"] != projection.schema_version:
                    stale.append(projection.name)
        if stale:
            # One pass over the log for all of them (a view that fails does so alone).
            self.rebuild_many(stale, progress(", ".join(stale)) if progress else None)
        return stale

    def projection(self, name: str) -> Projection:
        try:
            return self.projections[name]
        except KeyError:
            known = ", ".join(self.projections)
            raise KeyError(f"no view {name!r}; known: {known}") from None

    def status(self) -> list[ViewStatus]:
        head = self.log.head()
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT view, generation, position FROM projection_tracking"
                " WHERE is_current = 1 ORDER BY view"
            )
            failed = {f.view: f for f in failures(tx)}
        return [
            ViewStatus(r["view"], r["generation"], r["position"], head, failed.get(r["view"]))
            for r in rows
        ]

    def failures(self) -> list[ViewFailure]:
        """The views that cannot follow the log now (recorded by whichever runner follows
        them)."""
        with self.db.read() as tx:
            return failures(tx)

    def position(self, view: str) -> int:
        with self.db.read() as tx:
            row = self._current(tx, view)
        return row[1] if row else 0

    @staticmethod
    def _current(tx: Tx, view: str, lock: bool = False) -> tuple[int, int] | None:
        row = tx.one(
            "SELECT generation, position FROM projection_tracking"
            " WHERE view = ? AND is_current = 1" + (tx.for_update if lock else ""),
            (view,),
        )
        return (row["generation"], row["position"]) if row else None

    # --- following the log --------------------------------------------------

    def _apply_page(
        self,
        tx: Tx,
        projection: Projection,
        generation: int,
        after: int,
        stop: int | None,
        limit: int | None = None,
    ) -> int | None:
        events, last = self.log.read(
            after, limit or self.page_size, stop, self._topics[projection.name]
        )
        if last is None:
            return None
        if events:
            projection.apply(tx, Tables(generation), events)
        tx.execute(
            "UPDATE projection_tracking SET position = ? WHERE view = ? AND generation = ?",
            (last, projection.name, generation),
        )
        return last

    def step(self, projection: Projection, limit: int | None = None) -> bool:
        """Apply one page (of `limit` notifications, default `page_size`) to the live view;
        False when it is caught up."""
        if self.position(projection.name) >= self.log.head():
            return False
        with self.db.write() as tx:
            current = self._current(tx, projection.name, lock=True)
            if current is None:
                return False
            last = self._apply_page(tx, projection, current[0], current[1], None, limit)
            if last is not None:
                # Advancing ends a failure, whichever runner recorded it.
                clear_failure(tx, projection.name)
        if last is not None:
            with self._advanced:
                self._advanced.notify_all()
        return last is not None

    def catch_up(self, names: Sequence[str] | None = None) -> None:
        """Bring the named views (default: all) up to the head of the log; raise on the
        first failure."""
        for name in names or list(self.projections):
            projection = self.projection(name)
            while self.step(projection):
                pass

    def follow(self, names: Sequence[str]) -> bool:
        """Bring each named view up to the head: the healthy ones together, one read of
        each page for all of them (`_follow_together`); a failing one, or all of them when
        that pass fails, each on its own, where one that fails is recorded and left alone
        until its retry is due. False if a view failed this time."""
        due = [n for n in names if self.retries.due(n)]
        healthy = [n for n in due if not self.retries.failing(n)]
        together = len(healthy) > 1 and self._follow_together(healthy)
        failed = False
        for name in due:
            if not (together and name in healthy):
                failed |= not self._follow(self.projection(name))
        return not failed

    def _follow_together(self, names: Sequence[str]) -> bool:
        """Bring the views up to the head, each page read and decoded once and applied to
        every view behind it, all in one transaction with their positions (so each view
        still applies each event exactly once). False if a page failed: nothing of it was
        written, and the views go on each on their own, which finds the one at fault."""
        try:
            while self._pass(names):
                pass
        except Exception:
            # Each view on its own meets it again, and the one at fault is recorded.
            log.debug("following %s together failed; each on its own", names, exc_info=True)
            return False
        return True

    def _pass(self, names: Sequence[str]) -> bool:
        """Apply the next page after the views' lowest position to each view behind its
        end; False when they are all at the head."""
        head = self.log.head()
        marks = ", ".join("?" for _ in names)
        with self.db.write() as tx:
            rows = tx.all(
                "SELECT view, generation, position FROM projection_tracking"
                f" WHERE is_current = 1 AND view IN ({marks})" + tx.for_update,
                tuple(names),
            )
            behind = [r for r in rows if r["position"] < head]
            if not behind:
                return False
            topics = frozenset().union(*(self._topics[r["view"]] for r in behind))
            start = min(r["position"] for r in behind)
            # The page bounds the work of one transaction across all the views (a reader
            # waiting for an early event waits for its page): a share of `page_size` each.
            limit = max(self.page_size // len(behind), min(self.page_size, 50))
            events, last = self.log.read(start, limit, None, topics)
            if last is None:
                return False
            advanced = []
            for row in behind:
                view, position = row["view"], row["position"]
                if position >= last:
                    continue
                wanted = self._topics[view]
                page = [e for e in events if e.position > position and e.topic in wanted]
                if page:
                    self.projections[view].apply(tx, Tables(row["generation"]), page)
                advanced.append((last, view, row["generation"]))
            tx.executemany(
                "UPDATE projection_tracking SET position = ? WHERE view = ? AND generation = ?",
                advanced,
            )
            # Advancing ends a failure, whichever runner recorded it.
            done = [view for _, view, _ in advanced]
            tx.execute(
                f"DELETE FROM projection_failures WHERE view IN ({', '.join('?' for _ in done)})",
                tuple(done),
            )
        with self._advanced:
            self._advanced.notify_all()
        return True

    def _follow(self, projection: Projection) -> bool:
        try:
            while self.step(projection):
                pass
            self.retries.recovered(projection.name)
            return True
        except Exception:  # noqa: BLE001 - met again below, and recorded unless it has passed
            # One event at a time up to the one that fails: the view shows everything before
            # it, and the failure names the exact position. A passing fault just goes away.
            error = pinpoint(lambda: self.step(projection, 1), self.page_size)
            if error is None:
                return True
            self.retries.failed(projection.name, error)
            return False

    def run(self, stop: threading.Event, names: Sequence[str] | None = None) -> None:
        """Follow the log until `stop` is set; woken by commits (or every `idle_seconds`)."""
        claimed = AdvisoryClaims(self.db, "projection")
        trouble = 0
        try:
            while not stop.is_set():
                self.wake.clear()
                try:
                    mine = [n for n in names or list(self.projections) if claimed.claim(n)]
                except Exception:
                    # No database to claim views on: back off and try again, so that a
                    # passing outage never ends live views.
                    trouble += 1
                    log.exception("projection runner cannot claim views (attempt %d)", trouble)
                    claimed.reset()
                    stop.wait(self.retries.delay(trouble))
                    continue
                trouble = 0
                if not self.follow(mine):
                    claimed.check()  # A lost connection also loses the locks it held.
                self.wake.wait(self.retries.next_wait(self.idle_seconds))
        finally:
            claimed.release()

    def listen(self, channel: str, stop: threading.Event) -> None:
        """Wake the runner on PostgreSQL NOTIFY from the event store's inserts."""
        listen(self.db, channel, stop, self.wake)

    def wait_for(
        self, position: int, views: Sequence[str], timeout: float, *, until_failed: bool = False
    ) -> bool:
        """Wait until every named view has reached `position`; False on timeout, and with
        `until_failed` at once when one of them has failed (a reader should not wait for a
        view that is retried with backoff)."""
        deadline = time.monotonic() + timeout
        poll = 0.01
        while True:
            reached, failed = self._progress(views)
            if reached >= position:
                return True
            remaining = deadline - time.monotonic()
            if (failed and until_failed) or remaining <= 0:
                return False
            self.wake.set()
            with self._advanced:
                # Woken at once by a runner in this process; otherwise poll, less and less.
                self._advanced.wait(min(remaining, poll))
            poll = min(poll * 2, 0.2)

    def _progress(self, views: Sequence[str]) -> tuple[int, bool]:
        """The lowest position of `views` and whether any has failed: one statement."""
        marks = ", ".join("?" for _ in views)
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT t.position, f.view AS failed FROM projection_tracking t"
                " LEFT JOIN projection_failures f"
                " ON f.view = t.view AND f.generation = t.generation"
                f" WHERE t.is_current = 1 AND t.view IN ({marks})",
                tuple(views),
            )
        if len(rows) < len(set(views)):
            return 0, False
        return min(r["position"] for r in rows), any(r["failed"] for r in rows)
