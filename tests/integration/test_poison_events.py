"""One event a view cannot apply stops that view only: it is recorded as failed (status,
health), retried on its own with back-off, and recovers once the cause is gone, while every
other view goes on following the log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from commands.customers import RegisterContact
from commands.models import OpenTicket
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.customers import get_contact
from projections.db import PostgresViews
from projections.failures import ViewFailedError
from projections.flat import FlatQuery, list_items
from tests.conftest import make_settings, wait_until
from tests.factories import (
    SYSTEM,
    admin_token,
    context,
    open_ticket,
    repair_stored_event,
    unprojectable_rename,
)


def contact(c: bootstrap.Container, email: str, name: str) -> uuid.UUID:
    return c.customers.register_contact(RegisterContact(email=email, name=name), SYSTEM).id


def contact_row(c: bootstrap.Container, contact_id: uuid.UUID) -> dict[str, Any] | None:
    with c.views.read() as tx:
        return get_contact(tx, current_tables(tx, "customers"), str(contact_id))


def flat_titles(c: bootstrap.Container) -> list[str]:
    with c.views.read() as tx:
        items, _ = list_items(tx, current_tables(tx, "flat"), FlatQuery())
    return [i["title"] for i in items]


@pytest.fixture
def quick(live: bootstrap.Container) -> bootstrap.Container:
    """The live container, its failing views retried within a fraction of a second."""
    live.runner.retries.base = 0.02
    live.runner.retries.cap = 0.2
    return live


def test_a_view_that_cannot_apply_an_event_fails_alone_and_recovers_once_it_is_repaired(
    quick: bootstrap.Container,
) -> None:
    c = quick
    runner = c.runner
    everything = list(runner.projections)
    # Given a contact, and every view following the log
    ada = contact(c, "ada@acme.example", "Ada")
    before = c.app.head()
    assert runner.wait_for(before, everything, 15)

    # When an event the `customers` view cannot apply is in the log
    poison = unprojectable_rename(c, ada)

    # Then `customers` is recorded as failed, stuck just before it, naming the error
    wait_until(lambda: bool(runner.failures()), what="the failure to be recorded")
    (failure,) = runner.failures()
    assert failure.view == "customers"
    assert failure.position == before
    assert "dict" in failure.error
    assert failure.attempts >= 1
    assert failure.first_failed_at <= failure.last_failed_at
    status = {s.view: s for s in runner.status()}
    assert status["customers"].failure == failure
    assert status["customers"].position == before
    assert all(s.failure is None for s in status.values() if s.view != "customers")

    # And health says degraded (still 200), naming the view, its position and (to an admin)
    # the error
    with TestClient(c.http_app()) as http:
        health = http.get("/api/v1/health", headers={"Authorization": f"Bearer {admin_token(c)}"})
        ready = http.get("/api/v1/health/ready")
    assert health.status_code == 200
    # (while readiness says 503, naming the view but never its error)
    assert ready.status_code == 503
    assert ready.json()["failed_views"] == ["customers"]
    assert ready.json()["checks"]["views"] == "failed"
    assert failure.error not in ready.text
    assert health.json()["status"] == "degraded"
    (shown,) = health.json()["failed_views"]
    assert (shown["view"], shown["position"], shown["error"]) == (
        "customers",
        before,
        failure.error,
    )

    # And every other view goes on: a later ticket reaches them all
    open_ticket(c, title="Written after the poison")
    grace = contact(c, "grace@acme.example", "Grace")
    head = c.app.head()
    assert runner.wait_for(head, [v for v in everything if v != "customers"], 15)
    assert "Written after the poison" in flat_titles(c)
    # While `customers` stays where it was, retried again and again
    wait_until(lambda: runner.failures()[0].attempts >= 3, what="retries")
    assert runner.position("customers") == before
    assert contact_row(c, grace) is None

    # When the event is repaired
    repair_stored_event(c.settings, ada, poison_version(c, ada), name="Ada Lovelace")

    # Then `customers` catches up by itself, and its failure is cleared
    assert runner.wait_for(head, ["customers"], 15)
    assert runner.failures() == []
    assert contact_row(c, ada)["name"] == "Ada Lovelace"  # type: ignore[index]
    assert contact_row(c, grace) is not None
    assert poison <= runner.position("customers")
    with TestClient(c.http_app()) as http:
        assert http.get("/api/v1/health").json() == {"status": "ok"}


def poison_version(c: bootstrap.Container, contact_id: uuid.UUID) -> int:
    """The version of the contact's last event (the poison, in these tests)."""
    return int(c.app.repository.get(contact_id).version)


