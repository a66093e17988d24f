"""Projections fed events directly: the same events always make the same rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.logged_time import TimeImported
from domain.mail.on_items import MailBounced, MailNotSent, MailReceived
from domain.reading import MessagesRead
from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor, Channel
from projections.base import (
    InvalidCursorError,
    Positioned,
    Tables,
    decode_cursor,
    encode_cursor,
    event_fields,
    topics_of,
)
from projections.db import SQLiteViews
from projections.flat import SLA_TOPICS, FlatProjection, FlatQuery, list_items
from projections.item_history import ItemHistoryProjection, history_of
from projections.ticket_detail import FOLDS, TicketDetailProjection, fold, get_ticket

AGENT = Actor.user(uuid.UUID(int=1))
ADA = uuid.UUID(int=2)


def ticket_events(number: int = 1, title: str = "Printer jammed") -> list[Any]:
    ticket = Ticket.open(
        number=number,
        title=title,
        description="It beeps",
        requester_email="a@example.com",
        channel=Channel.API,
        priority="high",
        actor=AGENT,
        correlation_id="c",
    )
    ticket.retitle(f"{title}!", AGENT, "c")
    ticket.assign(ADA, AGENT, "c")
    ticket.post_message(
        message_id=uuid.UUID(int=3),
        body="Looking",
        visibility="internal",
        in_reply_to=None,
        actor=AGENT,
        correlation_id="c",
    )
    ticket.change_status("Open", AGENT, "c")
    return list(ticket.collect_events())


def positioned(events: list[Any], start: int = 1) -> list[Positioned]:
    return [Positioned(start + i, e) for i, e in enumerate(events)]


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def test_every_ticket_and_task_event_is_read_by_the_views() -> None:
    topics = topics_of(Ticket) | topics_of(Task)
    assert "ledgerdesk:Ticket.Opened" in topics
    assert "ledgerdesk:Task.Planned" in topics
    # Every event an item records is folded (the default `Created`s are never recorded),
    # and an import's time, mail and reads, recorded on the item by events of their own modules.
    unused = {"ledgerdesk:Ticket.Created", "ledgerdesk:Task.Created"}
    recorded = topics | {TimeImported.TOPIC, MailReceived.TOPIC, MailBounced.TOPIC}
    recorded |= {MailNotSent.TOPIC, MessagesRead.TOPIC}
    assert {f"ledgerdesk:{name}" for name in FOLDS} == recorded - unused
    for view in (TicketDetailProjection(), ItemHistoryProjection()):
        assert view.topics == recorded
    # ...and the flat list shows each item's SLA.
    assert FlatProjection().topics == topics | SLA_TOPICS


def test_the_detail_fold_shows_the_ticket_with_its_conversation() -> None:
    doc = fold(ticket_events())
    assert doc is not None
    assert doc["title"] == "Printer jammed!"
    assert (doc["status"], doc["state"], doc["version"]) == ("Open", "in_progress", 5)
    assert doc["assignees"] == [str(ADA)]
    assert [m["visibility"] for m in doc["messages"]] == ["internal"]
    assert doc["messages"][0]["author"] == AGENT.ref


def test_the_detail_view_applies_a_page_the_same_as_one_event_at_a_time(
    views: SQLiteViews,
) -> None:
    raw = ticket_events()
    events = positioned(raw)
    projection = TicketDetailProjection()
    whole, single = Tables(1), Tables(2)
    with views.write() as tx:
        projection.create(tx, whole)
        projection.create(tx, single)
        projection.apply(tx, whole, events)
        for p in events:
            projection.apply(tx, single, [p])
    with views.read() as tx:
        assert get_ticket(tx, whole, 1) == get_ticket(tx, single, 1) == fold(raw)


def test_the_flat_view_filters_sorts_and_pages_without_repeats(views: SQLiteViews) -> None:
    projection, t = FlatProjection(), Tables(1)
    events: list[Any] = []
    for number in range(1, 8):
        events += ticket_events(number, title=f"Ticket {number}")
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, positioned(events))
    with views.read() as tx:
        seen: list[int] = []
        cursor = None
        while True:
            page, cursor = list_items(
                tx, t, FlatQuery(sort="title", cursor=cursor, limit=3, assignee=str(ADA))
            )
            seen += [row["number"] for row in page]
            if cursor is None:
                break
        only, _ = list_items(tx, t, FlatQuery(q="ticket 4", state="in_progress"))
        none, _ = list_items(tx, t, FlatQuery(status="New"))
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert [row["number"] for row in only] == [4]
    assert none == []


def test_history_rows_name_the_fields_each_event_changed(views: SQLiteViews) -> None:
    projection, t = ItemHistoryProjection(), Tables(1)
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, positioned(ticket_events(), start=10))
    with views.read() as tx:
        rows, following = history_of(tx, t, {"number": 1})
    assert following is None
    assert [r["position"] for r in rows] == [10, 11, 12, 13, 14]
    assert [r["type"] for r in rows] == [
        "Ticket.Opened",
        "Ticket.Retitled",
        "Ticket.UserAssigned",
        "Ticket.InternalMessagePosted",
        "Ticket.StatusChanged",
    ]
    assert rows[1]["changes"] == {"title": "Printer jammed!"}
    assert rows[1]["actor"] == AGENT.ref


def test_event_fields_leave_out_who_when_and_which_stream() -> None:
    retitled = ticket_events()[1]
    assert event_fields(retitled) == {"title": "Printer jammed!"}


def test_a_forged_cursor_cannot_carry_what_sql_refuses() -> None:
    for forged in (["x\x00y", 1], ["a", 2**63]):
        cursor = encode_cursor(*forged)
        with pytest.raises(InvalidCursorError):
            decode_cursor(cursor, 2)
    assert decode_cursor(encode_cursor("a", 5), 2) == ["a", 5]
