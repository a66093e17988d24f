"""Rebuilds in parallel processes on PostgreSQL, rows kept in memory while a rebuild builds
them, and audits that stream both generations side by side (ADR 0014)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from commands.models import (
    AddDependency,
    ChangeTicketStatus,
    Context,
    RemoveDependency,
    RetitleTicket,
)
from commands.timesheet_entries import LogTime
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.rebuilds import in_parallel, rebuild_runner
from ledgerdesk.settings import Settings
from projections import db as views_db
from projections import rebuild_processes
from projections.db import RowCache
from projections.generations import RebuildError
from projections.rebuild_processes import RebuildProcesses
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.conftest import make_settings
from tests.factories import context, open_ticket, register, unprojectable_rename
from tests.projections.test_bulk_rebuild import _helpdesk, contact
from tests.view_tables import generations, live_rows


@pytest.fixture
def pg_container(tmp_path: Path, pg_schema: str) -> Iterator[bootstrap.Container]:
    """A migrated install on PostgreSQL (where rebuilds may use several processes)."""
    settings = make_settings("postgres", tmp_path, pg_schema)
    bootstrap.migrate(settings)
    built = bootstrap.build(settings)
    yield built
    built.close()


class _Children:
    """Counts the rebuild processes started (in this, the parent, process)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.groups: list[list[str]] = []
        real = rebuild_processes._Child
        children = self

        class Counted(real):  # type: ignore[misc, valid-type]
            def __init__(self, factory: Any, page_size: int, targets: Any) -> None:
                children.groups.append([t.projection.name for t in targets])
                super().__init__(factory, page_size, targets)

        monkeypatch.setattr(rebuild_processes, "_Child", Counted)


def _convert(c: bootstrap.Container, *numbers: int) -> list[int]:
    """Tickets become tasks, which then move on; their numbers."""
    tasks = []
    for number in numbers:
        task = c.commands.convert_ticket(number, context()).number
        assert task is not None
        change = [ChangeTicketStatus(status="In progress"), RetitleTicket(title=f"Task {task}")]
        c.commands.change_item(task, change, context())
        tasks.append(task)
    return tasks


def _more_tickets(c: bootstrap.Container, count: int) -> None:
    for i in range(count):
        open_ticket(c, title=f"Meanwhile {i}")


def _in_processes(c: bootstrap.Container, processes: int = 2) -> None:
    """Share every rebuild of `c` out between processes, however small the log."""
    c.runner.processes = RebuildProcesses(
        partial(rebuild_runner, c.settings), processes, events_per_process=0
    )