def test_a_rebuild_that_meets_the_event_fails_naming_view_position_and_error(
    container: bootstrap.Container,
) -> None:
    c = container
    # Given a caught-up `customers` view, then an event it cannot apply
    ada = contact(c, "ada@acme.example", "Ada")
    c.runner.catch_up()
    before = c.app.head()
    unprojectable_rename(c, ada)
    live = c.runner.status()

    # When the view is rebuilt
    with pytest.raises(ViewFailedError) as raised:
        c.runner.rebuild("customers")

    # Then the rebuild stops at the event (not hanging, not retrying), naming it
    assert raised.value.view == "customers"
    assert raised.value.position == before
    assert "dict" in raised.value.error
    assert f"after position {before}" in str(raised.value)
    # And the live generation is as it was, with no half-built one left behind
    assert c.runner.status() == live
    with c.views.read() as tx:
        generations = tx.all("SELECT generation FROM projection_tracking WHERE view = 'customers'")
    assert [g["generation"] for g in generations] == [1]


def test_catch_up_raises_while_follow_records_and_goes_on(container: bootstrap.Container) -> None:
    # Given an event `customers` cannot apply, and a ticket after it
    c = container
    unprojectable_rename(c, contact(c, "ada@acme.example", "Ada"))
    open_ticket(c, title="After")
    # Then `catch_up` (for tests and tools) fails loudly on the failing view
    with pytest.raises(Exception, match="dict"):
        c.runner.catch_up(["customers"])
    # While `follow` (the runner's loop) records it and brings every other view to the head
    assert c.runner.follow(list(c.runner.projections)) is False
    assert [f.view for f in c.runner.failures()] == ["customers"]
    assert c.runner.position("flat") == c.app.head()
    assert flat_titles(c) == ["After"]


def test_an_event_with_nul_already_in_the_log_is_projected(
    container: bootstrap.Container,
) -> None:
    # Given a ticket titled with NUL, recorded without the API (as it could be before the
    # API refused NUL)
    c = container
    token = admin_token(c)
    number = c.commands.open_ticket(OpenTicket(title="help\x00me"), context()).number

    # When the views follow the log
    assert c.runner.follow(list(c.runner.projections))

    # Then no view fails; PostgreSQL's view text shows U+FFFD where the event had NUL
    assert c.runner.failures() == []
    expected = "help\ufffdme" if c.settings.is_postgres else "help\x00me"
    assert flat_titles(c) == [expected]
    with TestClient(c.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        listed = http.get("/api/v1/views/flat").json()["items"]
        detail = http.get(f"/api/v1/tickets/{number}")
    assert [i["title"] for i in listed] == [expected]
    assert detail.status_code == 200, detail.text


@pytest.fixture
def pg_container(pg_schema: str, tmp_path: Path) -> Iterator[bootstrap.Container]:
    settings = make_settings("postgres", tmp_path, pg_schema)
    bootstrap.migrate(settings)
    built = bootstrap.build(settings)
    built.runner.retries.base = 0.02
    built.runner.retries.cap = 0.2
    yield built
    built.close()


@pytest.mark.postgres
def test_views_whose_connections_are_cut_recover_by_themselves(
    pg_container: bootstrap.Container,
) -> None:
    # Given every view following the log on PostgreSQL
    c = pg_container
    c.follow()
    open_ticket(c, title="Before")
    everything = list(c.runner.projections)
    assert c.runner.wait_for(c.app.head(), everything, 15)
    assert isinstance(c.views, PostgresViews)

    # When the server cuts every connection the views hold (as a restart or failover would)
    assert c.settings.database_url is not None
    with psycopg.connect(c.settings.database_url, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (c.views.application_name,),
        ).fetchone()
    assert cut is not None
    assert cut[0] >= 1

    # Then a ticket written afterwards reaches every view, and no failure is left recorded
    open_ticket(c, title="After the cut")
    assert c.runner.wait_for(c.app.head(), everything, 20)
    assert flat_titles(c) == ["After the cut", "Before"]
    wait_until(lambda: c.runner.failures() == [], what="failures to clear")


@pytest.mark.postgres
def test_reads_and_writes_after_the_server_cut_the_pooled_connections_do_not_fail(
    pg_container: bootstrap.Container,
) -> None:
    # Given views whose pool holds several idle connections
    c = pg_container
    views = c.views
    assert isinstance(views, PostgresViews)
    with ExitStack() as held:
        for _ in range(4):
            held.enter_context(views.read())
    idle = views.pool.get_stats()["pool_size"]
    assert idle >= 4

    # When the server cuts them all while they sit in the pool (a restart, a failover)
    assert c.settings.database_url is not None
    with psycopg.connect(c.settings.database_url, autocommit=True) as admin:
        admin.execute(
            # (waiting up to 5 s for each to be gone)
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (views.application_name,),
        )

    # Then every read and write after it gets a live connection: none fails
    for _ in range(idle + 1):
        with views.read() as tx:
            assert tx.one("SELECT 1 AS one") == {"one": 1}
    with views.write() as tx:
        tx.execute("SELECT 1")
