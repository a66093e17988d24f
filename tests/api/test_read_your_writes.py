"""Read-your-writes by default, in-process on both backends: after a write, the same
caller's reads see it without sending X-Min-Position (the runner follows in threads)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from commands.models import IssueToken
from ledgerdesk import bootstrap
from projections.failures import record_failure
from tests import read_your_writes as scenario
from tests.factories import SYSTEM, admin_token

EMAIL = "admin@example.com"  # The `client` fixture's admin.


def test_a_new_task_is_at_its_location_at_once(client: TestClient) -> None:
    scenario.a_new_task_is_at_its_location_at_once(client, client)


def test_a_converted_ticket_redirects_at_once(client: TestClient) -> None:
    scenario.a_converted_ticket_redirects_at_once(client, client)


def test_logged_time_shows_on_the_ticket_at_once(client: TestClient) -> None:
    scenario.logged_time_shows_on_the_ticket_at_once(client, client)


def test_imported_time_is_listed_at_once(client: TestClient) -> None:
    scenario.imported_time_is_listed_at_once(client, client, EMAIL)


def test_a_customer_reads_their_own_portal_writes_at_once(client: TestClient) -> None:
    # Given a customer with a portal session
    contact = scenario.ok(client.post("/api/v1/contacts", json={"email": "cy@example.com"}), 201)
    invited = client.post(f"/api/v1/contacts/{contact['id']}/portal-invitations")
    redeemed = client.post(
        "/api/v1/portal/session", json={"invitation": invited.json()["invitation"]}, headers={}
    )
    customer = {"Authorization": f"Bearer {scenario.ok(redeemed, 201)['access_token']}"}
    for n in range(scenario.REPEAT // 3):
        # When they open a ticket and reply on it, then read it at once
        opened = client.post(
            "/api/v1/portal/tickets", json={"title": f"Locked out {n}"}, headers=customer
        )
        scenario.ok(opened, 201)
        got = client.get(opened.headers["Location"], headers=customer)
        # Then they see it, and then their reply
        assert got.status_code == 200, (n, got.text)
        scenario.assert_fresh(got)
        path = f"{opened.headers['Location']}/messages"
        scenario.ok(client.post(path, json={"body": f"Still locked {n}"}, headers=customer), 201)
        messages = scenario.ok(client.get(opened.headers["Location"], headers=customer))["messages"]
        assert [m["body"] for m in messages] == [f"Still locked {n}"]


def test_another_callers_write_is_seen_with_its_position_and_the_higher_wins(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given two more tokens of the same admin: two other callers
    other, third = (
        {"Authorization": f"Bearer {live.accounts.issue_token(IssueToken(email=EMAIL), SYSTEM)[1]}"}
        for _ in range(2)
    )
    for n in range(scenario.REPEAT // 3):
        # When another caller opens a ticket, and then this one does
        theirs = client.post("/api/v1/tickets", json={"title": f"Theirs {n}"}, headers=other)
        number = scenario.ok(theirs, 201)["number"]
        position = {"X-Min-Position": theirs.headers["X-Log-Position"]}
        mine = scenario.open_ticket(client, f"Mine {n}")
        # Then this caller, sending the other's (lower) position, still sees its own write
        own = client.get(f"/api/v1/tickets/{mine}", headers=position)
        assert (own.status_code, own.headers["X-View-Fresh"]) == (200, "true"), own.text
        # And a caller that wrote nothing sees the other's write by its position
        seen = client.get(f"/api/v1/tickets/{number}", headers={**third, **position})
        assert (seen.status_code, seen.headers["X-View-Fresh"]) == (200, "true"), seen.text


def test_a_caller_with_no_writes_does_not_wait(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a token that has written nothing
    token = live.accounts.issue_token(IssueToken(email=EMAIL), SYSTEM)[1]
    scenario.open_ticket(client)
    # When it reads a view
    listed = client.get("/api/v1/views/flat", headers={"Authorization": f"Bearer {token}"})
    # Then there was nothing to wait for
    assert listed.status_code == 200
    assert "X-View-Fresh" not in listed.headers


def test_logging_out_is_a_write_that_answers_its_position(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a token
    token = live.accounts.issue_token(IssueToken(email=EMAIL), SYSTEM)[1]
    head = live.app.head()
    # When it logs out
    out = client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"})
    # Then the answer carries the position of the revocation, as every write's does
    assert out.status_code == 204
    assert int(out.headers["X-Log-Position"]) == live.app.head() > head


def test_a_position_past_the_log_is_refused_without_waiting(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a log with a ticket in it
    scenario.open_ticket(client)
    # When a read asks for a position the log has not reached (none was ever given out)
    ahead = {"X-Min-Position": str(live.app.head() + 1000)}
    read = client.get("/api/v1/views/flat", headers=ahead)
    # Then it is refused, naming the header, rather than waiting out the timeout
    assert read.status_code == 422, read.text
    assert "X-Min-Position" in read.json()["detail"]
    # And the log head itself is a position a read may wait for
    at_head = client.get("/api/v1/views/flat", headers={"X-Min-Position": str(live.app.head())})
    assert (at_head.status_code, at_head.headers["X-View-Fresh"]) == (200, "true")


def test_nobody_waits_who_is_not_signed_in(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a view that has not reached the head (as far as this read can tell)
    scenario.open_ticket(client)
    position = str(live.app.head())

    def no_wait(*args: object, **kwargs: object) -> bool:
        raise AssertionError("an unauthenticated request waited for the views")

    monkeypatch.setattr(live.runner, "wait_for", no_wait)
    monkeypatch.setattr(live.positions, "lookup", lambda caller, views: (None, 0))
    # When requests without a valid token ask for a position
    for credential in ("Bearer ld_forged_token", "Bearer ldc_forged_session", "Basic eA=="):
        read = client.get(
            "/api/v1/contacts", headers={"Authorization": credential, "X-Min-Position": position}
        )
        # Then they are refused without waiting first
        assert read.status_code == 401, read.text


def test_a_read_does_not_wait_for_a_view_that_has_failed(live: bootstrap.Container) -> None:
    # Given a view recorded as failed, short of the head
    with live.views.write() as tx:
        record_failure(tx, "customers", RuntimeError("broken"))
    # When a reader waits for it, however long it would wait
    reached = live.runner.wait_for(live.app.head() + 1, ["customers"], 3600, until_failed=True)
    # Then it returns at once, not there
    assert reached is False


def test_a_404_after_a_wait_says_the_view_may_be_behind(container: bootstrap.Container) -> None:
    # Given views that nothing follows (no runner), one of them recorded as failed
    container.runner.catch_up()
    with container.views.write() as tx:
        record_failure(tx, "customers", RuntimeError("broken"))
    with TestClient(container.http_app()) as client:
        client.headers["Authorization"] = f"Bearer {admin_token(container)}"
        created = client.post("/api/v1/customers", json={"name": "Acme"})
        assert created.status_code == 201, created.text
        # When the caller reads what it just created and the view cannot show it
        read = client.get(created.headers["Location"])
    # Then the 404 says the view may be behind, so it is not taken for a real one
    assert read.status_code == 404, read.text
    assert read.headers["X-View-Fresh"] == "false"
