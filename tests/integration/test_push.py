"""Web Push against a real HTTP push service: staff subscribe a browser, each notification
they want pushed reaches each subscription once — encrypted for the browser, signed with the
install's VAPID key — a redelivered push sends nothing again, an endpoint the push service
says is gone (410) is removed, and bad subscriptions are refused with nothing written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from tests.api.test_portal_api import created
from tests.factories import admin_token, user_token
from tests.push_service import Browser, PushServer, push_service
from workers import push
from workers.actors import Delivery


@pytest.fixture
def service() -> Iterator[PushServer]:
    with push_service() as found:
        yield found


@pytest.fixture
def admin(working: bootstrap.Container) -> Iterator[TestClient]:
    working.push.config = replace(working.push.config, allow_http=True)
    with TestClient(working.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {admin_token(working)}"
        yield http


def until(check: object, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def test_a_notification_is_pushed_once_to_each_subscription(
    working: bootstrap.Container, admin: TestClient, service: PushServer
) -> None:
    bob = {"Authorization": f"Bearer {user_token(working, 'bob@example.com')}"}
    bob_id = admin.get("/api/v1/me", headers=bob).json()["id"]
    listed = admin.get("/api/v1/me/push-subscriptions", headers=bob).json()
    assert listed["items"] == []
    assert listed["public_key"] == working.push.config.public_key
    laptop, old_phone = Browser(), Browser()
    head = working.app.head()
    for wrong, field in (
        ({"endpoint": "ftp://push.example/x", "keys": laptop.keys()}, "endpoint"),
        (
            {"endpoint": f"{service.base}/x", "keys": {**laptop.keys(), "p256dh": "AAAA"}},
            "keys.p256dh",
        ),
        ({"endpoint": f"{service.base}/x", "keys": {**laptop.keys(), "auth": "!!"}}, "keys.auth"),
        # 65 bytes, but no point of the curve
        (
            {"endpoint": f"{service.base}/x", "keys": {**laptop.keys(), "p256dh": "BA" + "A" * 85}},
            "keys.p256dh",
        ),
    ):
        refused = admin.post("/api/v1/me/push-subscriptions", json=wrong, headers=bob)
        assert refused.status_code == 422, refused.text
        assert field in refused.text
    assert working.app.head() == head
    for name, browser in (("laptop", laptop), ("phone", old_phone)):
        body = {"endpoint": f"{service.base}/{name}", "keys": browser.keys()}
        created(admin.post("/api/v1/me/push-subscriptions", json=body, headers=bob))
    service.gone.add("/phone")

    inbox_project = created(admin.post("/api/v1/tickets", json={"title": "x"}))["project_id"]
    admin.put(f"/api/v1/projects/{inbox_project}/members/{bob_id}", json={"role": "standard"})
    number = created(admin.post("/api/v1/tickets", json={"title": "Pushed"}))["number"]
    assert admin.put(f"/api/v1/tickets/{number}/assignees/{bob_id}").status_code == 200

    until(lambda: service.at("/laptop") and service.at("/phone"))
    until(lambda: len(admin.get("/api/v1/me/push-subscriptions", headers=bob).json()["items"]) == 1)
    pushed = service.at("/laptop")[0]
    message = laptop.read(pushed.body)
    listed_now = admin.get(
        "/api/v1/me/notifications", headers={**bob, "X-Min-Position": str(working.app.head())}
    ).json()["items"]
    assert message == {**listed_now[0], "read": False}
    assert message["kind"] == "assigned"
    assert message["item"]["number"] == number
    assert pushed.headers["authorization"].startswith("vapid t=")
    assert pushed.headers["authorization"].endswith(f",k={working.push.config.public_key}")
    assert pushed.headers["content-encoding"] == "aes128gcm"
    assert len(pushed.headers["topic"]) <= 32
    remaining = admin.get("/api/v1/me/push-subscriptions", headers=bob).json()["items"]
    assert [s["endpoint"] for s in remaining] == [f"{service.base}/laptop"]

    # The same push delivered again (a redelivery, a retry after a crash) sends nothing.
    event = next(
        e
        for e in reversed(list(working.app.events.get(item_id(number))))
        if type(e).__name__ == "UserAssigned"
    )
    again = Delivery(
        "again", "push.notify", {"event": f"{event.originator_id}:{event.originator_version}"}
    )
    push.notify(working.workers.services, again)
    assert len(service.at("/laptop")) == 1

    # Push turned off for the kind: nothing more is pushed.
    admin.patch(
        "/api/v1/me/notification-preferences", json={"assigned": {"push": False}}, headers=bob
    )
    other = created(admin.post("/api/v1/tickets", json={"title": "Quiet"}))["number"]
    admin.put(f"/api/v1/tickets/{other}/assignees/{bob_id}")
    mention = {"body": "@bob see this", "visibility": "internal"}
    admin.post(f"/api/v1/tickets/{other}/messages", json=mention)
    until(lambda: len(service.at("/laptop")) == 2)
    assert laptop.read(service.at("/laptop")[1].body)["kind"] == "mentioned"
    removed = admin.delete(f"/api/v1/me/push-subscriptions/{remaining[0]['id']}", headers=bob)
    assert removed.status_code == 204
    gone = admin.delete(f"/api/v1/me/push-subscriptions/{remaining[0]['id']}", headers=bob)
    assert gone.status_code == 404


def test_pushes_go_only_to_who_may_see_and_one_failing_endpoint_holds_up_no_one(
    working: bootstrap.Container, admin: TestClient, service: PushServer
) -> None:
    people = {}
    for name in ("bob", "carol"):
        headers = {"Authorization": f"Bearer {user_token(working, f'{name}@example.com')}"}
        people[name] = (headers, admin.get("/api/v1/me", headers=headers).json()["id"])
    bob, bob_id = people["bob"]
    carol, _ = people["carol"]
    phone, broken, carols = Browser(), Browser(), Browser()
    subscriptions = (
        (bob, "http://127.0.0.1:1/nobody-listens", broken),  # refused: fails, is retried
        (bob, f"{service.base}/bob", phone),
        (carol, f"{service.base}/carol", carols),
    )
    for headers, endpoint, browser in subscriptions:
        body = {"endpoint": endpoint, "keys": browser.keys()}
        created(admin.post("/api/v1/me/push-subscriptions", json=body, headers=headers))
    # Bob is in the project, Carol is not: both are mentioned, in an internal note.
    ticket = created(admin.post("/api/v1/tickets", json={"title": "Top secret merger"}))
    admin.put(
        f"/api/v1/projects/{ticket['project_id']}/members/{bob_id}", json={"role": "standard"}
    )
    note = {"body": "@bob @carol read this", "visibility": "internal"}
    assert admin.post(f"/api/v1/tickets/{ticket['number']}/messages", json=note).status_code == 201
    until(lambda: service.at("/bob"))
    assert phone.read(service.at("/bob")[0].body)["kind"] == "mentioned"
    time.sleep(1.0)  # what would have gone to Carol has had its time
    assert service.at("/carol") == []


def test_nothing_is_pushed_about_an_item_of_a_switched_off_app(
    working: bootstrap.Container, admin: TestClient
) -> None:
    headers = {"Authorization": f"Bearer {user_token(working, 'bob@example.com')}"}
    bob_id = admin.get("/api/v1/me", headers=headers).json()["id"]
    ticket = created(admin.post("/api/v1/tickets", json={"title": "T"}))
    admin.put(
        f"/api/v1/projects/{ticket['project_id']}/members/{bob_id}", json={"role": "standard"}
    )
    working.runner.wait_for(working.app.head(), ["access"], 10)
    row = {"user_id": bob_id, "kind": "assigned", "project_id": ticket["project_id"]}
    services = working.workers.services
    assert push.may_see(services, {**row, "item_kind": "ticket"})
    admin.patch("/api/v1/admin/settings", json={"apps": {"tickets": False}})
    assert not push.may_see(services, {**row, "item_kind": "ticket"})
    assert push.may_see(services, {**row, "item_kind": "task"})
