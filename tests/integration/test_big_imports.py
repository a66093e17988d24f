"""A timesheet import of the documented maximum (100,000 rows), on SQLite and PostgreSQL:
it completes, shows every row once, and other writers are not held up meanwhile."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from commands.imports.timesheets import MAX_ROWS, TimesheetImport
from commands.models import Context, OpenTask, OpenTicket
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.timesheet_query import EntryFilter, EntryScope, ReportQuery, report
from tests.factories import register

ITEMS = 50


def _file(numbers: list[int]) -> tuple[bytes, int]:
    lines = ["item,user_email,date,hours,notes"]
    total = 0
    for n in range(MAX_ROWS):
        minutes = 10 + n % 50
        total += minutes
        lines.append(
            f"{numbers[n % len(numbers)]},admin@example.com,2026-{1 + n % 12:02d}-"
            f"{1 + n % 28:02d},0:{minutes},row {n}"
        )
    return ("\n".join(lines) + "\n").encode(), total


def _totals(live: bootstrap.Container) -> Any:
    assert live.runner.wait_for(live.app.head(), ["timesheets"], timeout=300)
    with live.views.read() as tx:
        query = ReportQuery(EntryFilter(EntryScope("", True, frozenset())), ("user",))
        return report(tx, current_tables(tx, "timesheets"), query)["totals"]


@pytest.mark.slow
def test_the_largest_import_completes_while_other_writes_go_on(
    container: bootstrap.Container,
) -> None:
    live = container
    live.follow(["timesheets"])  # The view this checks; the others would only add load.
    # Given 50 tasks and a file of 100,000 rows on them
    admin = Context(
        actor=Actor.user(register(live, "admin@example.com", admin=True)), correlation_id="t"
    )
    numbers = [
        live.commands.open_task(OpenTask(title=f"Task {n}", work_hours=1), admin).number or 0
        for n in range(ITEMS)
    ]
    content, total = _file(numbers)
    done: list[TimesheetImport] = []
    importing = threading.Thread(
        target=lambda: done.append(live.timesheets.import_csv(content, admin)), daemon=True
    )
    # When it is imported while another writer opens tickets
    importing.start()
    written: list[int] = []
    while importing.is_alive():
        opened = live.commands.open_ticket(OpenTicket(title="Meanwhile"), admin)
        written.append(opened.position)
    importing.join()
    # Then the import made every row visible at once, and the writer's tickets went in
    # between its batches (after it started, before it completed)
    assert [(d.rows, d.imported.count) for d in done] == [(MAX_ROWS, MAX_ROWS)]
    marks = live.app.recorder.select_notifications(
        start=1, limit=10, topics=["ledgerdesk:Import.Started", "ledgerdesk:Import.Completed"]
    )
    started, completed = (n.id for n in marks)
    assert any(started < position < completed for position in written)
    totals = _totals(live)
    assert (totals["entries"], totals["minutes"]) == (MAX_ROWS, total)
