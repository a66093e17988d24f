"""`/metrics` as an operator's Prometheus scrapes it: closed until a token or an address is
set, then requests by route template and status, commands by name and outcome, events by
type, every view's position, lag and failure, and the outbox's backlog."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from commands import metrics
from commands.customers import RegisterContact
from ledgerdesk import bootstrap
from tests.conftest import wait_until
from tests.factories import SYSTEM, open_ticket, unprojectable_rename
from tests.scraped import Samples, has, samples, total, value

TOKEN = "scrape-me-0123456789abcdef"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def scraper(live: bootstrap.Container) -> Iterator[TestClient]:
    """A client of an app that knows the metrics token (the scraper sends it)."""
    with TestClient(create_app(replace(live.services(), metrics_token=TOKEN))) as http:
        yield http


def scrape(http: TestClient) -> Samples:
    answer = http.get("/metrics", headers=SCRAPER)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return samples(answer.text)


def test_metrics_are_closed_until_a_token_or_an_address_is_set(client: TestClient) -> None:
    answer = client.get("/metrics", headers=SCRAPER)
    assert answer.status_code == 403
    problem = answer.json()
    assert problem["type"].endswith("/problems/metrics-forbidden")
    assert "LEDGERDESK_METRICS_TOKEN" in problem["detail"]
    assert "LEDGERDESK_METRICS_ADDRESSES" in problem["detail"]
    assert "ledgerdesk_" not in answer.text


def test_a_wrong_token_or_a_staff_token_is_refused(scraper: TestClient) -> None:
    wrong = scraper.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    none = scraper.get("/metrics")
    for refused in (wrong, none):
        assert refused.status_code == 403
        assert "metrics token" in refused.json()["detail"]
        assert TOKEN not in refused.text


def test_an_operator_address_needs_no_token(live: bootstrap.Container) -> None:
    nets = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))
    open_to = replace(live.services(), metrics_networks=nets)
    with TestClient(create_app(open_to), client=("10.1.2.3", 41000)) as inside:
        assert inside.get("/metrics").status_code == 200
    with TestClient(create_app(open_to), client=("::ffff:10.9.9.9", 41000)) as mapped:
        assert mapped.get("/metrics").status_code == 200
    with TestClient(create_app(open_to), client=("192.0.2.7", 41000)) as outside:
        refused = outside.get("/metrics")
    assert refused.status_code == 403
    assert "LEDGERDESK_METRICS_ADDRESSES" in refused.json()["detail"]


def test_a_scrape_counts_requests_commands_events_and_reads_views_and_outbox(
    live: bootstrap.Container, client: TestClient, scraper: TestClient
) -> None:
    before = scrape(scraper)
    opened = client.post("/api/v1/tickets", json={"title": "Metered"})
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]
    refused = client.patch(f"/api/v1/tickets/{number}", json={"status": "no-such-status"})
    assert refused.status_code in (409, 422), refused.text
    client.get("/api/v1/tickets/999999")
    head = live.app.head()
    wait_until(lambda: all(v.position >= head for v in live.runner.status()), what="views")
    after = scrape(scraper)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("ledgerdesk_http_requests_total", method="POST", route="/api/v1/tickets",
                status="201") == 1  # fmt: skip
    assert grew("ledgerdesk_http_requests_total", method="GET",
                route="/api/v1/tickets/{number}", status="404") == 1  # fmt: skip
    assert grew("ledgerdesk_http_request_duration_seconds_count", method="POST",
                route="/api/v1/tickets", status="2xx") == 1  # fmt: skip
    assert grew("ledgerdesk_commands_total", command="CommandService.open_ticket",
                outcome="saved") >= 1  # fmt: skip
    assert grew("ledgerdesk_events_total", type="Ticket.Opened") >= 1
    # Never the path itself: it may hold a token.
    assert not any(f"/api/v1/tickets/{number}" in str(k) for k in after)
    assert value(after, "ledgerdesk_log_head") == head
    assert value(after, "ledgerdesk_view_position", view="flat") == head
    assert value(after, "ledgerdesk_view_lag_events", view="flat") == 0
    assert value(after, "ledgerdesk_view_failed", view="flat") == 0
    # No worker runs here: the opened ticket's webhook message waits in the outbox.
    assert value(after, "ledgerdesk_outbox_backlog") >= 1
    assert has(after, "ledgerdesk_outbox_oldest_age_seconds")
    assert value(after, "ledgerdesk_outbox_oldest_age_seconds") < 600


def test_a_refused_command_is_counted_as_refused(
    live: bootstrap.Container, client: TestClient, scraper: TestClient
) -> None:
    number = open_ticket(live, title="Closed twice")
    before = scrape(scraper)
    stale = {"If-Match": '"99"'}
    answer = client.patch(f"/api/v1/tickets/{number}", json={"title": "X"}, headers=stale)
    after = scrape(scraper)
    assert answer.status_code == 412, answer.text
    refused = [
        k for k, v in after.items()
        if k[0] == "ledgerdesk_commands_total" and ("outcome", "refused") in k[1]
        and v > before.get(k, 0.0)
    ]  # fmt: skip
    assert refused, "the refused command is not counted"


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_failed_view_shows(container: bootstrap.Container) -> None:
    ada = container.customers.register_contact(
        RegisterContact(email="ada@acme.example", name="Ada"), SYSTEM
    ).id
    unprojectable_rename(container, ada)
    container.follow()
    wait_until(lambda: bool(container.runner.failures()), what="the view to fail")
    guarded = replace(container.services(), metrics_token=TOKEN)
    with TestClient(create_app(guarded)) as http:
        found = scrape(http)
    assert value(found, "ledgerdesk_view_failed", view="customers") == 1
    assert value(found, "ledgerdesk_view_failure_attempts", view="customers") >= 1
    assert value(found, "ledgerdesk_view_failed", view="flat") == 0


def test_a_method_nobody_uses_is_counted_as_other(client: TestClient, scraper: TestClient) -> None:
    before = scrape(scraper)
    client.request("XMETHODX", "/api/v1/nowhere")
    after = scrape(scraper)
    assert not any(("method", "XMETHODX") in labels for _, labels in after)
    other = {"method": "OTHER", "route": "unmatched"}
    requests = "ledgerdesk_http_requests_total"
    assert total(after, requests, **other) == total(before, requests, **other) + 1


def test_a_count_that_fails_never_fails_what_it_counts(
    live: bootstrap.Container, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(metrics, "instruments", broken)
    head = live.app.head()
    opened = client.post("/api/v1/tickets", json={"title": "Counted or not"})
    assert opened.status_code == 201, opened.text
    assert live.app.head() > head
    assert client.get(f"/api/v1/tickets/{opened.json()['number']}").status_code == 200
