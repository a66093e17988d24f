"""Rebuilding views into new generations of tables beside the live ones and switching over,
each in one transaction (audits, which build fresh generations the same way and compare
them: `projections.audits`). A part of `ProjectionRunner` (see `projections.runner`), kept
apart by concept.

Several views are rebuilt (or verified) in one pass over the log (ADR 0014): each page is
read and decoded once and fed to every view being built, in one transaction whose writes go
out in bulk (`BulkTx`: `executemany`, `COPY` on PostgreSQL), with every view's tracking
position. A view that cannot apply a page is found by applying that page to each view on its
own; it fails alone (`ViewFailedError` at its exact position), the others go on and switch.
"""

from __future__ import annotations

import gc
import itertools
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from projections.base import Positioned, Projection, Tables
from projections.db import Params, Row, RowCaches, Tx, ViewDatabase
from projections.failures import ViewFailedError, pinpoint
from projections.log import EventLog

Progress = Callable[[int, int], None]
log = logging.getLogger("ledgerdesk.projections")
CURRENT, BUILDING, RETIRED = 1, 0, 2


class RebuildError(ViewFailedError):
    """Some views of a rebuild could not be built (each `ViewFailedError` in `failures`);
    the views in `rebuilt` were rebuilt and switched over all the same. Its view, position
    and error are the first failure's."""

    def __init__(self, rebuilt: dict[str, int], failures: dict[str, ViewFailedError]) -> None:
        first = next(iter(failures.values()))
        super().__init__(first.view, first.position, first)
        self.rebuilt = rebuilt
        self.failures = failures
        self.args = ("; ".join(str(f) for f in failures.values()),)


@dataclass
class _Target:
    """A view being built in one pass: into `generation`, up to `stop` (None: the head)."""

    projection: Projection
    generation: int
    stop: int | None
    topics: frozenset[str]
    position: int = 0

    def done(self) -> bool:
        return self.stop is not None and self.position >= self.stop

    def reads(self, p: Positioned) -> bool:
        topic = p.topic or str(getattr(type(p.event), "TOPIC", ""))
        return topic in self.topics and (self.stop is None or p.position <= self.stop)


class Processes(Protocol):
    """Builds targets in several processes (`projections.rebuild_processes`)."""

    def build(
        self, runner: Generations, targets: Sequence[_Target], progress: Progress | None
    ) -> dict[str, ViewFailedError]: ...


