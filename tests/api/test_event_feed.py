"""`GET /api/v1/events`: the log's public events in order, scoped to what the caller may
see, with actor, correlation and causation, paged by position so that a consumer resumes
exactly where it stopped and replays from any point."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.test_portal_api import as_customer, created, session
from tests.api.test_timesheets_api import member, ok
from tests.factories import user_token


def feed(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return ok(client.get("/api/v1/events", params=params, headers=headers or {}))


def test_the_feed_tells_each_public_event_once_in_log_order(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a ticket's life: opened, assigned, moved on, answered by its customer,
    # converted; a time entry approved; a chat started
    project = created(client.post("/api/v1/projects", json={"name": "Feed"}))["id"]
    ann = session(client, "ann@example.com")
    me = ok(client.get("/api/v1/me"))["id"]
    opened = client.post(
        "/api/v1/tickets",
        json={"title": "Printer", "project_id": project, "requester_email": "ann@example.com"},
        headers={"X-Correlation-ID": "corr-open"},
    )
    number = created(opened)["number"]
    ok(client.put(f"/api/v1/tickets/{number}/assignees/{me}"))
    ok(client.patch(f"/api/v1/tickets/{number}", json={"status": "Open"}))
    replied = client.post(
        f"/api/v1/portal/tickets/{number}/messages",
        json={"body": "Still broken."},
        headers=as_customer(ann),
    )
    assert replied.status_code == 201, replied.text
    converted = client.post(f"/api/v1/tickets/{number}/conversion")
    task = converted.json()["number"]
    entry = created(
        client.post("/api/v1/timesheets", json={"item": task, "date": "2026-12-01", "minutes": 30})
    )
    ok(client.post(f"/api/v1/timesheets/{entry['id']}/approval"))
    created(client.post("/api/v1/portal/chats", json={"body": "Hi"}, headers=as_customer(ann)))
    # When an admin reads the feed from the start (after the customer's writes too)
    everything = feed(client, {"X-Min-Position": str(live.app.head())})
    events = everything["items"]
    # Then each public event is there once, in log order, with its actor and correlation
    assert [e["type"] for e in events] == [
        "item.created",
        "item.assigned",
        "item.status_changed",
        "item.customer_replied",
        "item.converted",
        "timesheet.approved",
        "chat.started",
    ]
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert [e["id"] for e in events] == [str(p) for p in positions]
    first = events[0]
    assert first["position"] == int(opened.headers["X-Log-Position"])
    assert (first["actor"], first["correlation_id"]) == (f"user:{me}", "corr-open")
    assert first["data"]["item"] == {
        "number": number,
        "kind": "ticket",
        "title": "Printer",
        "project_id": project,
        "priority": "normal",
        "channel": "api",
        "requester_email": "ann@example.com",
    }
    assert events[1]["data"]["user_id"] == me
    assert events[2]["data"]["status"] == "Open"
    assert events[3]["data"]["message"]["body"] == "Still broken."
    assert events[3]["actor"] == "customer:ann@example.com"
    assert events[4]["data"]["task"]["number"] == task
    assert events[5]["data"]["entry"]["minutes"] == 30
    assert events[6]["data"]["chat"]["offline"] is False
    assert everything["next_after"] == positions[-1]
    # And a consumer paging by two, resuming from `next_after`, reads the same events
    read: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get("/api/v1/events", params={"after": after, "limit": 2})
        read += page.json()["items"]
        if len(page.json()["items"]) < 2:
            assert "Link" not in page.headers
            break
        assert page.headers["Link"].startswith(f"</api/v1/events?after={positions[len(read) - 1]}")
        after = page.json()["next_after"]
    assert read == events
    # And replaying from any point gives the rest; types narrow it
    assert feed(client, after=positions[3])["items"] == events[4:]
    status_only = feed(client, types="item.status_changed,timesheet.approved")["items"]
    assert [e["type"] for e in status_only] == ["item.status_changed", "timesheet.approved"]
    # And past the end there is nothing, and `next_after` stays where it was
    assert feed(client, after=positions[-1]) == {"items": [], "next_after": positions[-1]}


def test_each_caller_reads_only_what_they_may_see(
    client: TestClient, live: bootstrap.Container
) -> None:
    ours = created(client.post("/api/v1/projects", json={"name": "Ours"}))["id"]
    theirs = created(client.post("/api/v1/projects", json={"name": "Theirs"}))["id"]
    sam = member(client, live, "sam@example.com", ours, "standard")
    mine = created(client.post("/api/v1/tickets", json={"title": "Ours", "project_id": ours}))
    created(client.post("/api/v1/tickets", json={"title": "Theirs", "project_id": theirs}))
    # Another's approved time in Sam's project, which Sam does not lead
    entry = created(
        client.post(
            "/api/v1/timesheets", json={"item": mine["number"], "date": "2026-12-01", "minutes": 15}
        )
    )
    ok(client.post(f"/api/v1/timesheets/{entry['id']}/approval"))
    # (Sam reads after the admin's writes: another caller's, so Sam names their position.)
    after_admin = {**sam, "X-Min-Position": str(live.app.head())}
    seen = feed(client, after_admin, types="item.created,timesheet.approved")["items"]
    assert [(e["type"], e["data"]["item"]["title"]) for e in seen] == [("item.created", "Ours")]
    # The admin sees both projects and the entry
    assert len(feed(client, types="item.created,timesheet.approved")["items"]) == 3


def test_a_bad_request_is_a_problem_naming_what_is_wrong(client: TestClient) -> None:
    unknown = client.get("/api/v1/events", params={"types": "item.created,ticket.exploded"})
    assert unknown.status_code == 422
    assert unknown.headers["Content-Type"] == "application/problem+json"
    assert "ticket.exploded" in unknown.json()["detail"]
    assert client.get("/api/v1/events", params={"after": -1}).status_code == 422
    assert client.get("/api/v1/events", params={"limit": 0}).status_code == 422
    anonymous = client.get("/api/v1/events", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_every_project_is_not_every_app_and_a_switched_off_app_is_not_told(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a manager of every project who uses the tasks app only
    pat = {"Authorization": f"Bearer {user_token(live, 'pat@example.com')}"}
    pat_id = ok(client.get("/api/v1/me", headers=pat))["id"]
    changed = client.patch(
        f"/api/v1/users/{pat_id}", json={"apps": "tasks", "flags": ["manage_projects"]}
    )
    assert changed.status_code == 200, changed.text
    ann = session(client, "ann@example.com")
    created(client.post("/api/v1/tickets", json={"title": "A ticket"}))
    created(client.post("/api/v1/tasks", json={"title": "A task"}))
    created(client.post("/api/v1/portal/chats", json={"body": "Hi"}, headers=as_customer(ann)))
    # Then every project is theirs, but not the tickets nor the chats
    pat["X-Min-Position"] = str(live.app.head())  # (others' writes: Pat waits for them)
    seen = [e["type"] for e in feed(client, pat)["items"]]
    assert seen == ["item.created"]
    assert feed(client, pat)["items"][0]["data"]["item"]["kind"] == "task"
    # And with the tasks app switched off, nobody is told of tasks, nor of chats without
    # the messenger; the feed still answers
    client.patch("/api/v1/admin/settings", json={"apps": {"tasks": False, "messenger": False}})
    assert feed(client, pat)["items"] == []
    kinds = {e["data"].get("item", {}).get("kind") for e in feed(client)["items"]}
    assert kinds == {"ticket"}
    assert "chat.started" not in [e["type"] for e in feed(client)["items"]]
    assert client.get("/api/v1/triggers/chat.started").json() == []
