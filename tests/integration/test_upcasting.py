"""Old stored events load through the upcasters on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from eventsourcing.persistence import StoredEvent

import bootstrap
from domain.item_numbers import item_id
from domain.ticket import Ticket
from projections.base import current_tables
from projections.ticket_detail import get_ticket

NUMBER = 7


def _store_ticket_opened_v1(c: bootstrap.Container, number: int) -> None:
    """Insert `Ticket.Opened` exactly as version 1 stored it: no channel, no class_version."""
    state = {
        "timestamp": datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        "originator_topic": "ledgerdesk:Ticket",
        "number": number,
        "title": "Printer jammed",
        "description": "Tray 2 again",
        "requester_email": "ada@example.com",
        "priority": "normal",
        "status": "New",
        "state": "not_started",
        "actor": "system:import",
        "correlation_id": "v1-import",
    }
    stored = StoredEvent(
        originator_id=item_id(number),
        originator_version=1,
        topic="ledgerdesk:Ticket.Opened",
        state=c.app.mapper.transcoder.encode(state),
    )
    c.app.recorder.insert_events([stored])


def test_ticket_opened_v1_event_loads_with_default_channel(
    container: bootstrap.Container,
) -> None:
    # Given a ticket opened before `channel` existed, stored as version 1 did
    _store_ticket_opened_v1(container, NUMBER)

    # When it is loaded as an aggregate and as its list of events
    ticket = container.app.repository.get(item_id(NUMBER))
    events = container.commands.ticket_events(NUMBER)

    # Then the upcaster has given the old event the channel every v1 ticket came from
    assert isinstance(ticket, Ticket)
    assert (ticket.number, ticket.title, ticket.version) == (NUMBER, "Printer jammed", 1)
    assert len(events) == 1
    opened = events[0]
    assert isinstance(opened, Ticket.Opened)
    assert opened.channel == "api"
    assert opened.number == NUMBER


def test_ticket_opened_v1_event_projects_with_default_channel(
    container: bootstrap.Container,
) -> None:
    # Given a ticket opened before `channel` existed, stored as version 1 did
    _store_ticket_opened_v1(container, NUMBER)

    # When the views catch up with the log
    container.runner.catch_up()

    # Then the ticket's detail document shows the upcast channel
    with container.views.read() as tx:
        doc = get_ticket(tx, current_tables(tx, "ticket_detail"), NUMBER)
    assert doc is not None
    assert doc["channel"] == "api"
    assert doc["title"] == "Printer jammed"
    assert container.runner.verify("ticket_detail") == []
