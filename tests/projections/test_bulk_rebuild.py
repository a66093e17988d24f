"""Rebuilds and audits of several views in one pass over the log, written in bulk (ADR 0014):
the same rows as the live path, page by page; a failing view fails alone, at its position."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from commands.customers import RegisterContact
from commands.models import (
    AssignUser,
    ChangeTicketStatus,
    PostMessage,
    RetitleTicket,
    UnassignUser,
)
from commands.sla.items import ItemSlaService
from commands.sla.policies import SlaPolicyService
from ledgerdesk import bootstrap
from projections.base import Positioned, Tables
from projections.db import BulkTx, Tx
from projections.flat import FlatProjection
from projections.generations import RebuildError
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.factories import SYSTEM, context, open_ticket, register, unprojectable_rename
from tests.view_tables import generations, live_rows


def _helpdesk(c: bootstrap.Container, tickets: int = 8) -> None:
    """Tickets whose events interleave: opened, retitled, moved on, assigned and unassigned,
    talked about; and contacts."""
    ada = register(c, "ada@example.com")
    bob = register(c, "bob@example.com")
    numbers = [open_ticket(c, title=f"Ticket {i}") for i in range(tickets)]
    for i, number in enumerate(numbers):
        c.commands.change_ticket(
            number,
            [
                RetitleTicket(title=f"Ticket {i}, retitled"),
                ChangeTicketStatus(status="Open" if i % 2 else "Resolved"),
                AssignUser(user_id=ada),
                AssignUser(user_id=bob),
                PostMessage(message_id=uuid.uuid4(), body=f"hello {i}", visibility="customer"),
            ],
            context(),
        )
    for number in numbers[::3]:
        c.commands.change_ticket(
            number,
            [UnassignUser(user_id=bob), ChangeTicketStatus(status="Closed")],
            context(),
        )
    for i in range(3):
        contact(c, f"customer{i}@acme.example", f"Customer {i}")
    # Items held to an SLA policy (the `sla` view), one of them to none again.
    policies = SlaPolicyService(c.app)
    policy_id, _ = policies.define(
        {"name": "SLA", "targets": {"normal": {"resolution": 60}}}, SYSTEM
    )
    sla = ItemSlaService(c.app)
    for number in numbers[::2]:
        sla.apply(number, uuid.UUID(policy_id), SYSTEM)
    sla.apply(numbers[0], None, SYSTEM)


def contact(c: bootstrap.Container, email: str, name: str) -> uuid.UUID:
    return c.customers.register_contact(RegisterContact(email=email, name=name), SYSTEM).id


@pytest.mark.parametrize("rebuild_page_size", [3, 7, 5000])
def test_one_pass_rebuild_of_every_view_equals_the_live_path(
    container: bootstrap.Container, rebuild_page_size: int
) -> None:
    # Given every view caught up by the live path, a page of 2 at a time
    c = container
    _helpdesk(c)
    live = ProjectionRunner(c.runner.log, c.views, all_projections(), page_size=2)
    live.catch_up()
    views = list(live.projections)
    before = {name: live_rows(c, name) for name in views}
    assert any(before["flat"].values())
    assert any(before["customers"].values())

    # When every view is rebuilt in one pass (pages cut anywhere, even mid-command)
    bulk = ProjectionRunner(
        c.runner.log, c.views, all_projections(), rebuild_page_size=rebuild_page_size
    )
    rebuilt = bulk.rebuild_many(views)

    # Then each switched to a new generation with byte-identical rows, at the head
    assert rebuilt == {name: 2 for name in views}
    head = c.app.head()
    for name in views:
        assert live_rows(c, name) == before[name], name
        assert generations(c, name) == [(1, 2), (2, 1)], name
        assert bulk.position(name) == head, name
    # And a one-pass audit finds nothing, leaving no scratch generation behind (it drops
    # the retired ones, as every rebuild and audit does)
    assert bulk.verify_many(views) == {name: [] for name in views}
    assert all(generations(c, name) == [(2, 1)] for name in views)


def test_one_pass_audit_reports_only_the_view_that_differs(container: bootstrap.Container) -> None:
    # Given caught-up views, one of whose rows someone edited by hand
    c = container
    _helpdesk(c)
    c.runner.catch_up()
    with c.views.write() as tx:
        tx.execute("UPDATE flat_items_g1 SET title = 'tampered' WHERE number = 1")

    # When every view is audited in one pass
    found = c.runner.verify_many(list(c.runner.projections))

    # Then only the flat view differs, against its rebuilt row
    assert {name for name, result in found.items() if result} == {"flat"}
    differences = found["flat"]
    assert isinstance(differences, list)
    assert "tampered" in differences[0]


def test_a_view_that_fails_mid_rebuild_fails_alone_at_its_position(
    container: bootstrap.Container,
) -> None:
    # Given caught-up views, then an event `customers` cannot apply, then more tickets
    c = container
    _helpdesk(c)
    ada = contact(c, "ada@acme.example", "Ada")
    c.runner.catch_up()
    before = c.app.head()
    unprojectable_rename(c, ada)
    open_ticket(c, title="After the poison")
    c.runner.catch_up(["flat", "ticket_detail"])
    flat_before = live_rows(c, "flat")

    # When three views are rebuilt in one pass
    with pytest.raises(RebuildError) as raised:
        c.runner.rebuild_many(["flat", "customers", "ticket_detail"])

    # Then the failure names the view, the exact position and the error
    error = raised.value
    assert set(error.failures) == {"customers"}
    assert (error.view, error.position) == ("customers", before)
    assert error.failures["customers"].position == before
    assert f"after position {before}" in str(error)
    assert "dict" in error.error
    # And the others were rebuilt past it and switched over
    assert error.rebuilt == {"flat": 2, "ticket_detail": 2}
    assert live_rows(c, "flat") == flat_before
    assert c.runner.verify("ticket_detail") == []
    # While the failed view keeps its live generation, with nothing half-built left behind
    assert generations(c, "customers") == [(1, 1)]
    # And a one-pass audit replays each view up to where it is live: the failed view's
    # live rows (before the poison) equal their replay, and the others' too
    assert c.runner.verify_many(["flat", "customers"]) == {"flat": [], "customers": []}


class _Spy(FlatProjection):
    """The flat view, remembering which kind of transaction each page came in."""

    def __init__(self) -> None:
        self.kinds: list[type] = []

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        self.kinds.append(type(tx))
        super().apply(tx, t, events)


def test_live_catch_up_commits_each_page_one_statement_per_write(
    container: bootstrap.Container,
) -> None:
    # Given a view fed by the live path and by a rebuild
    c = container
    _helpdesk(c, tickets=3)
    spy = _Spy()
    runner = ProjectionRunner(c.runner.log, c.views, [spy], page_size=4)

    # When it catches up, its pages come in plain write transactions with their positions
    runner.catch_up()
    assert spy.kinds
    assert BulkTx not in spy.kinds
    assert runner.position("flat") == c.app.head()

    # And only a rebuild writes in bulk
    spy.kinds.clear()
    runner.rebuild("flat")
    assert spy.kinds
    assert set(spy.kinds) == {BulkTx}


# --- the bulk transaction itself ------------------------------------------------------------


def _scratch(tx: Tx) -> None:
    tx.execute("DROP TABLE IF EXISTS bulk_scratch")
    tx.execute(
        "CREATE TABLE bulk_scratch (id TEXT PRIMARY KEY, a TEXT, b INTEGER, c TEXT NOT NULL)"
    )


def _writes(tx: Tx) -> list[dict[str, Any]]:
    """Inserts, updates (of new and older rows), deletes and a read of its own writes."""
    table = "bulk_scratch"
    tx.insert_row(table, {"id": "old", "a": "x", "b": 1, "c": "c"})
    tx.execute("UPDATE bulk_scratch SET b = b + 1 WHERE id = ?", ("old",))
    for i in range(5):
        tx.insert_row(table, {"id": f"n{i}", "a": f"a{i}", "b": i, "c": "new"})
        tx.update_row(table, {"id": f"n{i}"}, {"b": i * 10})
        tx.update_row(table, {"id": "old"}, {"a": f"old{i}"})
    tx.update_row(table, {"id": "n1"}, {"c": "again"})
    tx.delete_row(table, {"id": "n2"})
    tx.delete_row(table, {"id": "old"})
    tx.update_row(table, {"id": "ghost"}, {"a": "nobody"})  # No row yet: nothing happens,
    tx.insert_row(table, {"id": "ghost", "a": "born", "b": None, "c": "late"})  # then it is.
    seen = tx.all("SELECT id, b FROM bulk_scratch WHERE id = ?", ("n3",))
    assert seen == [{"id": "n3", "b": 30}]
    tx.insert_row(table, {"id": "nul", "a": "a\x00b", "b": 0, "c": "z"})
    return tx.all("SELECT * FROM bulk_scratch ORDER BY id")


def test_bulk_writes_make_the_rows_of_one_statement_per_write(
    container: bootstrap.Container,
) -> None:
    with container.views.write() as tx:
        _scratch(tx)
        expected = _writes(tx)
        _scratch(tx)
    with container.views.bulk() as bulk:
        assert isinstance(bulk, BulkTx)
        assert _writes(bulk) == expected
    with container.views.read() as tx:
        assert tx.all("SELECT * FROM bulk_scratch ORDER BY id") == expected
    assert [r["id"] for r in expected] == ["ghost", "n0", "n1", "n3", "n4", "nul"]
    with container.views.write() as tx:
        tx.execute("DROP TABLE bulk_scratch")


class _BulkShy(FlatProjection):
    """The flat view, failing whenever it is given a bulk transaction."""

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        if isinstance(tx, BulkTx):
            raise RuntimeError("cannot write in bulk")
        super().apply(tx, t, events)


def test_a_page_that_fails_only_in_bulk_goes_through_and_is_said(
    container: bootstrap.Container, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a view that fails in bulk but not view by view
    _helpdesk(container)
    container.runner.catch_up(["flat"])
    live = live_rows(container, "flat")
    runner = ProjectionRunner(container.runner.log, container.views, [_BulkShy()])

    # When it is rebuilt in one pass
    with caplog.at_level("WARNING", logger="ledgerdesk.projections"):
        runner.rebuild_many(["flat"])

    # Then it is rebuilt all the same, and the doubled work is not silent
    assert live_rows(container, "flat") == live
    assert "failed in bulk but went through view by view" in caplog.text
