"""How a failing view is retried: back-off, the failure record, recovery."""

from __future__ import annotations

from pathlib import Path

from projections.base import TRACKING_DDL
from projections.db import SQLiteViews
from projections.failures import FAILURES_DDL, Retries, ViewFailedError, describe, failures


def views(tmp_path: Path) -> SQLiteViews:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    with db.write() as tx:
        tx.execute(TRACKING_DDL)
        tx.execute(FAILURES_DDL)
        tx.execute(
            "INSERT INTO projection_tracking (view, generation, position, is_current)"
            " VALUES ('flat', 3, 41, 1), ('flat', 2, 40, 2)"
        )
    return db


def test_retries_back_off_doubling_up_to_the_cap(tmp_path: Path) -> None:
    retries = Retries(views(tmp_path), base=1.0, cap=60.0)
    assert [retries.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert retries.delay(10_000) == 60


def test_a_failure_is_recorded_at_the_live_position_counted_and_cleared_on_recovery(
    tmp_path: Path,
) -> None:
    # Given a view at position 41 of its live generation 3
    db = views(tmp_path)
    retries = Retries(db, base=30.0, cap=60.0)
    assert retries.due("flat")

    # When it fails twice
    retries.failed("flat", KeyError("title"))
    retries.failed("flat", ValueError("bad\n  value"))

    # Then it is recorded where it is stuck, with the last error as one line, and waits
    with db.read() as tx:
        (failure,) = failures(tx)
    assert (failure.view, failure.generation, failure.position) == ("flat", 3, 41)
    assert failure.error == "ValueError: bad value"
    assert failure.attempts == 2
    assert failure.first_failed_at <= failure.last_failed_at
    assert not retries.due("flat")
    assert 0 < retries.next_wait() <= 1.0
    assert retries.due("users")

    # When it goes through again, the record is gone and it is due at once
    retries.recovered("flat")
    with db.read() as tx:
        assert failures(tx) == []
    assert retries.due("flat")
    assert retries.next_wait() == 1.0


def test_a_view_stuck_somewhere_new_is_a_new_failure(tmp_path: Path) -> None:
    db = views(tmp_path)
    retries = Retries(db, base=0.0, cap=0.0)
    retries.failed("flat", KeyError("title"))
    retries.failed("flat", KeyError("title"))
    with db.write() as tx:
        tx.execute("UPDATE projection_tracking SET position = 45 WHERE generation = 3")
    retries.failed("flat", KeyError("status"))
    with db.read() as tx:
        (failure,) = failures(tx)
    assert (failure.position, failure.attempts, failure.error) == (45, 1, "KeyError: 'status'")


def test_errors_are_described_on_one_bounded_line() -> None:
    assert describe(RuntimeError("")) == "RuntimeError: (no message)"
    assert len(describe(RuntimeError("x" * 10_000))) == 2000
    stuck = ViewFailedError("flat", 41, KeyError("title"))
    assert str(stuck) == "view 'flat' cannot apply the events after position 41: KeyError: 'title'"
    assert describe(stuck) == "KeyError: 'title'"
