"""Timesheet entries and timers: their states and rules, without storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from commands.imports.timesheets import parse_hours
from domain.errors import InvalidValueError
from domain.timer import Timers, TimerStateError
from domain.timesheet import EntryLockedError, EntryStateError, TimesheetEntry
from domain.values import Actor

ME = Actor.system("tests")
DAY = date(2026, 12, 1)


def entry(**fields: object) -> TimesheetEntry:
    values: dict[str, object] = {"minutes": 60, **fields}
    return TimesheetEntry.log(  # type: ignore[arg-type]
        entry_id=uuid4(),
        user_id=uuid4(),
        item_number=1,
        project_id="p",
        work_date=DAY,
        actor=ME,
        correlation_id="c",
        **values,
    )


def test_a_start_and_finish_give_the_minutes_and_must_agree() -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    spanned = entry(minutes=0, started_at=start, finished_at=start + timedelta(minutes=95))
    assert spanned.minutes == 95
    with pytest.raises(InvalidValueError):
        entry(minutes=30, started_at=start, finished_at=start + timedelta(minutes=95))
    with pytest.raises(InvalidValueError):
        entry(minutes=0)
    with pytest.raises(InvalidValueError):
        entry(minutes=25 * 60)
    # A new duration replaces the span.
    spanned.edit({"minutes": 30}, ME, "c")
    assert (spanned.minutes, spanned.started_at) == (30, None)


def test_an_entry_is_edited_until_approved_then_only_corrected() -> None:
    e = entry()
    e.edit({"notes": "setup", "billable": False}, ME, "c")
    e.reject("wrong day", ME, "c")
    assert not e.counts
    e.edit({"work_date": date(2026, 12, 2)}, ME, "c")
    e.submit(ME, "c")
    e.approve(ME, "c")
    with pytest.raises(EntryLockedError):
        e.edit({"minutes": 5}, ME, "c")
    with pytest.raises(EntryLockedError):
        e.withdraw(ME, "c")
    with pytest.raises(EntryStateError):
        e.approve(ME, "c")
    correction = entry(minutes=-20, corrects=e)
    assert (correction.corrects, correction.minutes) == (str(e.id), -20)
    with pytest.raises(EntryStateError):
        entry(minutes=-20, corrects=entry())  # Only approved entries are corrected.
    with pytest.raises(InvalidValueError):
        entry().reject("  ", ME, "c")


def test_one_timer_runs_unless_several_are_allowed() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    timers = Timers(user_id=str(uuid4()))
    timers.start(1, now, False, ME, "c")
    timers.start(2, now + timedelta(minutes=10), False, ME, "c")
    assert timers.running() == [2]
    assert timers.seconds(1, now + timedelta(hours=1)) == 600
    with pytest.raises(TimerStateError):
        timers.pause(1, now, ME, "c")
    timers.start(3, now + timedelta(minutes=20), True, ME, "c")
    assert timers.running() == [2, 3]
    later = now + timedelta(minutes=40)
    assert timers.stop(2, later, None, ME, "c") == 30 * 60
    assert sorted(timers.timers) == ["1", "3"]


def test_hours_read_as_decimals_or_hours_and_minutes() -> None:
    assert [parse_hours(t) for t in ("1.5", "1,5", "1:30", "0:05", "2")] == [90, 90, 90, 5, 120]
    for text in ("abc", "1:75", "NaN", ""):
        with pytest.raises(ValueError, match="hours"):
            parse_hours(text)
