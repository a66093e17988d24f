"""Import rules without storage: an import's states, text that may be stored, durations,
and what imported time does to its item."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import InvalidValueError
from domain.imports import Import, ImportStateError, import_id
from domain.logged_time import record_imported_time
from domain.task import Task
from domain.text import text_problem
from domain.timesheet import duration
from domain.values import Actor

ACTOR = Actor.system("tests")


def _import() -> Import:
    return Import.start(
        kind="timesheets", sha256="ab" * 32, rows=3, actor=ACTOR, correlation_id="t"
    )


def test_the_same_file_from_the_same_person_is_the_same_import() -> None:
    assert _import().id == import_id("timesheets", ACTOR.ref, "ab" * 32)
    assert import_id("timesheets", "user:other", "ab" * 32) != _import().id
    assert import_id("timesheets", ACTOR.ref, "cd" * 32) != _import().id


def test_an_abandoned_import_never_completes_until_it_restarts() -> None:
    imp = _import()
    imp.stage(2, ACTOR, "t")
    imp.abandon(uuid4(), ACTOR, "t")
    with pytest.raises(ImportStateError):
        imp.complete(2, ACTOR, "t")
    with pytest.raises(ImportStateError):
        imp.stage(1, ACTOR, "t")
    imp.restart(ACTOR, "t")
    imp.complete(3, ACTOR, "t")
    assert imp.completed
    with pytest.raises(ImportStateError):
        imp.abandon(uuid4(), ACTOR, "t")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("plain text, with\ttab and\r\nnew lines", None),
        ("nul\x00", "U+0000"),
        ("bell\x07", "U+0007"),
        ("escape\x1b[31m", "U+001B"),
        ("lone \ud800 surrogate", "U+D800"),
        ("ünïcödé ✓", None),
    ],
)
def test_text_refuses_control_characters_and_lone_surrogates(
    value: str, problem: str | None
) -> None:
    found = text_problem(value)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_duration_is_hours_or_minutes_never_both() -> None:
    assert duration(Decimal("1.5"), None) == 90
    assert duration(None, 45) == 45
    assert duration(None, None) is None
    with pytest.raises(InvalidValueError) as raised:
        duration(Decimal("1"), 60)
    assert (raised.value.field, str(raised.value)) == ("hours", "give hours or minutes, not both")


def test_imported_time_moves_a_task_on_once_and_drives_its_progress() -> None:
    task = Task.plan(number=9, title="Shed", work_hours=2, actor=ACTOR, correlation_id="t")
    counted = {uuid4(): (date(2026, 12, 1), 30), uuid4(): (date(2026, 12, 3), 30)}
    record_imported_time(task, uuid4(), counted, ACTOR, "t")
    assert task.logged_minutes == 60
    assert task.state.value == "in_progress"
    assert task.percent_complete == 50
    assert (task.actual_start, task.actual_finish) == ("2026-12-01", None)
    before = task.version
    record_imported_time(task, uuid4(), counted, ACTOR, "t")  # The same entries again.
    assert task.version == before
