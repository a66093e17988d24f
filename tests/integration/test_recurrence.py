"""Recurring tasks on SQLite and PostgreSQL: rules expand as RFC 5545 says, on working
days; each occurrence is created exactly once, however often and however concurrently it is
asked; a rule applies from the day it is set, never to the past."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from eventsourcing.application import AggregateNotFoundError

import commands.tasks
from commands.models import (
    OpenTask,
    RecurrenceRule,
    RetitleTicket,
    SetRecurrence,
    StopRecurrence,
)
from commands.recurrence import RecurrenceService, occurrences
from domain.item_numbers import item_id
from domain.recurrence import Frequency, Recurrence
from domain.task import Task
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.factories import context

MONDAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def set_on_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules set in these tests take effect on 2026-12-01 (a Tuesday)."""
    monkeypatch.setattr(commands.tasks, "today", lambda: date(2026, 12, 1))


def test_rules_expand_as_rfc_5545_says_on_working_days() -> None:
    weekly = Recurrence(Frequency.WEEKLY, MONDAY, weekdays=("MO", "TH"), count=4)
    assert occurrences(weekly, MONDAY, date(2027, 1, 31)) == [
        date(2026, 12, 7),
        date(2026, 12, 10),
        date(2026, 12, 14),
        date(2026, 12, 17),
    ]
    # Month days that some months lack are skipped; the 31st of May 2027 is a Monday,
    # the 31st of March a Wednesday.
    monthly = Recurrence(Frequency.MONTHLY, date(2027, 1, 31), month_days=(31,))
    assert occurrences(monthly, date(2027, 2, 1), date(2027, 6, 1)) == [
        date(2027, 3, 31),
        date(2027, 5, 31),
    ]
    every_other_day = Recurrence(Frequency.DAILY, MONDAY, interval=2, until=date(2026, 12, 15))
    # The 13th is a Sunday: no occurrence.
    assert occurrences(every_other_day, date(2026, 12, 9), date(2027, 1, 1)) == [
        date(2026, 12, 9),
        date(2026, 12, 11),
        date(2026, 12, 15),
    ]
    yearly = Recurrence(Frequency.YEARLY, MONDAY, count=2)
    assert occurrences(yearly, date(2026, 12, 8), date(2027, 12, 31)) == [date(2027, 12, 7)]


def _series(c: bootstrap.Container, start: date = MONDAY, **rule: object) -> int:
    cmd = OpenTask(
        title="Back up the server",
        start=start,
        duration_days=1,
        recurrence=RecurrenceRule(**rule),  # type: ignore[arg-type]
    )
    number = c.commands.open_task(cmd, context()).number
    assert number is not None
    return number


def _occurrences_of(c: bootstrap.Container, series: int) -> list[Task]:
    found = []
    for number in range(series + 1, series + 80):
        try:
            task = c.app.repository.get(item_id(number))
        except AggregateNotFoundError:
            continue
        if isinstance(task, Task) and task.series_number == series:
            found.append(task)
    return found


def _dates(c: bootstrap.Container, series: int) -> list[str | None]:
    return [t.occurrence_date for t in _occurrences_of(c, series)]


def test_each_occurrence_is_created_once_and_records_its_series(
    container: bootstrap.Container,
) -> None:
    service = RecurrenceService(container.app)
    series = _series(container, frequency="daily", count=6)
    created = service.create_due(series, date(2026, 12, 9), "tick-1")
    assert len(created) == 2  # The 8th and the 9th (the 7th is the template itself).
    assert service.create_due(series, date(2026, 12, 9), "tick-2") == []
    more = service.create_due(series, date(2026, 12, 31), "tick-3")
    # The count of 6 ends on the 12th, a Saturday; the weekend has no occurrences.
    assert len(more) == 2
    assert _dates(container, series) == ["2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"]
    tasks = _occurrences_of(container, series)
    assert [t.start for t in tasks] == ["2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"]
    assert all(t.title == "Back up the server" for t in tasks)


def test_a_rule_starting_after_the_template_has_its_first_day(
    container: bootstrap.Container,
) -> None:
    service = RecurrenceService(container.app)
    series = _series(container, frequency="weekly", starts="2026-12-14")
    service.create_due(series, date(2026, 12, 28), "tick")
    assert _dates(container, series) == ["2026-12-14", "2026-12-21", "2026-12-28"]


def test_editing_a_series_changes_future_occurrences_only(
    container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = RecurrenceService(container.app)
    series = _series(container, frequency="daily")
    service.create_due(series, date(2026, 12, 8), "tick")
    container.commands.change_task(series, [RetitleTicket(title="Back up, twice")], context())
    service.create_due(series, date(2026, 12, 9), "tick")
    titles = [t.title for t in _occurrences_of(container, series)]
    assert titles == ["Back up the server", "Back up, twice"]
    # A rule changed on the 16th to start earlier creates nothing before the 16th.
    monkeypatch.setattr(commands.tasks, "today", lambda: date(2026, 12, 16))
    earlier = RecurrenceRule(frequency="daily", starts=date(2026, 11, 2))
    container.commands.change_task(series, [SetRecurrence(rule=earlier)], context())
    service.create_due(series, date(2026, 12, 16), "tick")
    assert _dates(container, series) == ["2026-12-08", "2026-12-09", "2026-12-16"]
    # Stopped, then resumed a week later: the stopped days stay without occurrences.
    container.commands.change_task(series, [StopRecurrence()], context())
    assert service.create_due(series, date(2026, 12, 31), "tick") == []
    monkeypatch.setattr(commands.tasks, "today", lambda: date(2026, 12, 23))
    daily = RecurrenceRule(frequency="daily")
    container.commands.change_task(series, [SetRecurrence(rule=daily)], context())
    service.create_due(series, date(2026, 12, 23), "tick")
    assert _dates(container, series)[-2:] == ["2026-12-16", "2026-12-23"]


def test_cloning_an_old_task_as_recurring_creates_nothing_in_the_past(
    container: bootstrap.Container,
) -> None:
    service = RecurrenceService(container.app)
    series = _series(container, start=date(2026, 1, 5), frequency="weekly")
    assert service.create_due(series, date(2026, 12, 1), "tick") == []
    service.create_due(series, date(2026, 12, 14), "tick")
    assert _dates(container, series) == ["2026-12-07", "2026-12-14"]


def test_concurrent_workers_create_each_occurrence_exactly_once(
    container: bootstrap.Container, settings: Settings
) -> None:
    series = _series(container, frequency="daily", count=6)
    # Several processes' worth of writers: separate containers share only the database.
    others = [bootstrap.build(settings) for _ in range(3)]
    try:
        workers = [RecurrenceService(c.app) for c in [container, *others]]
        barrier = threading.Barrier(len(workers))

        def tick(service: RecurrenceService) -> None:
            barrier.wait()
            service.create_due(series, date(2026, 12, 31), "race")

        threads = [threading.Thread(target=tick, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for c in others:
            c.close()
    assert _dates(container, series) == ["2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"]