def test_parallel_rebuild_equals_one_process_and_the_live_path(
    container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given every view caught up by the live path, a page of 2 at a time
    c = container
    _helpdesk(c)
    _convert(c, 3, 4)
    live = ProjectionRunner(c.runner.log, c.views, all_projections(), page_size=2)
    live.catch_up()
    views = list(live.projections)
    before = {name: live_rows(c, name) for name in views}

    # When every view is rebuilt in one process, then again shared out between processes
    # (on PostgreSQL; SQLite has one writer, so its rebuilds stay in this process)
    c.runner.rebuild_page_size = 7
    assert c.runner.rebuild_many(views) == {name: 2 for name in views}
    one_process = {name: live_rows(c, name) for name in views}
    in_parallel(c.runner, c.settings, processes=2)
    children = _Children(monkeypatch)
    if c.settings.is_postgres:
        assert c.runner.processes is not None
        _in_processes(c, processes=3)
    else:
        assert c.runner.processes is None
    rebuilt = c.runner.rebuild_many(views)

    # Then every view switched again, at the head, with the live path's rows byte for byte
    assert rebuilt == {name: 3 for name in views}
    for name in views:
        assert one_process[name] == before[name], name
        assert live_rows(c, name) == before[name], name
        assert generations(c, name) == [(2, 2), (3, 1)], name
        assert c.runner.position(name) == c.app.head(), name
    # And on PostgreSQL two child processes built two groups, between them every view but
    # the parent's own group
    if c.settings.is_postgres:
        assert len(children.groups) == 2
        built_elsewhere = [name for group in children.groups for name in group]
        assert len(built_elsewhere) == len(set(built_elsewhere)) < len(views)
    else:
        assert children.groups == []
    # And a parallel audit finds nothing
    assert c.runner.verify_many(views) == {name: [] for name in views}


@pytest.mark.postgres
def test_a_view_that_fails_in_a_rebuild_process_fails_alone_at_its_position(
    pg_container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given caught-up views, then an event `customers` cannot apply, then another ticket
    c = pg_container
    _helpdesk(c)
    ada = contact(c, "ada@acme.example", "Ada")
    c.runner.catch_up()
    before = c.app.head()
    unprojectable_rename(c, ada)
    open_ticket(c, title="After the poison")
    c.runner.catch_up(["flat"])
    flat_before = live_rows(c, "flat")

    # When two views are rebuilt in two processes (the lighter, `customers`, in the child)
    _in_processes(c)
    children = _Children(monkeypatch)
    with pytest.raises(RebuildError) as raised:
        c.runner.rebuild_many(["flat", "customers"])

    # Then the child's failure names the view, the exact position and the error
    assert children.groups == [["customers"]]
    error = raised.value
    assert set(error.failures) == {"customers"}
    assert (error.view, error.position) == ("customers", before)
    assert "dict" in error.failures["customers"].error
    # And the other view was rebuilt past it and switched over
    assert error.rebuilt == {"flat": 2}
    assert live_rows(c, "flat") == flat_before
    # While the failed view keeps its live generation, with nothing half-built left behind
    assert generations(c, "customers") == [(1, 1)]


def _dies() -> Any:
    """A rebuild process's runner that cannot be made (as when the database is gone)."""
    raise SystemExit(3)


@pytest.mark.postgres
def test_a_rebuild_process_that_dies_fails_its_own_views_only(
    pg_container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given caught-up views
    c = pg_container
    _helpdesk(c)
    c.runner.catch_up()
    flat_before = live_rows(c, "flat")

    # When two views are rebuilt in two processes and the child dies
    c.runner.processes = RebuildProcesses(_dies, 2, events_per_process=0)
    children = _Children(monkeypatch)
    with pytest.raises(RebuildError) as raised:
        c.runner.rebuild_many(["flat", "customers"])

    # Then the child's view fails, saying so, and keeps its live generation (its new one
    # dropped); the view built here is switched over
    assert children.groups == [["customers"]]
    error = raised.value
    assert set(error.failures) == {"customers"}
    assert "exited with status 3" in error.failures["customers"].error
    assert error.rebuilt == {"flat": 2}
    assert live_rows(c, "flat") == flat_before
    assert generations(c, "customers") == [(1, 1)]


def test_migrate_rebuilds_the_views_whose_schema_changed_in_parallel_processes(
    pg_container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an install whose flat and portal views came from an older release
    c = pg_container
    _helpdesk(c)
    c.runner.catch_up()
    with c.views.write() as tx:
        tx.execute(
            "UPDATE projection_tracking SET schema_version = 1"
            " WHERE view IN ('flat', 'portal') AND is_current = 1"
        )
    # (however small the log, each group of views gets a process)
    real = bootstrap.in_parallel

    def eager(runner: ProjectionRunner, settings: Settings) -> None:
        real(runner, settings, processes=2)
        assert isinstance(runner.processes, RebuildProcesses)
        runner.processes = replace(runner.processes, events_per_process=0)

    monkeypatch.setattr(bootstrap, "in_parallel", eager)
    children = _Children(monkeypatch)

    # When it is migrated
    bootstrap.migrate(c.settings)

    # Then one of the two views was rebuilt by a rebuild process, and both equal the log
    assert [len(group) for group in children.groups] == [1]
    assert generations(c, "flat")[-1] == (2, 1)
    assert generations(c, "portal")[-1] == (2, 1)
    assert c.runner.verify("flat") == []
    assert c.runner.verify("portal") == []


def test_sqlite_rebuilds_stay_in_one_process(tmp_path: Path) -> None:
    settings = make_settings("sqlite", tmp_path)
    runner = ProjectionRunner(
        log=None,  # type: ignore[arg-type]
        db=views_db.open_views(settings.views_dsn()),
        projections=[],
    )
    in_parallel(runner, settings, processes=4)
    assert runner.processes is None
    runner.db.close()


def test_postgres_rebuilds_use_a_process_per_core_at_most_four(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://nowhere/db")
    runner = ProjectionRunner(
        log=None,  # type: ignore[arg-type]
        db=views_db.open_views("sqlite:///" + str(tmp_path / "v.sqlite3")),
        projections=[],
    )
    in_parallel(runner, settings, processes=3)
    assert isinstance(runner.processes, RebuildProcesses)
    assert runner.processes.processes == 3
    runner.db.close()


# --- rows kept in memory while rebuilding ----------------------------------------------------


def test_row_cache_keeps_the_most_recently_used_and_knows_when_it_is_complete() -> None:
    cache = RowCache(limit=2)
    cache.keep({"a": 1, "b": 2})
    # Complete: a key it lacks is a row the table lacks, so nothing needs reading
    assert cache.take(["a", "c"]) == ({"a": 1}, [])
    cache.keep({"c": 3})  # "b" was used least recently: it goes, and the cache is partial
    assert not cache.complete
    assert cache.take(["a", "b", "c", "d"], new={"d"}) == ({"a": 1, "c": 3}, ["b"])
    cache.forget(["a"])
    assert cache.take(["a"]) == ({}, ["a"])


def test_a_rebuild_that_outgrows_its_row_cache_reads_rows_back(
    container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given views caught up by the live path, over tickets of which some became tasks
    # that then moved on
    c = container
    _helpdesk(c, tickets=12)
    first, second, third = _convert(c, 2, 5, 9)
    # (and depend on one another, the links changed pages apart)
    c.commands.change_task(second, [AddDependency(predecessor=first)], context())
    _more_tickets(c, 3)
    c.commands.change_task(third, [AddDependency(predecessor=first)], context())
    # (the other two tasks move on, so that a rebuild keeping two bars lets `third` go and
    # must read it back with its link)
    for task in (first, second):
        c.commands.change_item(task, [RetitleTicket(title=f"Task {task}, renamed")], context())
    _more_tickets(c, 3)
    c.commands.change_task(third, [AddDependency(predecessor=second)], context())
    _more_tickets(c, 2)
    c.commands.change_task(third, [RemoveDependency(predecessor=second)], context())
    # (and time logged on items opened pages before, one of them then converted)
    staff = Context(
        actor=Actor.user(register(c, "carol@example.com", admin=True)), correlation_id="t"
    )
    for item in (1, 3, first):
        c.timesheets.log(LogTime(item=item, work_date=date(2026, 3, 2), minutes=30), staff)
    c.commands.convert_ticket(3, context())
    c.runner.catch_up()
    views = list(c.runner.projections)
    before = {name: live_rows(c, name) for name in views}
    assert len(before["gantt"]["gantt_links"]) == 2
    assert len(before["timesheets"]["timesheet_entries"]) == 3

    # When they are rebuilt, pages of 5 events, keeping at most 2 rows per table in memory
    monkeypatch.setattr(views_db, "ROW_CACHE_LIMIT", 2)
    bulk = ProjectionRunner(c.runner.log, c.views, all_projections(), rebuild_page_size=5)
    bulk.rebuild_many(views)

    # Then the rows evicted were read back: the rows are the live path's
    for name in views:
        assert live_rows(c, name) == before[name], name


# --- audits stream both generations ---------------------------------------------------------


def test_audit_reports_a_differing_row_and_a_missing_one_streaming_in_small_batches(
    container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given caught-up views, the audit streaming 2 rows at a time
    c = container
    _helpdesk(c)
    c.runner.catch_up()
    monkeypatch.setattr(views_db, "STREAM_BATCH", 2)
    assert c.runner.verify_many(["flat", "ticket_detail"]) == {"flat": [], "ticket_detail": []}

    # When one live row is edited by hand
    with c.views.write() as tx:
        tx.execute("UPDATE flat_items_g1 SET title = 'tampered' WHERE number = 5")
    found = c.runner.verify_many(["flat", "ticket_detail"])

    # Then the audit names that row, against its rebuilt one, and nothing else
    assert found["ticket_detail"] == []
    (difference,) = found["flat"]
    assert "flat.flat_items: live" in difference
    assert "'tampered'" in difference
    assert "'Ticket 4, retitled'" in difference

    # And when two live rows are gone, the counts say so
    with c.views.read() as tx:
        rows = len(tx.all("SELECT * FROM flat_item_assignees_g1"))
    with c.views.write() as tx:
        tx.execute(
            "DELETE FROM flat_item_assignees_g1 WHERE item_id IN"
            " (SELECT id FROM flat_items_g1 WHERE number = 2)"
        )
    found = c.runner.verify_many(["flat"])
    counts = f"flat.flat_item_assignees: {rows - 2} live rows, {rows} rebuilt"
    assert counts in found["flat"]


def test_stream_reads_rows_a_batch_at_a_time_two_tables_side_by_side(
    container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views_db, "STREAM_BATCH", 2)
    with container.views.write() as tx:
        tx.execute("CREATE TABLE stream_a (id INTEGER PRIMARY KEY, v TEXT)")
        tx.execute("CREATE TABLE stream_b (id INTEGER PRIMARY KEY, v TEXT)")
        tx.executemany(
            "INSERT INTO stream_a (id, v) VALUES (?, ?)", [(i, f"a{i}") for i in range(7)]
        )
        tx.executemany(
            "INSERT INTO stream_b (id, v) VALUES (?, ?)", [(i, f"b{i}") for i in range(5)]
        )
    with container.views.bulk() as tx:
        a = tx.stream("SELECT * FROM stream_a ORDER BY id")
        b = tx.stream("SELECT * FROM stream_b ORDER BY id")
        pairs = [(next(a), next(b)) for _ in range(5)]
        if tx.dialect == "postgres":  # Server-side cursors, open while they are read.
            assert tx.all("SELECT count(*) AS n FROM pg_cursors") == [{"n": 2}]
        rest = list(a)
    assert [(x["v"], y["v"]) for x, y in pairs] == [(f"a{i}", f"b{i}") for i in range(5)]
    assert [r["v"] for r in rest] == ["a5", "a6"]
    with container.views.write() as tx:
        tx.execute("DROP TABLE stream_a")
        tx.execute("DROP TABLE stream_b")


# --- indexes built after the rows --------------------------------------------------------


def _indexes(c: bootstrap.Container, table: str) -> set[str]:
    """The names of `table`'s indexes, without its generation suffix."""
    with c.views.read() as tx:
        if tx.dialect == "postgres":
            rows = tx.all(
                "SELECT indexname AS name FROM pg_indexes"
                " WHERE schemaname = current_schema() AND tablename = ?",
                (table,),
            )
        else:
            rows = tx.all(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL",
                (table,),
            )
    return {r["name"].replace(table, "T") for r in rows if "pkey" not in r["name"]}


def test_a_rebuilt_view_has_the_indexes_of_a_new_one_built_after_its_rows(
    container: bootstrap.Container,
) -> None:
    # Given views made by `migrate` (each index made with its table) and caught up
    c = container
    _helpdesk(c, tickets=3)
    c.runner.catch_up()
    made = {name: _indexes(c, name + "_g1") for name in ("flat_items", "item_history_entries")}
    assert len(made["flat_items"]) >= 11

    # When they are rebuilt (their secondary indexes left until the rows are in)
    c.runner.rebuild_many(["flat", "item_history"])

    # Then the new generation has every index the first one has
    for table, indexes in made.items():
        assert _indexes(c, table + "_g2") == indexes, table
    # And an audit (whose tables are compared by key, then dropped) finds nothing
    assert c.runner.verify_many(["flat", "item_history"]) == {"flat": [], "item_history": []}
