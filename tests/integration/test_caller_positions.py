"""Callers' last write positions in the view database, on SQLite and PostgreSQL: never
lowered, looked up with the views' progress in one statement, expired after a day."""

from __future__ import annotations

from ledgerdesk import bootstrap
from projections.caller_positions import EXPIRE_EVERY_SECONDS, KEEP_SECONDS, CallerPositions
from tests.factories import open_ticket


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def rows(c: bootstrap.Container) -> dict[str, int]:
    with c.views.read() as tx:
        found = tx.all("SELECT caller, position FROM caller_positions")
    return {r["caller"]: r["position"] for r in found}


def test_a_callers_position_only_ever_rises(container: bootstrap.Container) -> None:
    positions = CallerPositions(container.views, Clock())
    # When two writes of one caller answer out of order
    positions.record("a", 7)
    positions.record("a", 5)
    positions.record("b", 3)
    # Then the higher position stays
    assert rows(container) == {"a": 7, "b": 3}
    assert positions.lookup("a", ["flat"])[0] == 7
    assert positions.lookup("nobody", ["flat"])[0] is None


def test_the_lookup_gives_the_least_position_of_the_named_views(
    live: bootstrap.Container,
) -> None:
    # Given views that followed a write
    open_ticket(live)
    head = live.app.head()
    assert live.runner.wait_for(head, ["flat", "ticket_detail"], 15.0)
    positions = CallerPositions(live.views, Clock())
    # Then the lookup reports how far they got, the least of them
    reached = {s.view: s.position for s in live.runner.status()}
    _, both = positions.lookup("a", ["flat", "ticket_detail"])
    assert both == min(reached["flat"], reached["ticket_detail"]) == head
    assert positions.lookup("a", ["no_such_view"]) == (None, None)


def test_rows_older_than_a_day_expire_now_and_then_not_on_every_write(
    container: bootstrap.Container,
) -> None:
    clock = Clock()
    start = clock.now
    positions = CallerPositions(container.views, clock)
    # Given a caller's write, and another's almost a day later (when expiry last ran)
    positions.record("a", 1)
    clock.now = start + KEEP_SECONDS - 100
    positions.record("b", 2)
    # When a write comes when the first row is over a day old, but soon after that expiry
    clock.now = start + KEEP_SECONDS + 200
    positions.record("c", 3)
    # Then the row is still there: expiry does not run on every write
    assert rows(container) == {"a": 1, "b": 2, "c": 3}
    # And once the next expiry is due, only the rows from the last day remain
    clock.now = start + KEEP_SECONDS - 100 + EXPIRE_EVERY_SECONDS
    positions.record("d", 4)
    assert rows(container) == {"b": 2, "c": 3, "d": 4}
