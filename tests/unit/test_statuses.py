"""Statuses per item type in the domain: the shipped lists, what a change records (the whole
list, and the items to move), the rules a list keeps, and items following a configured
lifecycle (its defaults when closing, reopening or starting; the state they took kept)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidValueError, UnknownStatusError
from domain.ticket import Ticket
from domain.values import Actor, Channel, State
from domain.workflow.statuses import Statuses, lifecycle_of, shipped, status_id

ADMIN = "user:admin"
SYSTEM = Actor.system("tests")


def configured(statuses: Statuses) -> list[Any]:
    return [e for e in statuses.collect_events() if type(e).__name__ == "Configured"]


def test_shipped_ids_are_derived_from_type_and_name() -> None:
    first = shipped("ticket", "ticket")
    assert first == shipped("ticket", "ticket")
    assert first[0]["id"] == status_id("ticket", "New")
    assert first[0]["id"] != shipped("bug_report", "ticket")[0]["id"]
    assert [s["name"] for s in shipped("task", "task")] == [
        "Not started", "In progress", "On hold", "Done",
    ]  # fmt: skip


def test_a_change_records_the_whole_list_once_and_the_items_to_move() -> None:
    statuses = Statuses.start(ADMIN, "c")
    statuses.add(
        "ticket", "ticket", "s1", {"name": " On  hold ", "state": "in_progress"}, ADMIN, "c"
    )
    [added] = configured(statuses)
    assert [s["name"] for s in added.statuses][:4] == [
        "New",
        "Open",
        "Waiting on customer",
        "On hold",
    ]
    assert added.moves == {}
    opened = status_id("ticket", "Open")
    statuses.change("ticket", "ticket", opened, {"name": "Active"}, ADMIN, "c")
    statuses.change("ticket", "ticket", opened, {"name": "Active"}, ADMIN, "c")  # the same
    [renamed] = configured(statuses)
    assert renamed.moves == {"Open": opened}  # to the status itself, whatever its name
    statuses.retire("ticket", "ticket", "s1", opened, ADMIN, "c")
    [retired] = configured(statuses)
    assert retired.moves == {"On hold": opened}
    assert next(s for s in retired.statuses if s["id"] == "s1")["retired"] is True
    lifecycle = lifecycle_of(statuses.of_type("ticket", "ticket"))
    assert [s.name for s in lifecycle.statuses] == [
        "New", "Active", "Waiting on customer", "Resolved", "Closed",
    ]  # fmt: skip
    with pytest.raises(UnknownStatusError):
        lifecycle.status("On hold")


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"name": "open", "state": "in_progress"}, "name"),
        ({"name": "", "state": "in_progress"}, "name"),
        ({"name": "x" * 61, "state": "in_progress"}, "name"),
        ({"name": "Later", "state": "someday"}, "state"),
        ({"name": "Later", "state": "finished", "color": "#abc"}, "color"),
        ({"name": "Later", "state": "finished", "position": -2}, "position"),
    ],
)
def test_a_bad_new_status_is_refused_naming_its_field(given: dict[str, Any], field: str) -> None:
    statuses = Statuses.start(ADMIN, "c")
    statuses.collect_events()
    with pytest.raises(InvalidValueError) as raised:
        statuses.add("ticket", "ticket", "s1", given, ADMIN, "c")
    assert raised.value.field == field
    assert configured(statuses) == []


def test_retired_statuses_do_not_count_towards_the_cap_of_those_in_use() -> None:
    statuses = Statuses.start(ADMIN, "c")
    for i in range(60):
        statuses.add(
            "ticket", "ticket", f"s{i}", {"name": f"S{i}", "state": "in_progress"}, ADMIN, "c"
        )
        statuses.retire("ticket", "ticket", f"s{i}", None, ADMIN, "c")
    assert len(statuses.of_type("ticket", "ticket")) == 65
    for i in range(45):
        statuses.add(
            "ticket", "ticket", f"k{i}", {"name": f"K{i}", "state": "in_progress"}, ADMIN, "c"
        )
    with pytest.raises(InvalidValueError, match="at most 50 statuses in use"):
        statuses.add("ticket", "ticket", "x", {"name": "X", "state": "in_progress"}, ADMIN, "c")


def test_each_state_keeps_a_status_in_use_and_one_default() -> None:
    statuses = Statuses.start(ADMIN, "c")
    new = status_id("ticket", "New")
    with pytest.raises(InvalidValueError, match="not started"):
        statuses.retire("ticket", "ticket", new, None, ADMIN, "c")
    with pytest.raises(InvalidValueError) as raised:
        statuses.change("ticket", "ticket", new, {"default": False}, ADMIN, "c")
    assert raised.value.field == "default"
    with pytest.raises(InvalidValueError) as raised:
        statuses.change("ticket", "ticket", new, {"state": "finished"}, ADMIN, "c")
    assert raised.value.field == "state"
    # The default passes to the replacement of its state, else to the first of its state.
    statuses.retire("ticket", "ticket", status_id("ticket", "Closed"), None, ADMIN, "c")
    assert lifecycle_of(statuses.of_type("ticket", "ticket")).default(State.FINISHED).name == (
        "Resolved"
    )
    waiting = status_id("ticket", "Waiting on customer")
    statuses.retire("ticket", "ticket", status_id("ticket", "Open"), waiting, ADMIN, "c")
    assert lifecycle_of(statuses.of_type("ticket", "ticket")).default(State.IN_PROGRESS).name == (
        "Waiting on customer"
    )


def test_items_follow_a_configured_lifecycle_and_keep_the_state_they_took() -> None:
    statuses = Statuses.start(ADMIN, "c")
    statuses.add(
        "ticket",
        "ticket",
        "t",
        {"name": "Triage", "state": "not_started", "default": True},
        ADMIN,
        "c",
    )
    statuses.add(
        "ticket", "ticket", "d", {"name": "Done", "state": "finished", "default": True}, ADMIN, "c"
    )
    statuses.add(
        "ticket",
        "ticket",
        "w",
        {"name": "Working", "state": "in_progress", "default": True},
        ADMIN,
        "c",
    )
    lifecycle = lifecycle_of(statuses.of_type("ticket", "ticket"))
    ticket = Ticket.open(
        number=1, title="Printer", description="", requester_email=None, channel=Channel.API,
        priority="normal", actor=SYSTEM, correlation_id="c", lifecycle=lifecycle,
    )  # fmt: skip
    assert (ticket.status, ticket.state) == ("Triage", State.NOT_STARTED)
    ticket.mark_started(SYSTEM, "c", lifecycle)
    assert (ticket.status, ticket.state) == ("Working", State.IN_PROGRESS)
    ticket.close(SYSTEM, "c", lifecycle)
    assert (ticket.status, ticket.state) == ("Done", State.FINISHED)
    ticket.reopen(SYSTEM, "c", lifecycle)
    assert ticket.status == "Working"
    # The shipped lifecycle knows none of these: the state is the one recorded.
    assert ticket.state is State.IN_PROGRESS
    with pytest.raises(UnknownStatusError):
        ticket.change_status("Working", SYSTEM, "c")  # not a shipped status
