"""The items of a renamed or retired status, on both backends: a late move follows the status
to what it is now (renamed again, retired and replaced since), never moves an item out of a
name that is in use again, and an item the retirement's check missed goes to its state's
default; types of tasks take the `task` type's statuses."""

from __future__ import annotations

import uuid

import pytest

from commands.intake.catalogue import IntakeCatalogue
from commands.models import ChangeTicketStatus
from commands.sla.items import ItemSlaService
from commands.sla.policies import SlaPolicyService
from commands.workflow.statuses import StatusService
from domain.errors import InvalidValueError
from domain.item_numbers import item_id
from domain.workflow.statuses import STATUSES_ID, status_id
from ledgerdesk import bootstrap
from tests.factories import SYSTEM, context, open_ticket

OPEN = status_id("ticket", "Open")


def moves_of_last_change(c: bootstrap.Container) -> dict[str, str]:
    last = list(c.app.events.get(STATUSES_ID))[-1]
    moves: dict[str, str] = last.moves
    return moves


def status_of(c: bootstrap.Container, number: int) -> str:
    return str(c.app.repository.get(item_id(number)).status)


def test_a_late_move_follows_the_status_to_what_it_is_now(
    container: bootstrap.Container,
) -> None:
    c, statuses = container, StatusService(container.app)
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Open")], context())
    statuses.change(OPEN, {"name": "Active"}, SYSTEM)
    first = moves_of_last_change(c)
    statuses.change(OPEN, {"name": "Working"}, SYSTEM)  # before the first move ran
    statuses.move_item(number, first, "late")
    assert status_of(c, number) == "Working"
    event = list(c.app.events.get(item_id(number)))[-1]
    assert (event.actor, event.correlation_id) == ("system:workflow", "late")

    # Retired and replaced since: to the replacement.
    other = open_ticket(c)
    c.commands.change_ticket(other, [ChangeTicketStatus(status="Working")], context())
    waiting = status_id("ticket", "Waiting on customer")
    statuses.change(OPEN, {"name": "Busy"}, SYSTEM)
    renamed = moves_of_last_change(c)
    statuses.retire(OPEN, waiting, lambda *_: 0, SYSTEM)
    statuses.move_item(other, renamed, "late")
    assert status_of(c, other) == "Waiting on customer"


def test_an_item_in_a_name_in_use_again_stays(container: bootstrap.Container) -> None:
    c, statuses = container, StatusService(container.app)
    statuses.change(OPEN, {"name": "Active"}, SYSTEM)
    moves = moves_of_last_change(c)
    # A name means one thing for good: "Open" again only as what it meant.
    with pytest.raises(InvalidValueError) as raised:
        statuses.add("ticket", {"name": "Open", "state": "finished"}, SYSTEM)
    assert raised.value.field == "name"
    statuses.add("ticket", {"name": "Open", "state": "in_progress"}, SYSTEM)
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Open")], context())
    head = c.app.head()
    statuses.move_item(number, moves, "late")
    assert status_of(c, number) == "Open"
    assert c.app.head() == head


def test_an_item_the_retirement_check_missed_goes_to_its_states_default(
    container: bootstrap.Container,
) -> None:
    c, statuses = container, StatusService(container.app)
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Waiting on customer")], context())
    # The view it counts by had not seen the item yet: no replacement was required.
    statuses.retire(status_id("ticket", "Waiting on customer"), None, lambda *_: 0, SYSTEM)
    moves = moves_of_last_change(c)
    assert moves == {"Waiting on customer": OPEN}
    statuses.move_item(number, moves, "late")
    assert status_of(c, number) == "Open"


def test_a_change_that_changes_nothing_writes_nothing(container: bootstrap.Container) -> None:
    c, statuses = container, StatusService(container.app)
    head = c.app.head()
    statuses.change(OPEN, {"name": "Open", "color": "#1E88E5"}, SYSTEM)
    assert c.app.head() == head
    assert list(c.app.events.get(STATUSES_ID)) == []


def test_types_of_tasks_take_the_task_types_statuses(container: bootstrap.Container) -> None:
    c, statuses = container, StatusService(container.app)
    IntakeCatalogue(c.app).define_item_type("chore", {"name": "Chore", "kind": "task"}, SYSTEM)
    assert statuses.of_type("chore") == statuses.of_type("task")
    head = c.app.head()
    with pytest.raises(InvalidValueError) as raised:
        statuses.add("chore", {"name": "Later", "state": "in_progress"}, SYSTEM)
    assert raised.value.field == "item_type"
    assert c.app.head() == head


def test_a_renamed_or_added_waiting_status_still_pauses_the_sla(
    container: bootstrap.Container,
) -> None:
    c, statuses = container, StatusService(container.app)
    policy_id, _ = SlaPolicyService(c.app).define(
        {"name": "P", "targets": {"normal": {"first_response": 60}}}, SYSTEM
    )
    sla = ItemSlaService(c.app)
    waiting = status_id("ticket", "Waiting on customer")
    number = open_ticket(c)
    c.commands.change_ticket(number, [ChangeTicketStatus(status="Waiting on customer")], context())
    statuses.change(waiting, {"name": "Awaiting reply"}, SYSTEM)
    statuses.move_item(number, moves_of_last_change(c), "rename")
    assert status_of(c, number) == "Awaiting reply"
    sla.apply(number, uuid.UUID(policy_id), SYSTEM)
    first = sla.of(number, SYSTEM)["metrics"]["first_response"]
    assert (first["paused"], first["due_at"]) == (True, None)  # waiting, under either name
    # Its old name cannot come back as a status that does not wait; nor can it stop waiting.
    head = c.app.head()
    for refused in (
        lambda: statuses.add(
            "ticket", {"name": "Waiting on customer", "state": "in_progress"}, SYSTEM
        ),
        lambda: statuses.change(waiting, {"waits_on_customer": False}, SYSTEM),
    ):
        with pytest.raises(InvalidValueError):
            refused()
    assert c.app.head() == head

    # A status of the company's own that waits on the customer pauses too; one that does
    # not, does not.
    for name, waits in (("Waiting on supplier", False), ("With the customer", True)):
        statuses.add(
            "ticket", {"name": name, "state": "in_progress", "waits_on_customer": waits}, SYSTEM
        )
        other = open_ticket(c)
        c.commands.change_ticket(other, [ChangeTicketStatus(status=name)], context())
        sla.apply(other, uuid.UUID(policy_id), SYSTEM)
        assert sla.of(other, SYSTEM)["metrics"]["first_response"]["paused"] is waits, name
