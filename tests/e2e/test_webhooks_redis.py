"""Webhook deliveries by two workers on one Redis queue: every event reaches the receiver
once, under its own id (an attempt is claimed in the write model before it is sent)."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.conftest import wait_until
from tests.e2e.test_workers_redis import on_redis, redis_namespace  # noqa: F401 (fixtures)
from tests.factories import admin_token
from tests.webhook_receiver import attempts, delivered, receiving

EVENTS = 30


def test_two_workers_deliver_each_event_exactly_once(on_redis: Settings) -> None:  # noqa: F811
    settings = on_redis.model_copy(
        update={"webhook_allowed_hosts": "127.0.0.1", "webhook_retry_base_seconds": 0.001}
    )
    bootstrap.migrate(settings)
    first, second = bootstrap.build(settings), bootstrap.build(settings)
    try:
        first.follow()
        first.work()
        second.work()
        with receiving() as receiver, TestClient(first.http_app()) as http:
            http.headers["Authorization"] = f"Bearer {admin_token(first)}"
            made = http.post(
                "/api/v1/webhooks", json={"url": receiver.url, "events": ["item.created"]}
            )
            assert made.status_code == 201, made.text
            receiver.script = [500] * 5  # A few are retried too
            opened = [
                http.post("/api/v1/tickets", json={"title": f"T{n}"}).headers["X-Log-Position"]
                for n in range(EVENTS)
            ]
            expected = {f"msg_{position}" for position in opened}
            wait_until(lambda: expected <= set(receiver.ids()), timeout=60, what="every event")

            def settled() -> bool:
                if not first.runner.wait_for(first.app.head(), ["webhooks"], 5):
                    return False
                return delivered(first.views) == EVENTS

            wait_until(settled, timeout=60, what="every delivery recorded delivered")
            # Every request the receiver saw was an attempt claimed and recorded once (none
            # sent twice by two workers), and each event was delivered by exactly one
            rows = attempts(first.views)
            recorded = Counter(f"msg_{row['event_id']}" for row in rows)
            assert Counter(receiver.ids()) == recorded
            taken = Counter(f"msg_{r['event_id']}" for r in rows if r["status"] == 200)
            assert taken == dict.fromkeys(expected, 1)
            assert sum(recorded.values()) >= EVENTS + 5  # The refused ones were retried
    finally:
        first.close()
        second.close()
