"""The read side's item rules: who may see a ticket or task document, the redirect of a
converted ticket, and the history a converted task shows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.errors import (
    PermissionDeniedError,
    TaskNotFoundError,
    TicketConvertedError,
    TicketNotFoundError,
)
from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor, Channel
from projections.access import StaffScope
from projections.base import Positioned, Tables
from projections.db import SQLiteViews
from projections.item_access import require_app, visible_item, visible_ticket
from projections.item_history import ItemHistoryProjection, history_of

HERE, ELSEWHERE = "project-here", "project-elsewhere"
AGENT = Actor.user(uuid.UUID(int=1))


def scope(apps: str = "both", projects: frozenset[str] = frozenset({HERE})) -> StaffScope:
    return StaffScope(False, projects, dict.fromkeys(projects, "standard"), apps)


def doc(kind: str = "ticket", project_id: str = HERE, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "number": 7, "project_id": project_id, **more}


def test_an_item_of_a_project_in_scope_is_shown() -> None:
    ticket, task = doc("ticket"), doc("task")
    assert visible_ticket(ticket, 7, scope()) is ticket
    assert visible_item(task, 7, scope(), "task") is task


@pytest.mark.parametrize(
    ("found", "kind", "error"),
    [
        (None, "ticket", TicketNotFoundError),
        (doc(project_id=ELSEWHERE), "ticket", TicketNotFoundError),
        (doc("task"), "ticket", TicketNotFoundError),
        (None, "task", TaskNotFoundError),
        (doc("task", project_id=ELSEWHERE), "task", TaskNotFoundError),
        (doc("ticket"), "task", TaskNotFoundError),
    ],
)
def test_an_item_the_caller_may_not_see_is_not_found_rather_than_forbidden(
    found: dict[str, Any] | None, kind: str, error: type[Exception]
) -> None:
    # Given a number that names nothing, an item of a project outside the caller's scope,
    # or an item of the other kind: When it is read as `kind`: Then it is not found (404)
    with pytest.raises(error, match="#7"):
        visible_item(found, 7, scope(), kind)


def test_an_admin_who_sees_every_project_sees_items_of_any_project() -> None:
    everything = StaffScope(True, frozenset(), {}, "both")
    assert visible_ticket(doc(project_id=ELSEWHERE), 7, everything)["number"] == 7


@pytest.mark.parametrize(("apps", "kind"), [("tasks", "ticket"), ("tickets", "task")])
def test_without_the_app_of_its_kind_the_caller_is_refused_whether_or_not_it_exists(
    apps: str, kind: str
) -> None:
    # Given a caller whose apps do not show `kind`
    # When an item of that kind is read, existing or not
    # Then the answer is a refusal (403), the same either way
    for found in (doc(kind), None):
        with pytest.raises(PermissionDeniedError, match=f"the {kind}s app is not enabled"):
            visible_item(found, 7, scope(apps), kind)
    with pytest.raises(PermissionDeniedError):
        require_app(scope("none"), "ticket")
    require_app(scope("both"), "task")


def test_a_converted_ticket_redirects_to_its_task() -> None:
    # Given a ticket the caller may see, converted to task #12
    converted = doc(converted_to_task=12)

    # When it is read as a ticket
    with pytest.raises(TicketConvertedError) as raised:
        visible_ticket(converted, 7, scope())

    # Then the answer names the task (the API answers 308 to it)
    assert (raised.value.number, raised.value.task_number) == (7, 12)


def test_a_converted_ticket_outside_the_scope_is_not_found_rather_than_redirected() -> None:
    with pytest.raises(TicketNotFoundError):
        visible_ticket(doc(project_id=ELSEWHERE, converted_to_task=12), 7, scope())


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def test_a_converted_tasks_history_begins_with_its_tickets(views: SQLiteViews) -> None:
    # Given ticket #1, retitled, then converted to task #2, and an unrelated ticket #3
    ticket = Ticket.open(
        number=1,
        title="Printer jammed",
        description="",
        requester_email=None,
        channel=Channel.API,
        priority="normal",
        actor=AGENT,
        correlation_id="c",
    )
    ticket.retitle("Printer jammed again", AGENT, "c")
    task = Task.plan(number=2, title="Fix the printer", actor=AGENT, correlation_id="c")
    ticket.convert_to_task(task.id, 2, AGENT, "c")
    task.retitle("Fix the printer today", AGENT, "c")
    other = Ticket.open(
        number=3,
        title="Other",
        description="",
        requester_email=None,
        channel=Channel.API,
        priority="normal",
        actor=AGENT,
        correlation_id="c",
    )
    events = [*ticket.collect_events(), *other.collect_events(), *task.collect_events()]
    projection, t = ItemHistoryProjection(), Tables(1)
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, [Positioned(i, e) for i, e in enumerate(events, 1)])

    # When the history of the task, and of a task never converted, is read
    with views.read() as tx:
        converted, _ = history_of(tx, t, {"number": 2, "converted_from_ticket": 1})
        plain, _ = history_of(tx, t, {"number": 2, "converted_from_ticket": None})

    # Then the converted task's begins with the ticket's events, then its own
    assert [e["type"] for e in converted] == [
        "Ticket.Opened",
        "Ticket.Retitled",
        "Ticket.ConvertedToTask",
        "Task.Planned",
        "Ticket.Retitled",
    ]
    assert [e["type"] for e in plain] == ["Task.Planned", "Ticket.Retitled"]
