"""An install's item history written before `domain/ticket.py`, `domain/task.py` and
`domain/schedule.py` were split into modules (`domain/work_item.py`, `domain/planning/`)
still loads, on both backends: the stored topics name no module, only the explicit TOPICs.

`data/item_store_before_split.json` was written by the code as it was then: a ticket that
records every shared item event and is converted to task #2, task #3 with every planning
event (plan, constraint, work, points, time, progress, actuals, a recurrence and an
occurrence, a move), task #4 following it as a milestone subtask, and a snapshot of each
item. It holds the stored events and snapshots byte for byte, and each item's state then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from domain.item_numbers import item_id
from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables, topics_of
from projections.ticket_detail import get_ticket

STORE = json.loads((Path(__file__).parent / "data" / "item_store_before_split.json").read_text())
NUMBERS = (1, 2, 3, 4)
# State added since, which the upcasters give old events and snapshots (the ticket's type).
ADDED_SINCE: dict[int, dict[str, Any]] = {1: {"item_type": "ticket", "fields": {}}}


def then(n: int) -> dict[str, Any]:
    """Item `n`'s state as written then, with what was added since at its default."""
    return {**STORE["state"][str(n)], **ADDED_SINCE.get(n, {})}


def stored(records: list[dict[str, Any]]) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=UUID(r["originator_id"]),
            originator_version=r["originator_version"],
            topic=r["topic"],
            state=r["state"].encode(),
        )
        for r in records
    ]


def state_of(aggregate: Any) -> dict[str, Any]:
    """The aggregate's own state, as the fixture wrote it down (JSON, dates as text)."""
    own = {k: v for k, v in aggregate.__dict__.items() if not k.startswith("_")}
    loaded: dict[str, Any] = json.loads(json.dumps(own, default=str, sort_keys=True))
    return loaded


def test_the_stored_history_names_every_item_event_there_is() -> None:
    # Every topic an item records today was written in the old history (none was renamed
    # by the split, none added without old events to prove it), bar the unused `Created`s.
    written = {r["topic"] for r in STORE["events"]}
    unused = {"ledgerdesk:Ticket.Created", "ledgerdesk:Task.Created"}
    # Events added since, which the old history could not hold (new facts, not renames)
    since = {"ledgerdesk:Ticket.Reported"}  # (first recorded by item imports)
    assert written == (topics_of(Ticket) | topics_of(Task)) - unused - since
    assert {r["topic"] for r in STORE["snapshots"]} == {"eventsourcing.domain:Snapshot"}


def test_items_stored_before_the_split_load_from_their_events(
    container: bootstrap.Container,
) -> None:
    # Given the events stored before the split
    container.app.recorder.insert_events(stored(STORE["events"]))

    # When each item is loaded from its events
    items = {n: container.app.repository.get(item_id(n)) for n in NUMBERS}

    # Then each is of its kind, in the very state it had when it was written (and the state
    # of its status, kept since, as its events recorded it)
    assert [type(items[n]) for n in NUMBERS] == [Ticket, Task, Task, Task]
    for n in NUMBERS:
        now = state_of(items[n])
        recorded = now.pop("status_state")
        assert now == then(n), n
        assert recorded == items[n].LIFECYCLE.status(items[n].status).state.value, n
    assert items[1].converted_to == 2
    assert items[3].last_occurrence == "2026-03-10"


def test_items_stored_before_the_split_load_from_their_snapshots_and_take_new_events(
    container: bootstrap.Container,
) -> None:
    # Given the events and the snapshots stored before the split
    container.app.recorder.insert_events(stored(STORE["events"]))
    assert container.app.snapshots is not None
    container.app.snapshots.recorder.insert_events(stored(STORE["snapshots"]))

    # When a fresh process loads each item's snapshot, and a task loaded through it
    # changes its plan
    fresh = bootstrap.build(container.settings)
    try:
        assert fresh.app.snapshots is not None
        for n in NUMBERS:
            (snapshot,) = fresh.app.snapshots.get(item_id(n), desc=True, limit=1)
            assert snapshot.originator_version == len(
                [e for e in STORE["events"] if e["originator_id"] == str(item_id(n))]
            )
            from_snapshot = snapshot.mutate(None)
            assert state_of(from_snapshot) == then(n), n
            # Taken before the state of its status was kept: it follows from the status.
            assert "status_state" not in from_snapshot.__dict__
            assert from_snapshot.state == from_snapshot.LIFECYCLE.status(from_snapshot.status).state
        task = fresh.app.repository.get(item_id(4))
        task.mark_milestone(False, Actor.system("tests"), "after-the-split")
        fresh.app.save(task)

        # Then the change lands on top of the old history, and the whole stream reloads
        again = bootstrap.build(container.settings)
        try:
            events = list(again.app.events.get(item_id(4)))
            assert [type(e).TOPIC for e in events[-2:]] == [
                "ledgerdesk:Task.MilestoneSet",
                "ledgerdesk:Task.Scheduled",
            ]
            reloaded = again.app.repository.get(item_id(4))
            assert (reloaded.milestone, reloaded.duration_days) == (False, 1)
        finally:
            again.close()
    finally:
        fresh.close()


@pytest.mark.slow
def test_the_views_rebuilt_from_a_history_stored_before_the_split_show_it(
    container: bootstrap.Container,
) -> None:
    # Given the events stored before the split
    container.app.recorder.insert_events(stored(STORE["events"]))

    # When the views follow the log
    container.runner.catch_up()

    # Then they show the items as they were, and a rebuild makes the same rows
    with container.views.read() as tx:
        ticket = get_ticket(tx, current_tables(tx, "ticket_detail"), 1)
        task = get_ticket(tx, current_tables(tx, "ticket_detail"), 3)
    assert ticket is not None
    assert ticket["converted_to_task"] == 2
    assert task is not None
    assert (task["title"], task["points"]) == ("Order toner", 5.0)
    for view in ("ticket_detail", "item_history", "gantt", "status_board", "flat"):
        assert container.runner.verify(view) == [], view
