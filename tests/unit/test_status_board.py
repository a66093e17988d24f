"""The status board fed events directly: columns, card order, paging, conversion."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor, Channel
from projections.base import InvalidCursorError, Positioned, Tables
from projections.db import SQLiteViews
from projections.status_board import StatusBoardProjection, board, card_of

AGENT = Actor.user(uuid.UUID(int=1))
ADA = uuid.UUID(int=2)
SITE = uuid.UUID(int=10)
OFFICE = uuid.UUID(int=11)


def ticket(number: int, priority: str = "normal") -> Ticket:
    return Ticket.open(
        number=number,
        title=f"Ticket {number}",
        description="",
        requester_email=None,
        channel=Channel.API,
        priority=priority,
        actor=AGENT,
        correlation_id="c",
        project_id=SITE,
    )


def task(number: int, priority: str = "normal", **fields: Any) -> Task:
    return Task.plan(
        number=number,
        title=f"Task {number}",
        priority=priority,
        actor=AGENT,
        correlation_id="c",
        project_id=SITE,
        **fields,
    )


def positioned(events: list[Any]) -> list[Positioned]:
    return [Positioned(i + 1, e) for i, e in enumerate(events)]


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def applied(views: SQLiteViews, events: list[Any], one_at_a_time: bool = False) -> Tables:
    projection, t = StatusBoardProjection(), Tables(2 if one_at_a_time else 1)
    with views.write() as tx:
        projection.create(tx, t)
        pages = [[p] for p in positioned(events)] if one_at_a_time else [positioned(events)]
        for page in pages:
            projection.apply(tx, t, page)
    return t


def items() -> list[Any]:
    tasks = [
        task(1),
        task(2, "urgent", points=3.0),
        task(3, "low"),
        task(4, "urgent"),
        task(5),
    ]
    tasks[0].change_status("In progress", AGENT, "c")
    tasks[2].change_status("Done", AGENT, "c")
    tasks[2].change_status("Not started", AGENT, "c")
    tasks[3].assign(ADA, AGENT, "c")
    tasks[4].move(OFFICE, None, AGENT, "c")
    tickets = [ticket(6), ticket(7, "high")]
    tickets[1].change_status("Open", AGENT, "c")
    converted = ticket(8)
    converted.convert_to_task(uuid.uuid4(), 9, AGENT, "c")
    events: list[Any] = []
    for item in (*tasks, *tickets, converted):
        events += item.collect_events()
    return events


def test_a_column_per_lifecycle_status_with_cards_urgent_first(views: SQLiteViews) -> None:
    t = applied(views, items())
    with views.read() as tx:
        tasks = board(tx, t, str(SITE), "task", limit=20)
        tickets = board(tx, t, str(SITE), "ticket", limit=20)
    columns = {c["status"]: c for c in tasks["columns"]}
    assert list(columns) == ["Not started", "In progress", "On hold", "Done"]
    assert [c["number"] for c in columns["Not started"]["cards"]] == [2, 4, 3]
    assert columns["Not started"]["count"] == 3
    assert [c["number"] for c in columns["In progress"]["cards"]] == [1]
    assert columns["Done"] == {
        "status": "Done",
        "state": "finished",
        "count": 0,
        "cards": [],
        "next_cursor": None,
    }
    urgent = columns["Not started"]["cards"][1]
    assert (urgent["kind"], urgent["assignees"], urgent["priority"]) == (
        "task",
        [str(ADA)],
        "urgent",
    )
    assert columns["Not started"]["cards"][0]["points"] == 3.0
    by_status = {c["status"]: [card["number"] for card in c["cards"]] for c in tickets["columns"]}
    # The converted ticket (#8) left the board; the task it became shows instead.
    assert by_status == {
        "New": [6],
        "Open": [7],
        "Waiting on customer": [],
        "Resolved": [],
        "Closed": [],
    }


def test_a_column_pages_by_its_own_cursor(views: SQLiteViews) -> None:
    t = applied(views, items())
    with views.read() as tx:
        first = board(tx, t, str(SITE), "task", limit=2)
        cursor = first["columns"][0]["next_cursor"]
        rest = board(tx, t, str(SITE), "task", limit=2, cursor=cursor)
        only_done = board(tx, t, str(SITE), "task", limit=2, status="done")
        with pytest.raises(InvalidCursorError):
            board(tx, t, str(OFFICE), "task", limit=2, cursor=cursor)
    assert [c["number"] for c in first["columns"][0]["cards"]] == [2, 4]
    assert [(c["status"], [card["number"] for card in c["cards"]]) for c in rest["columns"]] == [
        ("Not started", [3])
    ]
    assert rest["columns"][0]["next_cursor"] is None
    assert [c["status"] for c in only_done["columns"]] == ["Done"]


def test_pages_of_any_size_make_the_same_rows_and_counts(views: SQLiteViews) -> None:
    events = items()
    whole, single = applied(views, events), applied(views, events, one_at_a_time=True)
    projection = StatusBoardProjection()
    with views.read() as tx:
        for base in projection.tables:
            order = projection.key_columns(base)
            assert tx.all(f"SELECT * FROM {whole[base]} ORDER BY {order}") == tx.all(
                f"SELECT * FROM {single[base]} ORDER BY {order}"
            )
        counts = tx.all(
            f"SELECT kind, status, cards FROM {whole['status_board_counts']}"
            " WHERE project_id = ? ORDER BY kind, status",
            (str(SITE),),
        )
    assert counts == [
        {"kind": "task", "status": "In progress", "cards": 1},
        {"kind": "task", "status": "Not started", "cards": 3},
        {"kind": "ticket", "status": "New", "cards": 1},
        {"kind": "ticket", "status": "Open", "cards": 1},
    ]


def test_the_card_folded_from_an_items_events_is_the_card_the_board_shows(
    views: SQLiteViews,
) -> None:
    item = task(1, "high")
    item.retitle("Pour concrete", AGENT, "c")
    item.change_status("On hold", AGENT, "c")
    events = list(item.collect_events())
    t = applied(views, events)
    card = card_of(events)
    assert card is not None
    with views.read() as tx:
        column = board(tx, t, str(SITE), "task", limit=5, status="On hold")["columns"][0]
    assert column["cards"] == [card.shown()]
    assert card.shown()["title"] == "Pour concrete"
