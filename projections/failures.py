"""Views that cannot follow the log: what failed, where, since when, and when to try again.

The runner records a view that cannot apply its next page in `projection_failures` (one
row per view, in the view database) and retries it alone, backing off, while every other
view goes on. The row goes when the view advances again. Status, health and the audit
read it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from projections.base import iso
from projections.db import Tx, ViewDatabase

FAILURES_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_failures ("
    " view TEXT PRIMARY KEY,"
    " generation INTEGER NOT NULL,"
    " position BIGINT NOT NULL,"
    " error TEXT NOT NULL,"
    " first_failed_at TEXT NOT NULL,"
    " last_failed_at TEXT NOT NULL,"
    " attempts INTEGER NOT NULL)"
)
ERROR_TEXT_LIMIT = 2000
log = logging.getLogger("ledgerdesk.projections")


@dataclass(frozen=True)
class ViewFailure:
    """A view stuck at `position` (everything up to it is applied; the next page fails)."""

    view: str
    generation: int
    position: int
    error: str
    first_failed_at: str
    last_failed_at: str
    attempts: int


class ViewFailedError(Exception):
    """Raised when a view cannot apply the events after `position` (a rebuild or an audit
    that meets an event the view cannot apply, or a fault on the way)."""

    def __init__(self, view: str, position: int, error: BaseException | str) -> None:
        self.view = view
        self.position = position
        self.error = error if isinstance(error, str) else describe(error)
        super().__init__(
            f"view {view!r} cannot apply the events after position {position}: {self.error}"
        )

    def __reduce__(self) -> tuple[type[ViewFailedError], tuple[str, int, str]]:
        # A rebuild process hands its failures back pickled (ADR 0014).
        return (ViewFailedError, (self.view, self.position, self.error))


def describe(error: BaseException) -> str:
    """An error as one line an operator can act on (bounded: it is stored and shown)."""
    if isinstance(error, ViewFailedError):
        return error.error
    text = " ".join(str(error).split()) or "(no message)"
    return f"{type(error).__name__}: {text}"[:ERROR_TEXT_LIMIT]


def record_failure(tx: Tx, view: str, error: BaseException) -> None:
    """Record (or count again) the failure of `view` at its current position."""
    now = iso(datetime.now(UTC))
    tx.execute(
        "INSERT INTO projection_failures"
        " (view, generation, position, error, first_failed_at, last_failed_at, attempts)"
        " SELECT view, generation, position, ?, ?, ?, 1 FROM projection_tracking"
        " WHERE view = ? AND is_current = 1"
        " ON CONFLICT (view) DO UPDATE SET generation = excluded.generation,"
        " position = excluded.position, error = excluded.error,"
        " last_failed_at = excluded.last_failed_at,"
        # Stuck somewhere new (it advanced, then failed again): a new failure.
        " first_failed_at = CASE WHEN projection_failures.position = excluded.position"
        " THEN projection_failures.first_failed_at ELSE excluded.first_failed_at END,"
        " attempts = CASE WHEN projection_failures.position = excluded.position"
        " THEN projection_failures.attempts + 1 ELSE 1 END",
        (describe(error), now, now, view),
    )


def clear_failure(tx: Tx, view: str) -> None:
    tx.execute("DELETE FROM projection_failures WHERE view = ?", (view,))


def failures(tx: Tx) -> list[ViewFailure]:
    """Every view that is failing now, by name."""
    rows = tx.all(
        "SELECT view, generation, position, error, first_failed_at, last_failed_at, attempts"
        " FROM projection_failures ORDER BY view"
    )
    return [ViewFailure(**row) for row in rows]


def pinpoint(advance: Callable[[], bool], limit: int) -> Exception | None:
    """Advance one event at a time (at most `limit`) until one fails: its error, or None
    when they all went through (the fault has passed)."""
    for _ in range(limit):
        try:
            if not advance():
                return None
        except Exception as error:  # noqa: BLE001 - the caller records it
            return error
    return None


@dataclass(frozen=True)
class _Retry:
    attempts: int
    due: float  # time.monotonic()


class Retries:
    """The failing views of one runner: failures in a row and when each may try again
    (after `base` seconds, doubling, at most `cap`); each failure is recorded for status and
    health, and the record cleared once the view recovers."""

    def __init__(self, db: ViewDatabase, base: float, cap: float) -> None:
        self.db = db
        self.base = base
        self.cap = cap
        self._retries: dict[str, _Retry] = {}

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failure in a row."""
        return min(self.cap, self.base * 2.0 ** min(max(attempts - 1, 0), 32))

    def due(self, view: str) -> bool:
        """Whether `view` may be followed now (it is not failing, or its retry is due)."""
        retry = self._retries.get(view)
        return retry is None or time.monotonic() >= retry.due

    def failing(self, view: str) -> bool:
        """Whether `view` failed and has not gone through since."""
        return view in self._retries

    def failed(self, view: str, error: BaseException) -> None:
        retry = self._retries.get(view)
        attempts = retry.attempts + 1 if retry else 1
        delay = self.delay(attempts)
        self._retries[view] = _Retry(attempts, time.monotonic() + delay)
        if attempts == 1:
            log.error("view %s cannot follow the log; retrying", view, exc_info=error)
        else:
            log.warning(
                "view %s still failing (attempt %d, next in %.0f s): %s",
                *(view, attempts, delay, describe(error)),
            )
        try:
            with self.db.write() as tx:
                record_failure(tx, view, error)
        except Exception:
            # The database itself may be what failed: the retries go on from memory.
            log.exception("could not record the failure of view %s", view)

    def recovered(self, view: str) -> None:
        """`view` went through: forget its failure (here and in the table)."""
        if view not in self._retries:
            return
        with self.db.write() as tx:
            clear_failure(tx, view)
        del self._retries[view]
        log.warning("view %s follows the log again", view)

    def next_wait(self, idle: float = 1.0) -> float:
        """How long the runner may sleep when nothing wakes it: `idle`, or until a retry."""
        if not self._retries:
            return idle
        due = min(r.due for r in self._retries.values()) - time.monotonic()
        return min(idle, max(due, 0.0))
