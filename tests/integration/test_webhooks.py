"""Webhooks end to end, on both backends, against a local receiver: deliveries signed so
that the Standard Webhooks reference library verifies them, retried on the schedule until
they succeed, redelivered by hand with the same id, given up and the subscription disabled
after repeated failure, never following a redirect, and refused at delivery when the name
now leads inside (DNS rebinding). Retries are quick here: LEDGERDESK_WEBHOOK_RETRY_BASE_SECONDS
is a millisecond."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook as Verifier

import commands.webhooks.deliveries
import workers.webhooks
from commands.webhooks.deliveries import DeliveryService
from domain.webhooks.deliveries import WebhookDelivery
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.base import current_tables
from projections.integrations.feed_query import event_at
from tests.conftest import wait_until
from tests.factories import admin_token
from tests.webhook_receiver import STALL, Receiver, receiving
from workers.actors import Delivery


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def install(settings: Settings, **changes: Any) -> bootstrap.Container:
    fast = settings.model_copy(
        update={
            "tick_seconds": 0.2,
            "webhook_retry_base_seconds": 0.001,
            "webhook_allowed_hosts": "127.0.0.1",
            **changes,
        }
    )
    bootstrap.migrate(fast)
    built = bootstrap.build(fast)
    built.follow()
    built.work()
    return built


@pytest.fixture
def hooked(settings: Settings) -> Iterator[bootstrap.Container]:
    """Views and workers running; webhooks may reach 127.0.0.1 and retry at once."""
    built = install(settings)
    yield built
    built.close()


@pytest.fixture
def admin(hooked: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(hooked.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {admin_token(hooked)}"
        yield http


def subscribe(admin: TestClient, url: str, *events: str) -> dict[str, Any]:
    made = admin.post("/api/v1/webhooks", json={"url": url, "events": list(events)})
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def log_of(admin: TestClient, hook: dict[str, Any], hooked: bootstrap.Container) -> Any:
    head = {"X-Min-Position": str(hooked.app.head())}
    answer = admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=head)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_delivery_is_signed_and_the_reference_library_verifies_it(
    admin: TestClient, hooked: bootstrap.Container, receiver: Receiver
) -> None:
    hook = subscribe(admin, receiver.url, "item.created")
    assert hook["secret"].startswith("whsec_")
    assert "secret" not in admin.get(f"/api/v1/webhooks/{hook['id']}").json()
    opened = admin.post("/api/v1/tickets", json={"title": "Printer on fire"})
    position = opened.headers["X-Log-Position"]
    wait_until(lambda: len(receiver.received) >= 1, what="the delivery")
    got = receiver.received[0]
    payload = Verifier(hook["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "item.created"
    assert payload["id"] == position
    assert payload["data"]["item"]["title"] == "Printer on fire"
    assert got.headers["webhook-id"] == f"msg_{position}"
    assert got.path == "/in"
    # A body changed on the way, or another secret, does not verify
    with pytest.raises(Exception, match="signature"):
        Verifier(hook["secret"]).verify(got.body.replace(b"fire", b"ice"), got.headers)
    # An event it did not ask for is not sent; the log shows the one delivery
    admin.patch(f"/api/v1/tickets/{opened.json()['number']}", json={"status": "Open"})
    [delivery] = log_of(admin, hook, hooked)
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == (
        "delivered",
        1,
        200,
    )
    assert delivery["request_body"] == orjson.loads(got.body)
    assert delivery["attempt_log"][0]["request_headers"]["webhook-id"] == f"msg_{position}"
    assert "webhook-signature" not in delivery["attempt_log"][0]["request_headers"]


def test_a_failing_receiver_is_retried_until_it_takes_it_and_redelivery_repeats_it(
    admin: TestClient, hooked: bootstrap.Container, receiver: Receiver
) -> None:
    receiver.script = [500, 503]
    hook = subscribe(admin, receiver.url, "item.created")
    admin.post("/api/v1/tickets", json={"title": "Flaky"})
    wait_until(lambda: len(receiver.received) >= 3, what="two retries")
    # Every attempt carries the same id, so the receiver knows them for one message
    assert len(set(receiver.ids())) == 1
    wait_until(
        lambda: log_of(admin, hook, hooked)[0]["state"] == "delivered", what="the delivered log"
    )
    [delivery] = log_of(admin, hook, hooked)
    statuses = [a["status"] for a in delivery["attempt_log"]]
    assert statuses == [500, 503, 200]
    assert all(a["duration_ms"] is not None for a in delivery["attempt_log"])
    # When an admin delivers it again, it goes once more, marked manual, with the same id
    again = admin.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redelivery")
    assert again.status_code == 200, again.text
    assert (again.json()["outcome"], again.json()["attempt"], again.json()["status"]) == (
        "delivered",
        4,
        200,
    )
    assert receiver.ids() == [receiver.ids()[0]] * 4
    [delivery] = admin.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries",
        headers={"X-Min-Position": again.headers["X-Log-Position"]},
    ).json()["items"]
    assert [a["manual"] for a in delivery["attempt_log"]] == [False, False, False, True]
    unknown = admin.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/00000000-0000-4000-8000-000000000000/redelivery"
    )
    assert unknown.status_code == 404


def test_repeated_failure_gives_up_and_disables_the_webhook(
    admin: TestClient, hooked: bootstrap.Container, receiver: Receiver
) -> None:
    receiver.script = [500] * 100
    hook = subscribe(admin, receiver.url, "item.created")
    admin.post("/api/v1/tickets", json={"title": "Never taken"})
    wait_until(
        lambda: not admin.get(f"/api/v1/webhooks/{hook['id']}").json()["active"],
        timeout=60,
        what="the webhook disabled",
    )
    shown = admin.get(f"/api/v1/webhooks/{hook['id']}").json()
    assert shown["disabled_reason"] == "13 attempts of a delivery failed"
    assert len(receiver.received) == 13
    wait_until(
        lambda: log_of(admin, hook, hooked)[0]["state"] == "abandoned", what="the log's state"
    )
    # And its owner is told, in the app (and by mail, where it can be sent)
    head = {"X-Min-Position": str(hooked.app.head())}
    told = admin.get("/api/v1/me/notifications", headers=head).json()["items"]
    stopped = [n for n in told if n["kind"] == "webhook_disabled"]
    assert len(stopped) == 1
    assert (stopped[0]["webhook_id"], stopped[0]["reason"]) == (
        hook["id"],
        "13 attempts of a delivery failed",
    )
    # Disabled, it takes nothing more; switched on again, it does
    admin.post("/api/v1/tickets", json={"title": "While off"})
    receiver.script = []
    switched = admin.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True})
    assert (switched.json()["active"], switched.json()["disabled_reason"]) == (True, None)
    admin.post("/api/v1/tickets", json={"title": "Back on"})
    wait_until(lambda: len(receiver.received) == 14, what="the delivery after it is back on")
    assert orjson.loads(receiver.received[-1].body)["data"]["item"]["title"] == "Back on"


def test_a_redirect_is_not_followed(
    admin: TestClient, hooked: bootstrap.Container, receiver: Receiver
) -> None:
    receiver.script = [302, 200]
    hook = subscribe(admin, receiver.url, "item.created")
    admin.post("/api/v1/tickets", json={"title": "Moved"})
    wait_until(lambda: len(receiver.received) >= 2, what="the retry after the redirect")
    assert [r.path for r in receiver.received] == ["/in", "/in"]
    wait_until(
        lambda: log_of(admin, hook, hooked)[0]["state"] == "delivered", what="the delivered log"
    )
    statuses = [a["status"] for a in log_of(admin, hook, hooked)[0]["attempt_log"]]
    assert statuses == [302, 200]


def test_a_name_that_now_leads_inside_is_refused_at_delivery(
    settings: Settings, receiver: Receiver
) -> None:
    # Given an install with no allow-list, and a name public when subscribed
    built = install(settings, webhook_allowed_hosts="")
    answers = {"rebind.example": ["93.184.216.34"]}
    built.webhooks.guard.resolve = lambda host, port: answers[host]
    try:
        with TestClient(built.http_app()) as http:
            http.headers["Authorization"] = f"Bearer {admin_token(built)}"
            hook = subscribe(http, f"http://rebind.example:{receiver.port}/in", "item.created")
            # When the name points to the loopback by the time a delivery goes
            answers["rebind.example"] = ["127.0.0.1"]
            http.post("/api/v1/tickets", json={"title": "Rebound"})

            def first_attempt() -> dict[str, Any] | None:
                log = log_of(http, hook, built)
                return log[0]["attempt_log"][0] if log and log[0]["attempt_log"] else None

            wait_until(lambda: (first_attempt() or {}).get("error") is not None, what="the refusal")
            attempt = first_attempt()
            assert attempt is not None
            assert attempt["status"] is None
            assert attempt["error"].startswith("refused: rebind.example leads to an address")
            assert receiver.received == []
    finally:
        built.close()


def test_a_rest_hook_gets_its_event_and_a_410_unsubscribes_it(
    admin: TestClient, hooked: bootstrap.Container, receiver: Receiver
) -> None:
    made = admin.post(
        "/api/v1/hooks", json={"target_url": receiver.url, "event": "item.status_changed"}
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    number = admin.post("/api/v1/tickets", json={"title": "Zap"}).json()["number"]
    admin.patch(f"/api/v1/tickets/{number}", json={"status": "Open"})
    wait_until(lambda: len(receiver.received) == 1, what="the hook's delivery")
    payload = Verifier(hook["secret"]).verify(
        receiver.received[0].body, receiver.received[0].headers
    )
    assert (payload["type"], payload["data"]["status"]) == ("item.status_changed", "Open")
    # When the target answers 410 Gone, the hook is unsubscribed
    receiver.script = [410]
    admin.patch(f"/api/v1/tickets/{number}", json={"status": "Resolved"})
    wait_until(
        lambda: not hooked.webhooks.get(UUID(hook["id"]), "hook").active,
        what="the hook unsubscribed",
    )
    assert (
        hooked.webhooks.get(UUID(hook["id"]), "hook").disabled_reason
        == "the target answered 410 Gone"
    )
    assert len(receiver.received) == 2  # Not retried
    admin.patch(f"/api/v1/tickets/{number}", json={"status": "Open"})
    admin.post("/api/v1/tickets", json={"title": "After"})
    assert hooked.runner.wait_for(hooked.app.head(), ["webhooks"], 10)
    assert len(receiver.received) == 2


def test_an_attempt_claimed_by_another_worker_is_not_sent_again(
    admin: TestClient,
    hooked: bootstrap.Container,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a webhook (its own deliveries stopped, so that only this test delivers)
    hook = subscribe(admin, receiver.url, "item.created")
    event = missed_event(admin, hooked, hook, "Raced")
    webhook_id = UUID(hook["id"])
    # When another worker claims the same attempt between our look and our claim
    real_run = commands.webhooks.deliveries.run
    raced = []

    def run_after_a_rival(app: Any, hot: Any, decide: Any) -> Any:
        if not raced:
            raced.append(True)

            def rival(uow: Any) -> list[Any]:
                delivery = WebhookDelivery.queue(webhook_id, event["id"], event["type"], "x", "x")
                delivery.start_attempt(1, receiver.url, "now", False, "x", "x")
                return [delivery]

            real_run(app, hot, rival)
        return real_run(app, hot, decide)

    monkeypatch.setattr(commands.webhooks.deliveries, "run", run_after_a_rival)
    done = hooked.deliveries.deliver(webhook_id, event, "race")
    # Then this worker does not send it
    assert (done.outcome, receiver.received) == ("skipped", [])


def test_a_second_message_for_a_delivery_neither_repeats_it_nor_stops_its_retry(
    settings: Settings, receiver: Receiver
) -> None:
    # Given retries half a second apart, and a receiver that fails the first attempt
    built = install(settings, webhook_retry_base_seconds=0.5)
    try:
        with TestClient(built.http_app()) as http:
            http.headers["Authorization"] = f"Bearer {admin_token(built)}"
            hook = subscribe(http, receiver.url, "item.created")
            receiver.script = [500]
            opened = http.post("/api/v1/tickets", json={"title": "Twice"})
            position = opened.headers["X-Log-Position"]
            wait_until(lambda: len(receiver.received) == 1, what="the first attempt")
            # When the same delivery's message comes again (a publish run twice)
            again = Delivery(
                f"{hook['id']}:{position}",
                "webhooks.deliver",
                {"webhook_id": hook["id"], "position": int(position)},
            )
            built.workers.send(again)
            built.workers.send(again)
            receiver.script = [500]  # A duplicate sent at once would take this one
            # Then the retry still comes, once, and nothing else is sent
            wait_until(
                lambda: log_of(http, hook, built)[0]["state"] == "delivered", what="the retry"
            )
            assert hooked_attempts(http, hook, built) == [500, 500, 200]
            assert len(receiver.received) == 3
            # And the retry kept its schedule: not before the wait (a lower bound, not a speed)
            started = [
                datetime.fromisoformat(a["started_at"])
                for a in log_of(http, hook, built)[0]["attempt_log"]
            ]
            assert (started[1] - started[0]).total_seconds() >= 0.5
            assert (started[2] - started[1]).total_seconds() >= 1.0
    finally:
        built.close()


def hooked_attempts(
    http: TestClient, hook: dict[str, Any], built: bootstrap.Container
) -> list[Any]:
    return [a["status"] for a in log_of(http, hook, built)[0]["attempt_log"]]


def test_a_delivery_whose_message_was_lost_is_sent_again_by_the_sweep(
    admin: TestClient, hooked: bootstrap.Container, receiver: Receiver
) -> None:
    # Given a delivery owed, whose message never went (as after a restart of an in-memory
    # broker): recorded as queued, with no attempt
    hook = subscribe(admin, receiver.url, "item.created")
    event = missed_event(admin, hooked, hook, "Lost")
    hooked.deliveries.queue(UUID(hook["id"]), event, "lost")
    assert hooked.runner.wait_for(hooked.app.head(), ["webhooks"], 10)
    services = hooked.workers.services
    # A sweep while it is not yet overdue sends nothing
    workers.webhooks.sweep(services, Delivery("tick:1", "webhooks.sweep", {}))
    # When the sweep runs long after it was due, it is sent again, and delivered once
    later = replace(
        services,
        webhooks=DeliveryService(
            hooked.app,
            hooked.webhooks,
            hooked.webhooks.guard,
            0.001,
            10,
            clock=lambda: time.time() + 3600,
        ),
    )
    assert receiver.received == []
    workers.webhooks.sweep(later, Delivery("tick:2", "webhooks.sweep", {}))
    wait_until(lambda: len(receiver.received) == 1, what="the swept delivery")
    wait_until(lambda: log_of(admin, hook, hooked)[0]["state"] == "delivered", what="delivered")
    workers.webhooks.sweep(later, Delivery("tick:3", "webhooks.sweep", {}))
    assert hooked.runner.wait_for(hooked.app.head(), ["webhooks"], 10)
    assert len(receiver.received) == 1


def test_an_answer_whose_body_stalls_still_counts_by_its_status(
    settings: Settings, receiver: Receiver
) -> None:
    built = install(settings, webhook_timeout_seconds=1.0)
    try:
        with TestClient(built.http_app()) as http:
            http.headers["Authorization"] = f"Bearer {admin_token(built)}"
            hook = subscribe(http, receiver.url, "item.created")
            receiver.script = [STALL]
            http.post("/api/v1/tickets", json={"title": "Slow body"})
            wait_until(
                lambda: (
                    bool(log_of(http, hook, built))
                    and log_of(http, hook, built)[0]["state"] == "delivered"
                ),
                what="delivered by its status",
            )
            assert hooked_attempts(http, hook, built) == [200]
            assert len(receiver.received) == 1
    finally:
        built.close()


def test_what_a_switched_off_webhook_was_owed_is_owed_no_more(
    admin: TestClient, hooked: bootstrap.Container, receiver: Receiver
) -> None:
    # Given a delivery that failed once and waits for its retry
    receiver.script = [500] * 3
    hook = subscribe(admin, receiver.url, "item.created")
    event = missed_event(admin, hooked, hook, "Owed")
    hooked.deliveries.queue(UUID(hook["id"]), event, "owed")
    # When the webhook is switched off before the attempt
    admin.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False})
    done = hooked.deliveries.deliver(UUID(hook["id"]), event, "owed")
    # Then nothing is sent, and the delivery is settled (the sweep leaves it)
    assert (done.outcome, receiver.received) == ("skipped", [])
    wait_until(lambda: log_of(admin, hook, hooked)[0]["state"] == "abandoned", what="abandoned")


def missed_event(
    admin: TestClient, hooked: bootstrap.Container, hook: dict[str, Any], title: str
) -> dict[str, Any]:
    """The public event of a ticket opened while the webhook was off (so nothing delivered
    it), as the feed shows it."""
    admin.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False})
    opened = admin.post("/api/v1/tickets", json={"title": title})
    admin.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True})
    assert hooked.runner.wait_for(hooked.app.head(), ["feed"], 10)
    with hooked.views.read() as tx:
        event = event_at(tx, current_tables(tx, "feed"), int(opened.headers["X-Log-Position"]))
    assert event is not None
    return event
