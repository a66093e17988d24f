"""The Task aggregate: its plan, links, subtasks, recurrence and the shared item events."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from commands.application import LedgerDesk
from domain.errors import (
    InvalidValueError,
    SubtaskLevelError,
    TaskLinkError,
    TicketAlreadyConvertedError,
    TicketConvertedError,
)
from domain.planning.links import LinkKind
from domain.recurrence import Frequency, Recurrence
from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor, Channel

ME = Actor.system("tests")


def task(number: int, **plan: object) -> Task:
    return Task.plan(number=number, title=f"Task {number}", actor=ME, correlation_id="c", **plan)  # type: ignore[arg-type]


def test_a_plan_is_completed_in_working_days() -> None:
    t = task(1, start=date(2026, 12, 5), duration_days=2)  # A Saturday: moves to Monday.
    assert (t.start, t.finish, t.duration_days) == ("2026-12-07", "2026-12-08", 2)
    t.schedule(date(2026, 12, 7), date(2026, 12, 11), None, "planned", ME, "c")
    assert t.duration_days == 5
    milestone = task(2, start=date(2026, 12, 7), milestone=True)
    assert (milestone.finish, milestone.duration_days) == ("2026-12-07", 0)
    with pytest.raises(InvalidValueError):
        task(3, start=date(2026, 12, 7), finish=date(2026, 12, 1))
    with pytest.raises(InvalidValueError):
        task(4, finish=date(2026, 12, 1))


def test_rescheduling_records_the_matching_constraint() -> None:
    t = task(1, start=date(2026, 12, 7), duration_days=3)
    t.reschedule(date(2026, 12, 14), None, ME, "c")
    assert (t.start, t.finish) == ("2026-12-14", "2026-12-16")
    assert (t.constraint, t.constraint_on) == ("start_no_earlier_than", "2026-12-14")


def test_both_ends_of_a_dependency_record_it() -> None:
    a, b = task(1), task(2)
    b.depend_on(a, LinkKind.START_TO_START, 2, ME, "c")
    assert b.predecessors == {"1": ["start_to_start", 2]}
    assert a.successors == {"2": ["start_to_start", 2]}
    b.depend_on(a, LinkKind.START_TO_START, 2, ME, "c")  # The same link again: no event.
    assert b.version == 2
    with pytest.raises(TaskLinkError):
        a.depend_on(a, LinkKind.FINISH_TO_START, 0, ME, "c")
    b.drop_dependency(a, ME, "c")
    assert (b.predecessors, a.successors) == ({}, {})


def test_a_linked_task_stays_in_its_project() -> None:
    a, b = task(1), task(2)
    b.depend_on(a, LinkKind.FINISH_TO_START, 0, ME, "c")
    with pytest.raises(TaskLinkError):
        b.move(uuid4(), None, ME, "c")


def test_subtasks_are_one_level_deep() -> None:
    parent, child, grandchild = task(1), task(2), task(3)
    child.make_subtask_of(parent, ME, "c")
    assert (child.parent, parent.subtasks) == (1, [2])
    with pytest.raises(SubtaskLevelError):
        grandchild.make_subtask_of(child, ME, "c")
    with pytest.raises(SubtaskLevelError):
        parent.make_subtask_of(grandchild, ME, "c")


def test_each_occurrence_of_a_series_is_recorded_once() -> None:
    t = task(1, start=date(2026, 12, 7))
    t.set_recurrence(Recurrence(Frequency.WEEKLY, date(2026, 12, 7)), date(2026, 12, 1), ME, "c")
    assert not t.record_occurrence(date(2026, 12, 7), 2, ME, "c")  # The template's own day.
    assert t.record_occurrence(date(2026, 12, 14), 2, ME, "c")
    assert not t.record_occurrence(date(2026, 12, 14), 3, ME, "c")
    assert not t.record_occurrence(date(2026, 12, 10), 3, ME, "c")
    assert t.last_occurrence == "2026-12-14"
    # A rule set on the 20th applies from the 20th.
    t.set_recurrence(Recurrence(Frequency.DAILY, date(2026, 12, 7)), date(2026, 12, 20), ME, "c")
    assert not t.record_occurrence(date(2026, 12, 18), 3, ME, "c")
    assert t.record_occurrence(date(2026, 12, 21), 3, ME, "c")
    t.stop_recurrence(ME, "c")
    assert not t.record_occurrence(date(2026, 12, 22), 4, ME, "c")
    with pytest.raises(InvalidValueError):
        Recurrence(Frequency.DAILY, date(2026, 12, 7), count=2, until=date(2027, 1, 1))
    with pytest.raises(InvalidValueError):
        Recurrence(Frequency.WEEKLY, date(2026, 12, 7), weekdays=("XX",))


def test_a_task_records_the_shared_item_events_and_reloads() -> None:
    app = LedgerDesk(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    t = task(1, start=date(2026, 12, 7), duration_days=2)
    t.retitle("Again", ME, "c")
    t.change_status("in progress", ME, "c")
    t.assign(uuid4(), ME, "c")
    app.save(t)
    topics = [type(e).TOPIC for e in app.events.get(t.id)]
    assert topics == [
        "ledgerdesk:Task.Planned",
        "ledgerdesk:Ticket.Retitled",
        "ledgerdesk:Ticket.StatusChanged",
        "ledgerdesk:Ticket.UserAssigned",
    ]
    again = app.repository.get(t.id)
    assert isinstance(again, Task)
    assert (again.title, again.status, again.start) == ("Again", "In progress", "2026-12-07")


def test_a_converted_ticket_takes_no_more_changes() -> None:
    ticket = Ticket.open(
        number=1,
        title="t",
        description="",
        requester_email=None,
        channel=Channel.API,
        priority="normal",
        actor=ME,
        correlation_id="c",
    )
    ticket.convert_to_task(uuid4(), 2, ME, "c")
    with pytest.raises(TicketConvertedError):
        ticket.retitle("x", ME, "c")
    with pytest.raises(TicketAlreadyConvertedError):
        ticket.convert_to_task(uuid4(), 3, ME, "c")
