"""Staff notifications: assigned, mentioned, a customer's reply on an item one follows, a
chat waiting, a join request — never of what one did oneself; read and unread, marked read
by id or up to one; preferences that turn a kind off in the app; bad input refused with
nothing written; and the same notification, by the same id, on the staff member's stream."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.test_portal_api import as_customer, created, fresh, session
from tests.factories import user_token
from tests.sse import Stream


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def someone(
    client: TestClient, live: bootstrap.Container, email: str
) -> tuple[dict[str, str], str]:
    """A member of the Inbox project: their headers and id."""
    headers = bearer(user_token(live, email))
    user_id = client.get("/api/v1/me", headers=headers).json()["id"]
    inbox_project = created(client.post("/api/v1/tickets", json={"title": "where"}))["project_id"]
    joined = client.put(
        f"/api/v1/projects/{inbox_project}/members/{user_id}", json={"role": "standard"}
    )
    assert joined.status_code == 200, joined.text
    return headers, user_id


def inbox(
    client: TestClient, live: bootstrap.Container, headers: dict[str, str], **params: str
) -> dict:
    found = client.get(
        "/api/v1/me/notifications", params=params, headers={**fresh(live), **headers}
    )
    assert found.status_code == 200, found.text
    body: dict = found.json()
    return body


def kinds(body: dict) -> list[str]:
    return [n["kind"] for n in body["items"]]


def test_staff_are_told_of_assignments_mentions_and_customer_replies(
    client: TestClient, live: bootstrap.Container
) -> None:
    bob, bob_id = someone(client, live, "bob@example.com")
    ann = session(client, "ann@example.com")
    ticket = created(
        client.post(
            "/api/v1/tickets", json={"title": "Printer", "requester_email": "ann@example.com"}
        )
    )
    number = ticket["number"]
    assert client.put(f"/api/v1/tickets/{number}/assignees/{bob_id}").status_code == 200
    told = inbox(client, live, bob)
    assert kinds(told) == ["assigned"]
    assert told["items"][0]["item"] == {"kind": "ticket", "number": number, "title": "Printer"}
    assert told["unread"] == 1
    assert kinds(inbox(client, live, {})) == []  # not of what one did oneself

    note = {"body": "@bob can you look? cc @admin", "visibility": "internal"}
    assert client.post(f"/api/v1/tickets/{number}/messages", json=note).status_code == 201
    assert kinds(inbox(client, live, bob)) == ["mentioned", "assigned"]
    assert kinds(inbox(client, live, {})) == []  # mentioning oneself tells nobody

    reply = client.post(
        f"/api/v1/portal/tickets/{number}/messages", json={"body": "Still broken"},
        headers=as_customer(ann),
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    told = inbox(client, live, bob)
    assert kinds(told) == ["customer_replied", "mentioned", "assigned"]
    assert told["items"][0]["excerpt"] == "Still broken"
    # A customer's `@name` tells nobody.
    client.post(
        f"/api/v1/portal/tickets/{number}/messages", json={"body": "@admin call me"},
        headers=as_customer(ann),
    )  # fmt: skip
    assert kinds(inbox(client, live, {})) == []
    told = inbox(client, live, bob)
    assert kinds(told) == ["customer_replied", "customer_replied", "mentioned", "assigned"]
    paged = inbox(client, live, bob, limit="2")
    assert (len(paged["items"]), paged["next"]) == (2, paged["items"][1]["id"])
    rest = inbox(client, live, bob, limit="2", before=paged["next"])
    assert kinds(rest) == ["mentioned", "assigned"]
    told = {"items": told["items"][1:]}

    # Marked read: one by id, then all up to the newest; a bad id writes nothing.
    newest, _, oldest = (n["id"] for n in told["items"])
    newest = inbox(client, live, bob)["items"][0]["id"]
    head = live.app.head()
    for wrong in (["last week"], ["99999999999999999999.0"], ["1.\u00b2"]):
        bad = client.post("/api/v1/me/notifications/read", json={"ids": wrong}, headers=bob)
        assert bad.status_code == 422, bad.text
        assert "ids" in bad.text
    assert live.app.head() == head
    far = client.get("/api/v1/me/notifications", params={"before": "9" * 30 + ".0"}, headers=bob)
    assert far.status_code == 422, far.text
    assert (
        client.post(
            "/api/v1/me/notifications/read", json={"ids": [oldest]}, headers=bob
        ).status_code
        == 204
    )
    after = inbox(client, live, bob)
    assert [n["read"] for n in after["items"]] == [False, False, False, True]
    assert after["unread"] == 3
    assert [n["kind"] for n in inbox(client, live, bob, unread="true")["items"]] == [
        "customer_replied",
        "customer_replied",
        "mentioned",
    ]
    client.post("/api/v1/me/notifications/read", json={"up_to": newest}, headers=bob)
    assert inbox(client, live, bob)["unread"] == 0


def test_preferences_turn_a_kind_off_in_the_app(
    client: TestClient, live: bootstrap.Container
) -> None:
    bob, bob_id = someone(client, live, "bob@example.com")
    defaults = client.get("/api/v1/me/notification-preferences", headers=bob).json()
    assert defaults["assigned"] == {"in_app": True, "email": True, "push": True}
    assert defaults["chat_waiting"] == {"in_app": True, "email": False, "push": True}
    head = live.app.head()
    for wrong in (
        {"birthdays": {"in_app": False}},
        {"assigned": {"pigeon": True}},
        {"assigned": {"in_app": "no"}},
    ):
        refused = client.patch("/api/v1/me/notification-preferences", json=wrong, headers=bob)
        assert refused.status_code == 422, refused.text
    assert live.app.head() == head
    changed = client.patch(
        "/api/v1/me/notification-preferences", json={"assigned": {"in_app": False}}, headers=bob
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["assigned"] == {"in_app": False, "email": True, "push": True}
    assert changed.json()["mentioned"]["in_app"] is True
    number = created(client.post("/api/v1/tickets", json={"title": "Quiet"}))["number"]
    client.put(f"/api/v1/tickets/{number}/assignees/{bob_id}")
    client.post(
        f"/api/v1/tickets/{number}/messages", json={"body": "hi @bob", "visibility": "internal"}
    )
    assert kinds(inbox(client, live, bob)) == ["mentioned"]


def test_chats_waiting_and_join_requests_reach_who_answers_them(
    client: TestClient, live: bootstrap.Container
) -> None:
    bob, _ = someone(client, live, "bob@example.com")
    planner, planner_id = someone(client, live, "planner@example.com")
    client.patch(f"/api/v1/users/{planner_id}", json={"apps": "tasks"})
    ann = session(client, "ann@example.com")
    client.post("/api/v1/portal/chats", json={"body": "Help"}, headers=as_customer(ann))
    assert kinds(inbox(client, live, bob)) == ["chat_waiting"]
    assert kinds(inbox(client, live, {})) == ["chat_waiting"]
    assert kinds(inbox(client, live, planner)) == []  # no tickets app, no chats

    project = created(client.post("/api/v1/projects", json={"name": "Roadmap"}))["id"]
    asked = client.post(
        f"/api/v1/projects/{project}/join-requests", json={"message": "me too"}, headers=bob
    )
    assert asked.status_code == 201, asked.text
    told = inbox(client, live, {})
    assert kinds(told) == ["join_request", "chat_waiting"]
    assert told["items"][0]["message"] == "me too"
    assert kinds(inbox(client, live, bob)) == ["chat_waiting"]


def test_a_notification_about_what_one_can_no_longer_see_is_not_shown(
    client: TestClient, live: bootstrap.Container
) -> None:
    bob, bob_id = someone(client, live, "bob@example.com")
    seen = created(client.post("/api/v1/tickets", json={"title": "Open"}))["number"]
    client.put(f"/api/v1/tickets/{seen}/assignees/{bob_id}")
    project = created(client.post("/api/v1/projects", json={"name": "Secret"}))["id"]
    client.put(f"/api/v1/projects/{project}/members/{bob_id}", json={"role": "standard"})
    for title in ("Hush", "Quiet"):
        body = {"title": title, "project_id": project}
        number = created(client.post("/api/v1/tickets", json=body))["number"]
        client.put(f"/api/v1/tickets/{number}/assignees/{bob_id}")
    assert kinds(inbox(client, live, bob)) == ["assigned"] * 3
    assert client.delete(f"/api/v1/projects/{project}/members/{bob_id}").status_code in (200, 204)
    gone = inbox(client, live, bob)
    assert ([n["item"]["title"] for n in gone["items"]], gone["unread"]) == (["Open"], 1)
    # A page reads on past the hidden ones until it is full.
    paged = inbox(client, live, bob, limit="1")
    assert [n["item"]["title"] for n in paged["items"]] == ["Open"]
    after = inbox(client, live, bob, limit="1", before=paged["next"])
    assert (after["items"], after["next"]) == ([], None)


def test_a_notification_arrives_on_the_stream_with_its_id(
    client: TestClient, live: bootstrap.Container, base: str
) -> None:
    bob, bob_id = someone(client, live, "bob@example.com")
    stream = Stream(f"{base}/api/v1/me/stream", bob)
    assert stream.next().name == "stream.ready"
    number = created(client.post("/api/v1/tickets", json={"title": "Live"}))["number"]
    client.put(f"/api/v1/tickets/{number}/assignees/{bob_id}")
    event = stream.until("notification")[1]
    listed = inbox(client, live, bob)["items"][0]
    assert event.id == listed["id"]
    assert event.data == {**listed, "read": False}
    stream.cut()


def test_notifications_about_a_switched_off_app_are_shown_to_nobody_until_it_is_on(
    client: TestClient, live: bootstrap.Container, base: str
) -> None:
    bob, bob_id = someone(client, live, "bob@example.com")
    stream = Stream(f"{base}/api/v1/me/stream", bob)
    ready = stream.next()
    assert ready.name == "stream.ready"
    stream.cut()
    ticket = created(client.post("/api/v1/tickets", json={"title": "A ticket"}))
    client.put(f"/api/v1/tickets/{ticket['number']}/assignees/{bob_id}")
    switched = client.patch("/api/v1/admin/settings", json={"apps": {"tickets": False}})
    assert switched.status_code == 200
    task = {"title": "A task", "project_id": ticket["project_id"]}
    number = created(client.post("/api/v1/tasks", json=task))["number"]
    assert client.put(f"/api/v1/tasks/{number}/assignees/{bob_id}").status_code == 200

    # Neither the list, its count, nor the stream (resumed from before both) tells of the
    # ticket while the tickets app is off
    listed = inbox(client, live, bob)
    assert ([n["item"]["title"] for n in listed["items"]], listed["unread"]) == (["A task"], 1)
    resumed = Stream(f"{base}/api/v1/me/stream", {**bob, "Last-Event-ID": ready.id})
    told = resumed.until("notification")[1]
    assert told.data["item"]["title"] == "A task"
    resumed.cut()

    # Switched on again, it is there
    client.patch("/api/v1/admin/settings", json={"apps": {"tickets": True}})
    listed = inbox(client, live, bob)
    assert ([n["item"]["title"] for n in listed["items"]], listed["unread"]) == (
        ["A task", "A ticket"],
        2,
    )
