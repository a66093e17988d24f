"""Rebuilding a view into a new generation of tables beside the live one and switching over
in one transaction; verifying a view by rebuilding it into fresh tables and comparing. A part
of `ProjectionRunner` (see `projections.runner`), kept apart by concept."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from projections.base import Projection, Tables
from projections.db import Tx, ViewDatabase
from projections.failures import ViewFailedError, pinpoint
from projections.log import EventLog

Progress = Callable[[int, int], None]
log = logging.getLogger("ledgerdesk.projections")
CURRENT, BUILDING, RETIRED = 1, 0, 2


class Generations:
    """Rebuild and verify, over the runner's log, database and page application."""

    log: EventLog
    db: ViewDatabase
    page_size: int
    _advanced: threading.Condition

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

    def _new_generation(self, projection: Projection) -> int:
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

    def _build(
        self, projection: Projection, generation: int, stop: int | None, progress: Progress | None
    ) -> None:
        head = stop if stop is not None else self.log.head()
        while True:
            try:
                last = self._build_page(projection, generation, stop)
            except Exception as error:
                # No retries here: stop at the exact event and say so.
                found = pinpoint(
                    lambda: self._build_page(projection, generation, stop, 1) is not None,
                    self.page_size,
                )
                if found is None:
                    continue  # The page went through event by event: the fault has passed.
                position = self._generation_position(projection.name, generation)
                raise ViewFailedError(projection.name, position, found) from error
            if last is None:
                return
            if progress:
                progress(last, max(head, last))

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

    def _switch(self, projection: Projection, generation: int) -> None:
        """Finish the new generation under the live row's lock and make it the live one."""
        name = projection.name
        try:
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
        projection = self.projection(name)
        generation = self._new_generation(projection)
        try:
            self._build(projection, generation, None, progress)
            self._switch(projection, generation)
        except BaseException:
            self._discard(projection, generation)
            raise
        with self._advanced:
            self._advanced.notify_all()
        return generation

    def verify(self, name: str, progress: Progress | None = None) -> list[str]:
        """Rebuild `name` into fresh tables and list how they differ from the live ones;
        ViewFailedError if the log cannot be replayed into it."""
        projection = self.projection(name)
        generation = self._new_generation(projection)
        try:
            self._build(projection, generation, self.position(name), progress)
            with self.db.write() as tx:
                live = self._current(tx, name, lock=True)
                assert live is not None
                self._finish(tx, projection, generation, live[1])
                return _compare(tx, projection, Tables(live[0]), Tables(generation))
        finally:
            self._discard(projection, generation)


def _mark(tx: Tx, view: str, generation: int, state: int) -> None:
    tx.execute(
        "UPDATE projection_tracking SET is_current = ? WHERE view = ? AND generation = ?",
        (state, view, generation),
    )


def _compare(tx: Tx, projection: Projection, live: Tables, fresh: Tables) -> list[str]:
    differences = []
    for base in projection.tables:
        order = projection.key_columns(base)
        live_rows = tx.all(f"SELECT * FROM {live[base]} ORDER BY {order}")
        fresh_rows = tx.all(f"SELECT * FROM {fresh[base]} ORDER BY {order}")
        if live_rows == fresh_rows:
            continue
        if len(live_rows) != len(fresh_rows):
            differences.append(
                f"{projection.name}.{base}: {len(live_rows)} live rows, {len(fresh_rows)} rebuilt"
            )
        for live_row, fresh_row in zip(live_rows, fresh_rows, strict=False):
            if live_row != fresh_row:
                differences.append(
                    f"{projection.name}.{base}: live {live_row!r} != rebuilt {fresh_row!r}"
                )
                break
    return differences
