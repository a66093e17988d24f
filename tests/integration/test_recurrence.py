"""Recurring tasks on SQLite and PostgreSQL: rules expand as RFC 5545 says, and each
occurrence is created exactly once, however often and however concurrently it is asked."""

from __future__ import annotations

import threading
from datetime import date

from eventsourcing.application import AggregateNotFoundError

import bootstrap
from commands.models import OpenTask, RecurrenceRule, RetitleTicket, StopRecurrence
from commands.recurrence import RecurrenceService, occurrences
from domain.item_numbers import item_id
from domain.recurrence import Frequency, Recurrence
from domain.task import Task
from settings import Settings
from tests.factories import context

MONDAY = date(2026, 12, 7)


def test_rules_expand_as_rfc_5545_says() -> None:
    weekly = Recurrence(Frequency.WEEKLY, MONDAY, weekdays=("MO", "TH"), count=4)
    # The first occurrence (the 7th) is the template itself.
    assert occurrences(weekly, None, date(2027, 1, 31)) == [
        date(2026, 12, 10),
        date(2026, 12, 14),
        date(2026, 12, 17),
    ]
    monthly = Recurrence(Frequency.MONTHLY, date(2027, 1, 31), month_days=(31,))
    assert occurrences(monthly, None, date(2027, 6, 1)) == [date(2027, 3, 31), date(2027, 5, 31)]
    every_other_day = Recurrence(Frequency.DAILY, MONDAY, interval=2, until=date(2026, 12, 13))
    assert occurrences(every_other_day, date(2026, 12, 9), date(2027, 1, 1)) == [
        date(2026, 12, 11),
        date(2026, 12, 13),
    ]
    yearly = Recurrence(Frequency.YEARLY, MONDAY, count=2)
    assert occurrences(yearly, None, date(2026, 12, 31)) == []
    assert occurrences(yearly, None, date(2027, 12, 31)) == [date(2027, 12, 7)]


def _series(c: bootstrap.Container, **rule: object) -> int:
    cmd = OpenTask(
        title="Back up the server",
        start=MONDAY,
        duration_days=1,
        recurrence=RecurrenceRule(**rule),  # type: ignore[arg-type]
    )
    number = c.commands.open_task(cmd, context()).number
    assert number is not None
    return number


def _occurrences_of(c: bootstrap.Container, series: int) -> list[Task]:
    template = c.app.repository.get(item_id(series))
    found = []
    for number in range(series + 1, template.number + 50):
        try:
            task = c.app.repository.get(item_id(number))
        except AggregateNotFoundError:
            continue
        if isinstance(task, Task) and task.series_number == series:
            found.append(task)
    return found


def test_each_occurrence_is_created_once_and_records_its_series(
    container: bootstrap.Container,
) -> None:
    service = RecurrenceService(container.app)
    series = _series(container, frequency="daily", count=4)
    created = service.create_due(series, date(2026, 12, 9), "tick-1")
    assert len(created) == 2  # The 8th and the 9th (the 7th is the template).
    assert service.create_due(series, date(2026, 12, 9), "tick-2") == []
    more = service.create_due(series, date(2026, 12, 31), "tick-3")
    assert len(more) == 1  # The count of 4 is reached.
    tasks = _occurrences_of(container, series)
    assert [t.occurrence_date for t in tasks] == ["2026-12-08", "2026-12-09", "2026-12-10"]
    assert [t.start for t in tasks] == ["2026-12-08", "2026-12-09", "2026-12-10"]
    assert all(t.title == "Back up the server" for t in tasks)


def test_editing_a_series_changes_future_occurrences_only(
    container: bootstrap.Container,
) -> None:
    service = RecurrenceService(container.app)
    series = _series(container, frequency="daily")
    service.create_due(series, date(2026, 12, 8), "tick")
    container.commands.change_task(series, [RetitleTicket(title="Back up, twice")], context())
    service.create_due(series, date(2026, 12, 9), "tick")
    titles = [t.title for t in _occurrences_of(container, series)]
    assert titles == ["Back up the server", "Back up, twice"]
    container.commands.change_task(series, [StopRecurrence()], context())
    assert service.create_due(series, date(2026, 12, 31), "tick") == []


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
    dates = [t.occurrence_date for t in _occurrences_of(container, series)]
    assert dates == [f"2026-12-{d:02d}" for d in range(8, 13)]
