"""Who could see an item at a past moment, over HTTP, from the events up to then."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def now() -> str:
    """A moment between two writes (event timestamps come from the same clock)."""
    return datetime.now(UTC).isoformat()


def staff_user(client: TestClient, live: bootstrap.Container, email: str) -> tuple[str, Any]:
    headers = {"Authorization": f"Bearer {user_token(live, email)}"}
    return ok(client.get("/api/v1/me", headers=headers))["id"], headers


def audience(client: TestClient, number: int, moment: str, **headers: str) -> Any:
    return client.get(f"/api/v1/items/{number}/audience", params={"as_of": moment}, headers=headers)


def seen(answer: dict[str, Any]) -> tuple[set[tuple[str, str, str | None]], list[tuple[str, str]]]:
    staff = {(s["email"], s["via"], s["role"]) for s in answer["staff"]}
    return staff, [(c["email"], c["via"]) for c in answer["customers"]]


def test_the_audience_follows_shares_teams_flags_moves_and_sharing(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a project, a customer organisation with two contacts, and staff
    alpha = ok(client.post("/api/v1/projects", json={"name": "Alpha"}), 201)
    beta = ok(client.post("/api/v1/projects", json={"name": "Beta"}), 201)
    acme = ok(client.post("/api/v1/customers", json={"name": "Acme"}), 201)
    contacts = [
        ok(
            client.post("/api/v1/contacts", json={"email": email, "organisation_id": acme["id"]}),
            201,
        )
        for email in ("req@acme.example", "col@acme.example")
    ]
    colleague = contacts[1]
    ada_id, ada = staff_user(client, live, "ada@example.com")
    bob_id, _ = staff_user(client, live, "bob@example.com")
    dan_id, _ = staff_user(client, live, "dan@example.com")
    support = ok(client.post("/api/v1/teams", json={"name": "Support"}), 201)
    admin = ("admin@example.com", "admin", "manager")
    before = now()

    # When an item is opened and its audience changes step by step
    ticket = ok(
        client.post(
            "/api/v1/tickets",
            json={
                "title": "Broken",
                "project_id": alpha["id"],
                "requester_email": "req@acme.example",
            },
        ),
        201,
    )
    number = ticket["number"]
    opened = now()
    ok(client.put(f"/api/v1/projects/{alpha['id']}/members/{ada_id}", json={"role": "standard"}))
    shared = now()
    ok(client.put(f"/api/v1/projects/{alpha['id']}/teams/{support['id']}", json={"role": "lead"}))
    ok(client.put(f"/api/v1/teams/{support['id']}/members/{bob_id}", json={"role": "member"}))
    ok(client.patch(f"/api/v1/users/{dan_id}", json={"flags": ["manage_projects"]}))
    teamed = now()
    ok(client.patch(f"/api/v1/customers/{acme['id']}", json={"sharing": "everyone"}))
    everyone = now()
    ok(client.patch(f"/api/v1/tickets/{number}", json={"project_id": beta["id"]}))
    moved = now()
    # (Later changes must not rewrite what was true then.)
    ok(client.delete(f"/api/v1/teams/{support['id']}/members/{bob_id}"))
    ok(client.patch(f"/api/v1/users/{dan_id}", json={"flags": []}))
    ok(client.patch(f"/api/v1/contacts/{colleague['id']}", json={"organisation_id": None}))

    # Then each moment has its own audience
    assert ok(audience(client, number, opened))["project_id"] == alpha["id"]
    assert seen(ok(audience(client, number, opened))) == (
        {admin},
        [("req@acme.example", "requester")],
    )
    assert seen(ok(audience(client, number, shared)))[0] == {
        admin,
        ("ada@example.com", "member", "standard"),
    }
    assert seen(ok(audience(client, number, teamed))) == (
        {
            admin,
            ("ada@example.com", "member", "standard"),
            ("bob@example.com", f"team:{support['id']}", "lead"),
            ("dan@example.com", "manage_projects", None),
        },
        [("req@acme.example", "requester")],
    )
    assert seen(ok(audience(client, number, everyone)))[1] == [
        ("req@acme.example", "requester"),
        ("col@acme.example", "organisation"),
    ]
    after_move = ok(audience(client, number, moved))
    assert after_move["project_id"] == beta["id"]
    assert seen(after_move)[0] == {admin, ("dan@example.com", "manage_projects", None)}
    latest = ok(audience(client, number, now()))
    assert seen(latest) == ({admin}, [("req@acme.example", "requester")])
    # And there was no item before it was opened; members may not ask; a moment needs a zone
    assert audience(client, number, before).status_code == 404
    assert audience(client, number, opened, **ada).status_code == 403
    assert audience(client, number, "2026-11-22T10:00:00").status_code == 422


def test_a_tasks_audience_is_staff_with_the_tasks_app_and_no_customers(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Plans"}), 201)
    planner_id, _ = staff_user(client, live, "planner@example.com")
    agent_id, _ = staff_user(client, live, "agent@example.com")
    for user_id in (planner_id, agent_id):
        ok(
            client.put(
                f"/api/v1/projects/{project['id']}/members/{user_id}", json={"role": "standard"}
            )
        )
    ok(client.patch(f"/api/v1/users/{planner_id}", json={"apps": "tasks"}))
    ok(client.patch(f"/api/v1/users/{agent_id}", json={"apps": "tickets"}))
    task = ok(
        client.post(
            "/api/v1/tasks",
            json={
                "title": "Plan",
                "project_id": project["id"],
                "requester_email": "req@acme.example",
            },
        ),
        201,
    )
    answer = ok(audience(client, task["number"], now()))
    ids = {s["user_id"] for s in answer["staff"]}
    assert planner_id in ids
    assert agent_id not in ids
    assert answer["customers"] == []
