"""Audits (`replay --verify`): views rebuilt into fresh tables, in one pass over the log
(in parallel processes on PostgreSQL), each up to its live position, and compared with the
live tables row by row, both streamed side by side in key order so that memory is bounded
by a batch of rows, not by the view (ADR 0014). A part of `ProjectionRunner`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from projections.base import Projection, Tables
from projections.db import Tx
from projections.failures import ViewFailedError
from projections.generations import Generations, Progress


class Audits(Generations):
    """Verify views against a replay of the log."""

    def verify(self, name: str, progress: Progress | None = None) -> list[str]:
        """Rebuild `name` into fresh tables and list how they differ from the live ones;
        ViewFailedError if the log cannot be replayed into it."""
        found = self.verify_many([name], progress)[name]
        if isinstance(found, ViewFailedError):
            raise found
        return found

    def verify_many(
        self, names: Sequence[str], progress: Progress | None = None
    ) -> dict[str, list[str] | ViewFailedError]:
        """Rebuild the named views into fresh tables in one pass over the log, each up to
        its live position, and list how each differs from its live tables (or the
        ViewFailedError of one the log cannot be replayed into)."""
        projections = [self.projection(name) for name in dict.fromkeys(names)]
        pending: dict[str, int] = {}
        results: dict[str, list[str] | ViewFailedError] = {}
        try:
            for projection in projections:
                # Compared by key, then dropped: its later indexes are never built.
                pending[projection.name] = self._new_generation(projection, [])
            targets = [self._target(p, pending[p.name], self.position(p.name)) for p in projections]
            failed = self._build_many(targets, progress)
            for name, error in failed.items():
                del pending[name]  # Dropped already.
                results[name] = error
            for projection in projections:
                if projection.name not in failed:
                    results[projection.name] = self._compare_live(
                        projection, pending[projection.name]
                    )
        finally:
            for name, generation in pending.items():
                self._discard(self.projection(name), generation)
        return {p.name: results[p.name] for p in projections}

    def _compare_live(self, projection: Projection, generation: int) -> list[str] | ViewFailedError:
        """Finish a fresh generation to exactly the live position (under the live row's
        lock) and compare it with the live tables."""
        try:
            # In bulk: the comparison streams rows, which PostgreSQL's pipeline cannot.
            with self.db.bulk() as tx:
                live = self._current(tx, projection.name, lock=True)
                assert live is not None
                self._finish(tx, projection, generation, live[1])
                return _compare(tx, projection, Tables(live[0]), Tables(generation))
        except ViewFailedError as error:
            return error


def _compare(tx: Tx, projection: Projection, live: Tables, fresh: Tables) -> list[str]:
    """How each table of two generations differs: the row counts when they differ, and
    the first pair of rows (in key order) that differs. Both tables are streamed side by
    side in key order, so memory is bounded by a batch of rows, not by the view."""
    differences = []
    for base in projection.tables:
        order = projection.key_columns(base)
        live_rows = tx.stream(f"SELECT * FROM {live[base]} ORDER BY {order}")
        fresh_rows = tx.stream(f"SELECT * FROM {fresh[base]} ORDER BY {order}")
        counts, first = [0, 0], ""
        for live_row, fresh_row in itertools.zip_longest(live_rows, fresh_rows):
            counts[0] += live_row is not None
            counts[1] += fresh_row is not None
            if not first and live_row and fresh_row and live_row != fresh_row:
                first = f"{projection.name}.{base}: live {live_row!r} != rebuilt {fresh_row!r}"
        if counts[0] != counts[1]:
            differences.append(
                f"{projection.name}.{base}: {counts[0]} live rows, {counts[1]} rebuilt"
            )
        if first:
            differences.append(first)
    return differences