class Generations:
    """Rebuild and verify, over the runner's log, database and page application."""

    log: EventLog
    db: ViewDatabase
    page_size: int
    rebuild_page_size: int
    _advanced: threading.Condition
    # Set by the composition root on PostgreSQL: rebuilds share the views out between
    # processes (ADR 0014). None: every view is built in this process.
    processes: Processes | None = None

    if TYPE_CHECKING:

        def projection(self, name: str) -> Projection: ...
        def position(self, view: str) -> int: ...
        @staticmethod
        def _current(tx: Tx, view: str, lock: bool = False) -> tuple[int, int] | None: ...
        def _apply_page(
            self,
            tx: Tx,
            projection: Projection,
            generation: int,
            after: int,
            stop: int | None,
            limit: int | None = None,
        ) -> int | None: ...

    def _new_generation(self, projection: Projection, indexes: list[str] | None = None) -> int:
        """A new, empty generation of `projection`'s tables; when the view builds its
        indexes after its rows, their statements go to `indexes` (for `_switch`) instead."""
        with self.db.write() as tx:
            for row in tx.all(
                "SELECT generation FROM projection_tracking WHERE view = ? AND is_current <> 1",
                (projection.name,),
            ):  # Retired by the last switch, or left behind by an interrupted rebuild.
                self._drop(tx, projection, row["generation"])
            top = tx.one(
                "SELECT MAX(generation) AS g FROM projection_tracking WHERE view = ?",
                (projection.name,),
            )
            generation = int(top["g"] or 0) + 1 if top else 1
            if indexes is not None and projection.indexes_after_build:
                projection.create(_IndexesLater(tx, indexes), Tables(generation))
            else:
                projection.create(tx, Tables(generation))
            tx.execute(
                "INSERT INTO projection_tracking"
                " (view, generation, position, is_current, schema_version) VALUES (?, ?, 0, 0, ?)",
                (projection.name, generation, projection.schema_version),
            )
        return generation

    def _drop(self, tx: Tx, projection: Projection, generation: int) -> None:
        projection.drop(tx, Tables(generation))
        tx.execute(
            "DELETE FROM projection_tracking WHERE view = ? AND generation = ?",
            (projection.name, generation),
        )

    def _build_page(
        self, projection: Projection, generation: int, stop: int | None, limit: int | None = None
    ) -> int | None:
        with self.db.write() as tx:
            row = tx.one(
                "SELECT position FROM projection_tracking WHERE view = ? AND generation = ?",
                (projection.name, generation),
            )
            assert row is not None
            return self._apply_page(tx, projection, generation, row["position"], stop, limit)

    # --- one pass, several views --------------------------------------------------------

    def _build_many(
        self, targets: Sequence[_Target], progress: Progress | None
    ) -> dict[str, ViewFailedError]:
        """Build every target to its stop (in groups in parallel processes when `processes`
        are given and the views are in PostgreSQL); the views that could not be built
        (their generations dropped) by name."""
        active = [t for t in targets if not t.done()]
        if self.processes is not None and self.db.dialect == "postgres" and len(active) > 1:
            return self.processes.build(self, active, progress)
        return self._build_here(active, progress)

    def _build_here(
        self, targets: Sequence[_Target], progress: Progress | None
    ) -> dict[str, ViewFailedError]:
        """Build every target in one pass over the log in this process, a page at a time;
        the views that could not be built (their generations dropped) by name."""
        failed: dict[str, ViewFailedError] = {}
        active = [t for t in targets if not t.done()]
        if not active:
            return failed
        stops = [t.stop for t in active]
        stop = None if None in stops else max(s for s in stops if s is not None)
        head = stop if stop is not None else self.log.head()
        topics = frozenset().union(*(t.topics for t in active))
        after = min(t.position for t in active)
        # The rows written so far, kept from page to page instead of read back; every
        # generation being built starts empty, so a row not kept is a row not there.
        caches = RowCaches(complete=all(t.position == 0 for t in active))
        with _cycles_collected_by_page():
            return self._build_pages(active, after, stop, head, topics, caches, progress)

    def _build_pages(
        self,
        active: list[_Target],
        after: int,
        stop: int | None,
        head: int,
        topics: frozenset[str],
        caches: RowCaches,
        progress: Progress | None,
    ) -> dict[str, ViewFailedError]:
        failed: dict[str, ViewFailedError] = {}
        for page in itertools.count(1):
            if not active:
                break
            events, last = self.log.read(after, self.rebuild_page_size, stop, topics)
            if last is None:
                break
            _text_once(events)
            try:
                self._bulk_page(active, events, last, caches)
            except Exception as bulk_error:
                # Which view, and where, is found below, view by view.
                caches.reset()  # The page may have changed kept rows it did not write.
                alone_failed = False
                for target in list(active):
                    error = self._page_alone(target, last)
                    if error is not None:
                        alone_failed = True
                        failed[target.projection.name] = error
                        active.remove(target)
                        self._discard(target.projection, target.generation)
                if not alone_failed:
                    # A fault only the bulk path meets: said, since it would otherwise
                    # cost every such page twice, unseen.
                    log.warning(
                        "page after position %d failed in bulk but went through view by view",
                        after,
                        exc_info=bulk_error,
                    )
            after = last
            if progress and active:  # Of the views still being built.
                progress(last, max(head, last))
            active = [t for t in active if not t.done()]
            if page % GC_PAGES == 0:
                gc.collect()
        return failed

    def _bulk_page(
        self,
        targets: Sequence[_Target],
        events: Sequence[Positioned],
        last: int,
        caches: RowCaches | None = None,
    ) -> None:
        """One page for every target, in one transaction written out in bulk."""
        positions = {}
        with self.db.bulk() as tx:
            tx.caches = caches
            stored = all(p.topic for p in events)  # (A log that gives stored topics.)
            for target in targets:
                if stored and (target.stop is None or last <= target.stop):
                    topics = target.topics  # The whole page is the target's to read.
                    mine = [p for p in events if p.topic in topics]
                else:
                    mine = [p for p in events if target.reads(p)]
                if mine:
                    target.projection.apply(tx, Tables(target.generation), mine)
                position = last if target.stop is None else min(last, target.stop)
                positions[target.projection.name] = position
            tx.executemany(
                "UPDATE projection_tracking SET position = ? WHERE view = ? AND generation = ?",
                [(positions[t.projection.name], t.projection.name, t.generation) for t in targets],
            )
        for target in targets:
            target.position = positions[target.projection.name]

    def _page_alone(self, target: _Target, last: int) -> ViewFailedError | None:
        """Apply a page that failed in bulk to one view on its own, one statement per write;
        the failure (at the exact event) if this view cannot apply it."""
        projection, generation = target.projection, target.generation
        stop = last if target.stop is None else min(last, target.stop)
        while target.position < stop:
            try:
                reached = self._build_page(projection, generation, stop)
            except Exception as error:  # noqa: BLE001 - pinpointed and returned
                found = pinpoint(
                    lambda: self._build_page(projection, generation, stop, 1) is not None,
                    self.rebuild_page_size,
                )
                target.position = self._generation_position(projection.name, generation)
                if found is None:
                    continue  # The page went through event by event: the fault has passed.
                failure = ViewFailedError(projection.name, target.position, found)
                failure.__cause__ = error
                return failure
            if reached is None:
                break
            target.position = reached
        target.position = max(target.position, stop)
        return None

    def _generation_position(self, view: str, generation: int) -> int:
        with self.db.read() as tx:
            row = tx.one(
                "SELECT position FROM projection_tracking WHERE view = ? AND generation = ?",
                (view, generation),
            )
        return int(row["position"]) if row else 0

    def _finish(self, tx: Tx, projection: Projection, generation: int, stop: int | None) -> None:
        row = tx.one(
            "SELECT position FROM projection_tracking WHERE view = ? AND generation = ?",
            (projection.name, generation),
        )
        assert row is not None
        after: int = row["position"]
        while True:
            try:
                last = self._apply_page(tx, projection, generation, after, stop)
            except Exception as error:
                raise ViewFailedError(projection.name, after, error) from error
            if last is None:
                return
            after = last

    def _switch(self, projection: Projection, generation: int, indexes: Sequence[str] = ()) -> None:
        """Build the indexes left for after the rows (not under any lock: it takes a
        while), then finish the new generation under the live row's lock and make it the
        live one."""
        name = projection.name
        try:
            if indexes:
                with self.db.write() as tx:
                    for sql in indexes:
                        tx.execute(sql)
            with self.db.write() as tx:
                old = self._current(tx, name, lock=True)
                self._finish(tx, projection, generation, None)
                if old is not None:
                    # Retired, not dropped: a query that looked up the old generation a
                    # moment ago may still read it. The next rebuild drops it.
                    _mark(tx, name, old[0], RETIRED)
                _mark(tx, name, generation, CURRENT)
        except ViewFailedError:
            raise
        except Exception as error:  # At commit: PostgreSQL reports a page's errors late.
            position = self._generation_position(name, generation)
            raise ViewFailedError(name, position, error) from error

    def _discard(self, projection: Projection, generation: int) -> None:
        """Drop an unfinished generation (a failed rebuild's or an audit's)."""
        try:
            with self.db.write() as tx:
                self._drop(tx, projection, generation)
        except Exception:
            # Left behind, it is dropped by the view's next rebuild.
            log.exception("could not drop generation %d of %s", generation, projection.name)

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuild a view from position 0 beside the live one, then switch over.

        A view that cannot apply an event raises ViewFailedError naming it, and the live
        generation stays as it was."""
        try:
            return self.rebuild_many([name], progress)[name]
        except RebuildError as error:
            raise error.failures[name] from error.failures[name].__cause__

    def rebuild_many(
        self, names: Sequence[str], progress: Progress | None = None
    ) -> dict[str, int]:
        """Rebuild the named views in one pass over the log, each beside its live one, then
        switch each over (each in its own transaction); the new generation of each.

        A view that cannot apply an event fails alone: the others are still rebuilt and
        switched, then RebuildError names every failure (their live generations stay)."""
        projections = [self.projection(name) for name in dict.fromkeys(names)]
        pending: dict[str, int] = {}
        rebuilt: dict[str, int] = {}
        indexes: dict[str, list[str]] = {p.name: [] for p in projections}
        try:
            for projection in projections:
                pending[projection.name] = self._new_generation(
                    projection, indexes[projection.name]
                )
            targets = [self._target(p, pending[p.name], None) for p in projections]
            failed = self._build_many(targets, progress)
            for name in failed:
                del pending[name]  # Dropped already.
            for projection in projections:
                if projection.name in failed:
                    continue
                generation = pending.pop(projection.name)
                try:
                    self._switch(projection, generation, indexes[projection.name])
                except BaseException as error:
                    self._discard(projection, generation)
                    if not isinstance(error, ViewFailedError):
                        raise
                    failed[projection.name] = error
                    continue
                rebuilt[projection.name] = generation
        finally:
            for name, generation in pending.items():
                self._discard(self.projection(name), generation)
        with self._advanced:
            self._advanced.notify_all()
        if failed:
            raise RebuildError(rebuilt, failed)
        return rebuilt

    def _target(self, projection: Projection, generation: int, stop: int | None) -> _Target:
        return _Target(projection, generation, stop, frozenset(projection.topics))


class _Id(UUID):
    """An event's id that makes its text once: the views being built ask for it about
    fifteen times an event, and `UUID.__str__` formats it afresh every time."""

    __slots__ = ("_text",)
    _text: str

    def __str__(self) -> str:
        try:
            return self._text
        except AttributeError:
            text = UUID.__str__(self)
            object.__setattr__(self, "_text", text)  # (UUIDs refuse setattr.)
            return text


def _text_once(events: Sequence[Positioned]) -> None:
    """Give the page's events (decoded for this rebuild alone) ids that format once."""
    for p in events:
        ident = getattr(p.event, "originator_id", None)
        if type(ident) is UUID:
            object.__setattr__(p.event, "originator_id", _Id(int=ident.int))


