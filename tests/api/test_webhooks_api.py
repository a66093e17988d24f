"""The webhooks' and REST hooks' API: who may subscribe, what is refused (naming why, and
writing nothing), secrets shown once, polling triggers newest first with stable ids."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.webhooks import subscriptions
from ledgerdesk import bootstrap
from tests.factories import user_token

PUBLIC = "https://hooks.example.com/in"


def public_names(live: bootstrap.Container) -> None:
    """Names resolve here without a network: hooks.example.com is public, inside.example not."""
    answers = {"hooks.example.com": ["93.184.216.34"], "inside.example": ["10.9.8.7"]}
    live.webhooks.guard.resolve = lambda host, port: answers[host]


def test_admins_subscribe_webhooks_and_see_the_secret_once(
    client: TestClient, live: bootstrap.Container
) -> None:
    public_names(live)
    made = client.post("/api/v1/webhooks", json={"url": PUBLIC, "events": ["item.created"]})
    assert made.status_code == 201, made.text
    hook = made.json()
    assert hook["secret"].startswith("whsec_")
    assert (hook["active"], hook["events"]) == (True, ["item.created"])
    assert made.headers["Location"] == f"/api/v1/webhooks/{hook['id']}"
    listed = client.get("/api/v1/webhooks").json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"/api/v1/webhooks/{hook['id']}").json()
    # A new secret is shown once more, when it is made
    rotated = client.patch(f"/api/v1/webhooks/{hook['id']}", json={"secret": None})
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != hook["secret"]
    kept = client.patch(f"/api/v1/webhooks/{hook['id']}", json={"events": ["sla.breached"]})
    assert ("secret" not in kept.json(), kept.json()["events"]) == (True, ["sla.breached"])
    # A chosen secret must be one receivers' libraries take
    own = client.post(
        "/api/v1/webhooks",
        json={
            "url": PUBLIC,
            "events": ["item.created"],
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        },
    )
    assert own.status_code == 201, own.text
    assert own.json()["secret"] == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    # Removed, it is gone
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404


def test_bad_subscriptions_are_refused_naming_why_and_write_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    public_names(live)
    head = live.app.head()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"url": "http://127.0.0.1:8000/in", "events": ["item.created"]}, "127.0.0.1"),
        ({"url": "http://2130706433/in", "events": ["item.created"]}, "127.0.0.1"),
        ({"url": "http://[::ffff:10.0.0.1]/in", "events": ["item.created"]}, "not a public"),
        (
            {"url": "http://inside.example/in", "events": ["item.created"]},
            "inside.example leads to an address, which is not a public",
        ),
        ({"url": "ftp://hooks.example.com/in", "events": ["item.created"]}, "not an http(s)"),
        ({"url": "https://u:p@hooks.example.com/", "events": ["item.created"]}, "no user"),
        ({"url": PUBLIC, "events": ["ticket.exploded"]}, "ticket.exploded"),
        ({"url": PUBLIC, "events": []}, "a list of event types"),
        ({"url": PUBLIC, "events": ["item.created"], "secret": "hunter2"}, "whsec_"),
        ({"url": PUBLIC, "events": ["item.created"], "secret": "whsec_c2hvcnQ="}, "24 to 64"),
    ]
    for body, named in cases:
        refused = client.post("/api/v1/webhooks", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert named in refused.json()["detail"], (body, refused.json())
    assert live.app.head() == head
    # Only admins manage webhooks
    member = {"Authorization": f"Bearer {user_token(live, 'm@example.com')}"}
    assert (
        client.post(
            "/api/v1/webhooks", json={"url": PUBLIC, "events": ["item.created"]}, headers=member
        ).status_code
        == 403
    )
    assert client.get("/api/v1/webhooks", headers=member).status_code == 403


def test_rest_hooks_belong_to_their_owner(client: TestClient, live: bootstrap.Container) -> None:
    public_names(live)
    mia = {"Authorization": f"Bearer {user_token(live, 'mia@example.com')}"}
    noah = {"Authorization": f"Bearer {user_token(live, 'noah@example.com')}"}
    made = client.post(
        "/api/v1/hooks", json={"target_url": PUBLIC, "event": "item.created"}, headers=mia
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    assert (hook["target_url"], hook["event"]) == (PUBLIC, "item.created")
    refused = client.post(
        "/api/v1/hooks", json={"target_url": "http://inside.example/", "event": "item.created"},
        headers=mia,
    )  # fmt: skip
    assert refused.status_code == 422
    unknown = client.post("/api/v1/hooks", json={"target_url": PUBLIC, "event": "x"}, headers=mia)
    assert unknown.status_code == 422
    # Its owner and admins see it; another user does not
    assert [h["id"] for h in client.get("/api/v1/hooks", headers=mia).json()["items"]] == [
        hook["id"]
    ]
    assert client.get("/api/v1/hooks", headers=noah).json()["items"] == []
    assert [h["id"] for h in client.get("/api/v1/hooks").json()["items"]] == [hook["id"]]
    shown = client.get(f"/api/v1/hooks/{hook['id']}", headers=mia).json()
    assert (shown["active"], "secret" in shown) == (True, False)
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=noah).status_code == 404
    # Another user cannot remove it; its owner and admins can
    assert client.delete(f"/api/v1/hooks/{hook['id']}", headers=noah).status_code == 404
    assert client.delete(f"/api/v1/hooks/{hook['id']}", headers=mia).status_code == 204
    assert client.delete(f"/api/v1/hooks/{hook['id']}", headers=mia).status_code == 404
    # A hook is not a webhook
    assert client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404


def test_a_user_has_so_many_active_rest_hooks_and_no_more(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_names(live)
    monkeypatch.setattr(subscriptions, "MAX_ACTIVE_HOOKS", 2)
    mia = {"Authorization": f"Bearer {user_token(live, 'mia@example.com')}"}
    body = {"target_url": PUBLIC, "event": "item.created"}
    first, _ = (client.post("/api/v1/hooks", json=body, headers=mia) for _ in range(2))
    head = live.app.head()
    refused = client.post("/api/v1/hooks", json=body, headers=mia)
    assert refused.status_code == 409
    assert "2 active REST hooks, the most one user may have" in refused.json()["detail"]
    assert live.app.head() == head
    # Another user's hooks are theirs
    noah = {"Authorization": f"Bearer {user_token(live, 'noah@example.com')}"}
    assert client.post("/api/v1/hooks", json=body, headers=noah).status_code == 201
    # A hook its target unsubscribed (410) leaves room; so does one deleted
    gone = live.app.repository.get(UUID(first.json()["id"]))
    gone.disable("the target answered 410 Gone", "system:webhooks", "t")
    live.app.save(gone)
    after = {**mia, "X-Min-Position": str(live.app.head())}
    made = client.post("/api/v1/hooks", json=body, headers=after)
    assert made.status_code == 201, made.text
    assert client.post("/api/v1/hooks", json=body, headers=mia).status_code == 409
    assert client.delete(f"/api/v1/hooks/{made.json()['id']}", headers=mia).status_code == 204
    assert client.post("/api/v1/hooks", json=body, headers=mia).status_code == 201


def test_triggers_answer_the_newest_events_with_stable_ids(client: TestClient) -> None:
    first = client.post("/api/v1/tickets", json={"title": "One"})
    second = client.post("/api/v1/tickets", json={"title": "Two"})
    polled = client.get("/api/v1/triggers/item.created")
    assert polled.status_code == 200, polled.text
    items = polled.json()
    assert [e["data"]["item"]["title"] for e in items] == ["Two", "One"]
    assert [e["id"] for e in items] == [
        second.headers["X-Log-Position"],
        first.headers["X-Log-Position"],
    ]
    assert client.get("/api/v1/triggers/item.created").json() == items  # Stable
    assert client.get("/api/v1/triggers/item.created", params={"limit": 1}).json() == items[:1]
    assert client.get("/api/v1/triggers/chat.started").json() == []
    sample = client.get("/api/v1/triggers/chat.started", params={"sample": "true"}).json()
    assert [s["type"] for s in sample] == ["chat.started"]
    assert client.get("/api/v1/triggers/ticket.exploded").status_code == 422
