"""The event store: tables only by migrate, snapshots for long-lived tickets."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from psycopg import ClientCursor

from commands.models import AssignUser, OpenTask, PostMessage, RetitleTicket
from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.conftest import BACKENDS, PG_URL, make_settings
from tests.factories import context, open_ticket, register


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_server_does_not_create_tables_and_fails_until_migrated(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    schema = request.getfixturevalue("pg_schema") if backend == "postgres" else None
    settings = make_settings(backend, tmp_path, schema)
    server = bootstrap.build(settings)
    try:
        with pytest.raises(PersistenceError) as raised:
            open_ticket(server)
        message = str(raised.value)
        assert "no such table" in message or "does not exist" in message
    finally:
        server.close()
    bootstrap.migrate(settings)
    migrated = bootstrap.build(settings)
    try:
        assert open_ticket(migrated) == 1
    finally:
        migrated.close()


def test_a_long_lived_ticket_loads_from_a_snapshot(container: bootstrap.Container) -> None:
    number = open_ticket(container)
    ada = register(container, "ada@example.com")
    container.commands.change_ticket(number, [AssignUser(user_id=ada)], context())
    for n in range(119):
        container.commands.change_ticket(
            number,
            [PostMessage(message_id=uuid.uuid4(), body=f"m{n}", visibility="internal")],
            context(),
        )
    assert container.app.snapshots is not None
    snapshots = list(container.app.snapshots.get(item_id(number), desc=True, limit=1))
    assert snapshots, "no snapshot was taken"
    assert snapshots[0].originator_version == 100
    fresh = bootstrap.build(container.settings)
    try:
        ticket = fresh.app.repository.get(item_id(number))
        assert ticket.version == 121
        assert len(ticket.message_visibility) == 119
        assert ticket.assignees == [str(ada)]
    finally:
        fresh.close()


def test_a_long_lived_task_loads_from_a_snapshot(container: bootstrap.Container) -> None:
    number = container.commands.open_task(
        OpenTask(title="Daily stand-up", start=date(2026, 12, 7)), context()
    ).number
    assert number is not None
    for n in range(59):
        container.commands.change_task(number, [RetitleTicket(title=f"Stand-up {n}")], context())
    assert container.app.snapshots is not None
    snapshots = list(container.app.snapshots.get(item_id(number), desc=True, limit=1))
    assert snapshots, "no snapshot was taken"
    assert snapshots[0].originator_version == 50
    fresh = bootstrap.build(container.settings)
    try:
        task = fresh.app.repository.get(item_id(number))
        assert (task.version, task.title, task.start) == (60, "Stand-up 58", "2026-12-07")
    finally:
        fresh.close()


def test_settings_choose_the_backend(settings: Settings) -> None:
    env = settings.event_store_env(create_table=False)
    assert env["CREATE_TABLE"] == "n"
    expected = "eventsourcing.postgres" if settings.is_postgres else "eventsourcing.sqlite"
    assert env["PERSISTENCE_MODULE"] == expected


def test_a_failed_snapshot_does_not_fail_the_committed_save(
    container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = open_ticket(container)
    snapshots = container.app.snapshots
    assert snapshots is not None

    def broken_put(*args: object, **kwargs: object) -> None:
        raise OSError("snapshot store unavailable")

    monkeypatch.setattr(snapshots, "put", broken_put)
    for n in range(49):
        result = container.commands.change_ticket(
            number,
            [PostMessage(message_id=uuid.uuid4(), body=f"m{n}", visibility="internal")],
            context(),
        )
    assert result.version == 50
    assert len(container.commands.ticket_events(number)) == 50


@pytest.mark.postgres
def test_catching_up_a_batchs_kept_aggregates_looks_up_each_by_index_however_long_the_log(
    pg_schema: str, tmp_path: Path
) -> None:
    """The group commit's one read per batch (`select_after`) is a prepared statement, which
    PostgreSQL soon runs with one plan for any values: that plan must look each id up in
    the events' index, never scan the whole log (a cost that would grow with every event)."""
    settings = make_settings("postgres", tmp_path, pg_schema)
    bootstrap.migrate(settings)
    server = bootstrap.build(settings)
    try:
        for _ in range(300):
            open_ticket(server)
        recorder = server.app.recorder
        kept = {item_id(1): 0, item_id(2): 0}
        found, head = recorder.select_after(kept)  # (renders the statement it prepares)
        assert set(found) == set(kept)
        assert head == server.app.head() > 0
        statement = recorder._select_after_statement.decode()
        # (on a connection of its own: the pool's must not keep a generic-plan setting)
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"SET search_path = {pg_schema}")
            conn.execute(f"ANALYZE {pg_schema}.ledgerdesk_events")
            conn.execute("SET plan_cache_mode = force_generic_plan")
            conn.execute(
                "PREPARE after_versions AS "
                + statement.replace("%b", "$1", 1).replace("%b", "$2", 1)
            )
            explain = ClientCursor(conn)
            explain.execute(
                "EXPLAIN (FORMAT JSON) EXECUTE after_versions(%s::uuid[], %s::bigint[])",
                (list(kept), list(kept.values())),
            )
            plan = explain.fetchone()
        assert plan is not None
        text = str(plan)
        assert "Seq Scan" not in text, text
        assert "ledgerdesk_events_pkey" in text, text
    finally:
        server.close()
