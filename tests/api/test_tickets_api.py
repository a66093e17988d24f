"""The ticket API through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from commands.models import IssueToken
from ledgerdesk import bootstrap
from tests.factories import SYSTEM, register

PROBLEM = "application/problem+json"

NO_SLA = {
    "policy": None,
    "state": None,
    "next_due": None,
    "due": None,
}  # an item held to no SLA policy


def open_ticket(client: TestClient, **body: object) -> dict:  # type: ignore[type-arg]
    body.setdefault("title", "Printer jammed")
    response = client.post("/api/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    return {"body": response.json(), "headers": response.headers}


def read(client: TestClient, path: str, position: str) -> dict:  # type: ignore[type-arg]
    response = client.get(path, headers={"X-Min-Position": position})
    assert response.status_code == 200, response.text
    assert response.headers.get("X-View-Fresh") == "true"
    return response.json()  # type: ignore[no-any-return]


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/api/v1/health", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_every_other_route_needs_a_valid_bearer_token(client: TestClient) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer ld_forged_x_y"}):
        response = client.get("/api/v1/views/flat", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["type"] == "/problems/unauthorized"


def test_opening_a_ticket_answers_with_it_its_location_version_and_position(
    client: TestClient,
) -> None:
    created = open_ticket(client, priority="high", requester_email="Ada@Example.com")
    ticket, headers = created["body"], created["headers"]
    assert headers["Location"] == f"/api/v1/tickets/{ticket['number']}"
    assert headers["ETag"] == '"1"'
    assert int(headers["X-Log-Position"]) > 0
    assert ticket["status"] == "New"
    assert ticket["state"] == "not_started"
    assert ticket["priority"] == "high"
    assert ticket["requester_email"] == "ada@example.com"
    assert ticket["messages"] == []
    assert ticket["attachments"] == []
    again = read(client, headers["Location"], headers["X-Log-Position"])
    assert again == {**ticket, "sla": NO_SLA}  # the read adds the SLA


def test_invalid_bodies_get_a_problem_naming_each_field(client: TestClient) -> None:
    response = client.post("/api/v1/tickets", json={"title": "", "priority": "asap", "surprise": 1})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    locations = {tuple(e["location"]) for e in problem["errors"]}
    assert {("body", "title"), ("body", "priority"), ("body", "surprise")} <= locations
    bad_email = client.post("/api/v1/tickets", json={"title": "t", "requester_email": "nope"})
    assert bad_email.status_code == 422
    assert bad_email.json()["errors"][0]["location"] == ["body", "requester_email"]


def test_a_rejected_command_appends_no_event(client: TestClient) -> None:
    created = open_ticket(client)
    number = created["body"]["number"]
    response = client.patch(
        f"/api/v1/tickets/{number}", json={"title": "Renamed", "status": "Nonsense"}
    )
    assert response.status_code == 422
    assert "Nonsense" in response.json()["detail"]
    position = created["headers"]["X-Log-Position"]
    history = read(client, f"/api/v1/tickets/{number}/history", position)
    assert [h["type"] for h in history] == ["Ticket.Opened"]


def test_patch_records_one_event_per_changed_field_and_none_for_no_change(
    client: TestClient,
) -> None:
    number = open_ticket(client)["body"]["number"]
    response = client.patch(
        f"/api/v1/tickets/{number}",
        json={
            "title": "Printer on fire",
            "priority": "urgent",
            "status": "open",
            "description": "",
        },
    )
    assert response.status_code == 200
    assert response.json()["version"] == 4
    same = client.patch(f"/api/v1/tickets/{number}", json={"title": "Printer on fire"})
    assert same.json()["version"] == 4
    history = read(client, f"/api/v1/tickets/{number}/history", same.headers["X-Log-Position"])
    assert [h["type"] for h in history] == [
        "Ticket.Opened",
        "Ticket.Retitled",
        "Ticket.Reprioritised",
        "Ticket.StatusChanged",
    ]
    assert history[1]["changes"] == {"title": "Printer on fire"}
    assert [h["position"] for h in history] == sorted(h["position"] for h in history)


def test_if_match_with_a_stale_version_gets_412_and_changes_nothing(
    client: TestClient,
) -> None:
    number = open_ticket(client)["body"]["number"]
    first = client.patch(
        f"/api/v1/tickets/{number}", json={"title": "A"}, headers={"If-Match": '"1"'}
    )
    assert first.status_code == 200
    assert first.headers["ETag"] == '"2"'
    stale = client.patch(
        f"/api/v1/tickets/{number}", json={"title": "B"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert stale.headers["ETag"] == '"2"'
    malformed = client.patch(
        f"/api/v1/tickets/{number}", json={"title": "B"}, headers={"If-Match": "yesterday"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["location"] == ["header", "If-Match"]
    current = read(client, f"/api/v1/tickets/{number}", first.headers["X-Log-Position"])
    assert current["title"] == "A"


def test_unknown_tickets_and_routes_are_404_problems(client: TestClient) -> None:
    for path in ("/api/v1/tickets/999", "/api/v1/tickets/999/history", "/api/v1/nowhere"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == PROBLEM
    assert client.patch("/api/v1/tickets/999", json={"title": "x"}).status_code == 404


def test_messages_thread_and_keep_their_visibility(client: TestClient) -> None:
    number = open_ticket(client)["body"]["number"]
    path = f"/api/v1/tickets/{number}/messages"
    question = client.post(path, json={"body": "Is it on?", "visibility": "customer"})
    assert question.status_code == 201
    question_id = question.headers["X-Message-ID"]
    note = client.post(
        path,
        json={"body": "Customer again", "visibility": "internal", "in_reply_to": question_id},
    )
    assert note.status_code == 201
    messages = note.json()["messages"]
    assert [(m["visibility"], m["in_reply_to"]) for m in messages] == [
        ("customer", None),
        ("internal", question_id),
    ]
    leak = client.post(
        path,
        json={"body": "x", "visibility": "customer", "in_reply_to": note.headers["X-Message-ID"]},
    )
    assert leak.status_code == 422
    orphan = client.post(
        path, json={"body": "x", "visibility": "internal", "in_reply_to": str(uuid.uuid4())}
    )
    assert orphan.status_code == 422
    assert client.post(path, json={"body": "x", "visibility": "public"}).status_code == 422


def test_assignees_and_followers_are_staff_users(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = open_ticket(client)["body"]["number"]
    ada, bob = register(live, "ada@example.com"), register(live, "bob@example.com")
    base = f"/api/v1/tickets/{number}"
    assert client.put(f"{base}/assignees/{ada}").status_code == 200
    both = client.put(f"{base}/assignees/{bob}")
    assert sorted(both.json()["assignees"]) == sorted([str(ada), str(bob)])
    assert client.delete(f"{base}/assignees/{ada}").json()["assignees"] == [str(bob)]
    assert client.put(f"{base}/followers/{ada}").json()["followers"] == [str(ada)]
    assert client.delete(f"{base}/followers/{ada}").json()["followers"] == []
    stranger = client.put(f"{base}/assignees/{uuid.uuid4()}")
    assert stranger.status_code == 404
    assert stranger.headers["content-type"] == PROBLEM
    flat = read(client, f"/api/v1/views/flat?assignee={bob}", both.headers["X-Log-Position"])
    assert [i["number"] for i in flat["items"]] == [number]


def test_as_of_shows_the_ticket_as_it_was(client: TestClient) -> None:
    number = open_ticket(client, title="Before")["body"]["number"]
    between = datetime.now(UTC).isoformat()
    client.patch(f"/api/v1/tickets/{number}", json={"title": "After"})
    then = client.get(f"/api/v1/tickets/{number}", params={"as_of": between})
    assert then.status_code == 200
    assert (then.json()["title"], then.json()["version"]) == ("Before", 1)
    assert then.headers["ETag"] == '"1"'
    before = client.get(f"/api/v1/tickets/{number}", params={"as_of": "2000-01-01T00:00:00Z"})
    assert before.status_code == 404
    naive = client.get(f"/api/v1/tickets/{number}", params={"as_of": "2030-01-01T00:00:00"})
    assert naive.status_code == 422


def test_only_admins_create_users_and_an_email_is_taken_once(
    client: TestClient, live: bootstrap.Container
) -> None:
    created = client.post("/api/v1/users", json={"email": "eve@example.com", "name": "Eve"})
    assert created.status_code == 201
    assert created.json()["email"] == "eve@example.com"
    shown = client.get(created.headers["Location"])
    assert shown.status_code == 200
    assert shown.json() == created.json()
    assert client.get(f"/api/v1/users/{uuid.uuid4()}").status_code == 404
    again = client.post("/api/v1/users", json={"email": "EVE@example.com", "name": "E"})
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    token = live.accounts.issue_token(IssueToken(email="eve@example.com"), SYSTEM)[1]
    member = client.post(
        "/api/v1/users",
        json={"email": "mal@example.com", "name": "Mal"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert member.status_code == 403
    assert member.json()["type"] == "/problems/forbidden"