# While building, Python's cycle collector runs every `GC_PAGES` pages, not whenever
# enough objects were made: a rebuild makes many and keeps many (`RowCaches`), and each
# full collection walks every kept row. Pages make next to no reference cycles.
GC_PAGES = 20


@contextmanager
def _cycles_collected_by_page() -> Iterator[None]:
    """The automatic cycle collector paused (the page loop collects, every `GC_PAGES`)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _IndexesLater(Tx):
    """A view's `create`: every statement goes through but a (non-unique) CREATE INDEX,
    which is kept in `later`, to be run once the rows are in."""

    def __init__(self, inner: Tx, later: list[str]) -> None:
        self.inner, self.later, self.dialect = inner, later, inner.dialect

    def execute(self, sql: str, params: Params = ()) -> None:
        if _INDEX.match(sql) and not params:
            self.later.append(sql)
        else:
            self.inner.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self.inner.executemany(sql, rows)

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        return self.inner.all(sql, params)

    def columns(self, table: str) -> set[str]:
        return self.inner.columns(table)


_INDEX = re.compile(r"\s*CREATE\s+INDEX\s", re.IGNORECASE)


def _mark(tx: Tx, view: str, generation: int, state: int) -> None:
    tx.execute(
        "UPDATE projection_tracking SET is_current = ? WHERE view = ? AND generation = ?",
        (state, view, generation),
    )
