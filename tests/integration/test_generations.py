"""View generations: a switch retires the old tables, a failing runner keeps going."""

from __future__ import annotations

import threading
import time

from ledgerdesk import bootstrap
from projections.base import Tables, current_tables
from projections.flat import FlatQuery, list_items
from tests.factories import open_ticket


def tracking(c: bootstrap.Container, view: str) -> dict[int, int]:
    with c.views.read() as tx:
        rows = tx.all(
            "SELECT generation, is_current FROM projection_tracking WHERE view = ?", (view,)
        )
    return {r["generation"]: r["is_current"] for r in rows}


def test_a_rebuild_retires_the_old_generation_until_the_next_rebuild(
    container: bootstrap.Container,
) -> None:
    open_ticket(container, title="Kept")
    container.runner.catch_up()
    container.runner.rebuild("flat")
    assert tracking(container, "flat") == {1: 2, 2: 1}
    with container.views.read() as tx:
        old, _ = list_items(tx, Tables(1), FlatQuery())
        new, _ = list_items(tx, current_tables(tx, "flat"), FlatQuery())
    assert [i["title"] for i in old] == [i["title"] for i in new] == ["Kept"]
    container.runner.rebuild("flat")
    assert tracking(container, "flat") == {2: 2, 3: 1}


def test_a_runner_that_fails_keeps_following_once_the_fault_clears(
    container: bootstrap.Container,
) -> None:
    runner = container.runner
    real_read = runner.log.read
    faults = {"left": 2}

    def flaky_read(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if faults["left"]:
            faults["left"] -= 1
            raise ConnectionError("database went away")
        return real_read(*args, **kwargs)  # type: ignore[arg-type]

    runner.log.read = flaky_read  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    open_ticket(container)
    thread.start()
    try:
        head = container.app.head()
        deadline = time.monotonic() + 20
        while runner.position("flat") < head:
            assert thread.is_alive(), "the runner thread died"
            assert time.monotonic() < deadline, "the runner never recovered"
            runner.wake.set()
            time.sleep(0.05)
        assert faults["left"] == 0
    finally:
        stop.set()
        runner.wake.set()
        thread.join(timeout=5)


def test_migrate_rebuilds_a_view_whose_schema_changed_and_leaves_the_others(
    container: bootstrap.Container,
) -> None:
    open_ticket(container, title="Kept")
    container.runner.catch_up()
    with container.views.write() as tx:  # As if the live `flat` came from an older release.
        tx.execute("UPDATE projection_tracking SET schema_version = 1 WHERE view = 'flat'")
    rebuilt = container.runner.migrate()
    assert rebuilt == ["flat"]
    assert tracking(container, "flat") == {1: 2, 2: 1}
    assert tracking(container, "ticket_detail") == {1: 1}
    assert container.runner.verify("flat") == []
    assert container.runner.migrate() == []
