"""Projects, portfolios, folders and project roles over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token

PROBLEM = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def member(client: TestClient, live: bootstrap.Container, email: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    token = user_token(live, email)
    me = ok(client.get("/api/v1/me", headers=bearer(token)))
    return me["id"], bearer(token)


def test_only_admins_and_project_managers_create_projects_and_creators_manage_them(
    client: TestClient, live: bootstrap.Container
) -> None:
    ada_id, ada = member(client, live, "ada@example.com")
    refused = client.post("/api/v1/projects", json={"name": "Relaunch"}, headers=ada)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    ok(client.patch(f"/api/v1/users/{ada_id}", json={"flags": ["manage_projects"]}))
    project = ok(client.post("/api/v1/projects", json={"name": "Relaunch"}, headers=ada), 201)
    assert project["members"] == {ada_id: "manager"}
    assert ok(client.post("/api/v1/projects", json={"name": "   "}), 422)["errors"]


def test_a_project_sits_in_several_customer_folders_and_one_portfolio(
    client: TestClient,
) -> None:
    top = ok(client.post("/api/v1/portfolios", json={"name": "Clients"}), 201)
    sub = ok(client.post("/api/v1/portfolios", json={"name": "2027", "parent_id": top["id"]}), 201)
    acme, globex = str(uuid.uuid4()), str(uuid.uuid4())
    project = ok(
        client.post(
            "/api/v1/projects",
            json={"name": "Shared", "portfolio_id": sub["id"], "customer_ids": [acme, globex]},
        ),
        201,
    )
    assert project["customer_ids"] == [acme, globex]
    assert project["portfolio_id"] == sub["id"]
    change = client.patch(
        f"/api/v1/projects/{project['id']}",
        json={"remove_customer_ids": [acme], "move_portfolio": True},
    )
    moved = ok(change)
    assert (moved["customer_ids"], moved["portfolio_id"]) == ([globex], None)
    cycle = client.patch(
        f"/api/v1/portfolios/{top['id']}", json={"move": True, "parent_id": sub["id"]}
    )
    assert cycle.status_code == 422
    listed = ok(
        client.get(
            "/api/v1/portfolios",
            params={"parent": top["id"]},
            headers={"X-Min-Position": change.headers["X-Log-Position"]},
        )
    )
    assert [p["name"] for p in listed["items"]] == ["2027"]


def test_folders_nest_move_with_their_contents_and_never_inside_themselves(
    client: TestClient,
) -> None:
    one = ok(client.post("/api/v1/projects", json={"name": "One"}), 201)
    two = ok(client.post("/api/v1/projects", json={"name": "Two"}), 201)
    outer = ok(client.post("/api/v1/folders", json={"project_id": one["id"], "name": "Outer"}), 201)
    inner = ok(
        client.post(
            "/api/v1/folders",
            json={"project_id": one["id"], "name": "Inner", "parent_id": outer["id"]},
        ),
        201,
    )
    assert (
        client.patch(
            f"/api/v1/folders/{outer['id']}", json={"move": True, "parent_id": inner["id"]}
        ).status_code
        == 422
    )
    wrong_project = client.post(
        "/api/v1/folders", json={"project_id": two["id"], "name": "X", "parent_id": outer["id"]}
    )
    assert wrong_project.status_code == 404
    to_top = ok(client.patch(f"/api/v1/folders/{inner['id']}", json={"move": True}))
    assert (to_top["project_id"], to_top["parent_id"]) == (one["id"], None)
    ok(
        client.patch(
            f"/api/v1/folders/{inner['id']}", json={"move": True, "parent_id": outer["id"]}
        )
    )
    ticket = ok(
        client.post(
            "/api/v1/tickets",
            json={"title": "Filed", "project_id": one["id"], "folder_id": inner["id"]},
        ),
        201,
    )
    loose = ok(
        client.post("/api/v1/tickets", json={"title": "Loose", "project_id": one["id"]}), 201
    )
    moved_in = client.patch(f"/api/v1/tickets/{loose['number']}", json={"folder_id": outer["id"]})
    assert ok(moved_in)["folder_id"] == outer["id"]
    # When the outer folder moves to project two, everything inside goes along.
    across = client.patch(
        f"/api/v1/folders/{outer['id']}", json={"move": True, "project_id": two["id"]}
    )
    assert ok(across)["project_id"] == two["id"]
    wait = {"X-Min-Position": across.headers["X-Log-Position"]}
    assert ok(client.get(f"/api/v1/folders/{inner['id']}", headers=wait))["project_id"] == two["id"]
    for number, folder_id in ((ticket["number"], inner["id"]), (loose["number"], outer["id"])):
        moved = ok(client.get(f"/api/v1/tickets/{number}", headers=wait))
        assert (moved["project_id"], moved["folder_id"]) == (two["id"], folder_id)
    listed = ok(client.get("/api/v1/views/flat", params={"project": two["id"]}, headers=wait))
    assert {i["number"] for i in listed["items"]} == {ticket["number"], loose["number"]}
    # And an item moved out of a folder no longer travels with it.
    out = client.patch(f"/api/v1/tickets/{loose['number']}", json={"project_id": two["id"]})
    assert ok(out)["folder_id"] is None
    back = client.patch(
        f"/api/v1/folders/{outer['id']}", json={"move": True, "project_id": one["id"]}
    )
    wait = {"X-Min-Position": back.headers["X-Log-Position"]}
    assert (
        ok(client.get(f"/api/v1/tickets/{loose['number']}", headers=wait))["project_id"]
        == (two["id"])
    )
    assert (
        ok(client.get(f"/api/v1/tickets/{ticket['number']}", headers=wait))["project_id"]
        == (one["id"])
    )


def test_a_join_request_is_approved_with_a_role_or_denied(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Ops"}), 201)
    base = f"/api/v1/projects/{project['id']}"
    ada_id, ada = member(client, live, "ada@example.com")
    bob_id, bob = member(client, live, "bob@example.com")
    asked = ok(client.post(f"{base}/join-requests", json={"message": "please"}, headers=ada), 201)
    assert asked["join_request"] == "pending"
    bob_asks = client.post(f"{base}/join-requests", json={}, headers=bob)
    pending = ok(client.get(base, headers={"X-Min-Position": bob_asks.headers["X-Log-Position"]}))
    assert sorted(r["user_id"] for r in pending["join_requests"]) == sorted([ada_id, bob_id])
    assert (
        client.put(
            f"{base}/join-requests/{ada_id}", json={"approve": True}, headers=bob
        ).status_code
        == 403
    )
    approved = ok(
        client.put(f"{base}/join-requests/{ada_id}", json={"approve": True, "role": "lead"})
    )
    assert approved["members"][ada_id] == "lead"
    decision = client.put(
        f"{base}/join-requests/{bob_id}", json={"approve": False, "reason": "not yours"}
    )
    denied = ok(decision)
    assert bob_id not in denied["members"]
    assert denied["join_requests"] == []
    again = client.post(f"{base}/join-requests", json={}, headers=ada)
    assert again.status_code == 409
    view = ok(client.get(base, headers={"X-Min-Position": decision.headers["X-Log-Position"]}))
    assert view["members"][ada_id] == "lead"
    assert view["join_requests"] == []


def test_project_roles_decide_who_opens_edits_and_comments(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Desk"}), 201)
    base = f"/api/v1/projects/{project['id']}"
    people = {}
    for role in ("lead", "standard", "restricted"):
        user_id, headers = member(client, live, f"{role}@example.com")
        ok(client.put(f"{base}/members/{user_id}", json={"role": role}))
        people[role] = headers
    _, outsider = member(client, live, "outsider@example.com")
    create = {"title": "Broken", "project_id": project["id"]}
    assert client.post("/api/v1/tickets", json=create, headers=outsider).status_code == 403
    assert (
        client.post("/api/v1/tickets", json=create, headers=people["restricted"]).status_code == 403
    )
    own = ok(client.post("/api/v1/tickets", json=create, headers=people["standard"]), 201)
    other = ok(client.post("/api/v1/tickets", json=create), 201)
    assert own["project_id"] == project["id"]
    edit = {"title": "Edited"}
    assert (
        client.patch(
            f"/api/v1/tickets/{own['number']}", json=edit, headers=people["standard"]
        ).status_code
        == 200
    )
    assert (
        client.patch(
            f"/api/v1/tickets/{other['number']}", json=edit, headers=people["standard"]
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/tickets/{other['number']}", json=edit, headers=people["lead"]
        ).status_code
        == 200
    )
    note = {"body": "seen", "visibility": "internal"}
    assert (
        client.post(
            f"/api/v1/tickets/{other['number']}/messages", json=note, headers=people["restricted"]
        ).status_code
        == 201
    )
    assert (
        client.patch(
            f"/api/v1/tickets/{other['number']}", json=edit, headers=people["restricted"]
        ).status_code
        == 403
    )
    # An outsider may not learn the ticket exists: 404, for reads and writes alike.
    outsider_post = client.post(
        f"/api/v1/tickets/{other['number']}/messages", json=note, headers=outsider
    )
    assert outsider_post.status_code == 404
    assert client.get(f"/api/v1/tickets/{other['number']}", headers=outsider).status_code == 404
    history = client.get(f"/api/v1/tickets/{other['number']}/history", headers=outsider)
    assert history.status_code == 404
    assert client.get("/api/v1/views/flat", headers=outsider).json()["items"] == []
    last_write = client.patch(f"/api/v1/tickets/{other['number']}", json={"title": "Final"})
    position = last_write.headers["X-Log-Position"]
    seen = client.get(
        "/api/v1/views/flat", headers={**people["restricted"], "X-Min-Position": position}
    ).json()["items"]
    assert sorted(i["number"] for i in seen) == sorted([own["number"], other["number"]])


def test_tickets_open_in_the_inbox_and_move_between_projects_and_folders(
    client: TestClient,
) -> None:
    ticket = ok(client.post("/api/v1/tickets", json={"title": "Where am I"}), 201)
    inbox = ticket["project_id"]
    project = ok(client.post("/api/v1/projects", json={"name": "Target"}), 201)
    folder = ok(
        client.post("/api/v1/folders", json={"project_id": project["id"], "name": "Bugs"}), 201
    )
    moved = client.patch(f"/api/v1/tickets/{ticket['number']}", json={"folder_id": folder["id"]})
    assert ok(moved)["project_id"] == project["id"]
    assert moved.json()["folder_id"] == folder["id"]
    listed = ok(
        client.get(
            "/api/v1/views/flat",
            params={"project": project["id"]},
            headers={"X-Min-Position": moved.headers["X-Log-Position"]},
        )
    )
    assert [i["number"] for i in listed["items"]] == [ticket["number"]]
    assert ok(client.get("/api/v1/views/flat", params={"project": inbox}))["items"] == []
    history = ok(client.get(f"/api/v1/tickets/{ticket['number']}/history"))
    assert history[-1]["type"] == "Ticket.Moved"
    unknown = client.patch(
        f"/api/v1/tickets/{ticket['number']}", json={"project_id": str(uuid.uuid4())}
    )
    assert unknown.status_code == 404


def test_a_ticket_is_given_to_one_team_at_a_time(client: TestClient) -> None:
    support = ok(client.post("/api/v1/teams", json={"name": "Support"}), 201)
    billing = ok(client.post("/api/v1/teams", json={"name": "Billing"}), 201)
    ticket = ok(client.post("/api/v1/tickets", json={"title": "Refund"}), 201)
    base = f"/api/v1/tickets/{ticket['number']}/team"
    assert ok(client.put(f"{base}/{support['id']}"))["team_id"] == support["id"]
    moved = client.put(f"{base}/{billing['id']}")
    assert ok(moved)["team_id"] == billing["id"]
    listed = ok(
        client.get(
            "/api/v1/views/flat",
            params={"team": billing["id"]},
            headers={"X-Min-Position": moved.headers["X-Log-Position"]},
        )
    )
    assert [i["number"] for i in listed["items"]] == [ticket["number"]]
    assert ok(client.delete(base))["team_id"] is None
    assert client.put(f"{base}/{uuid.uuid4()}").status_code == 404


def test_staff_without_the_tickets_app_cannot_use_tickets(
    client: TestClient, live: bootstrap.Container
) -> None:
    user_id, headers = member(client, live, "planner@example.com")
    project = ok(client.post("/api/v1/projects", json={"name": "Both kinds"}), 201)
    ok(client.put(f"/api/v1/projects/{project['id']}/members/{user_id}", json={"role": "standard"}))
    place = {"project_id": project["id"]}
    ticket = ok(client.post("/api/v1/tickets", json={"title": "A ticket", **place}), 201)
    task = ok(client.post("/api/v1/tasks", json={"title": "A task", **place}), 201)
    changed = client.patch(f"/api/v1/users/{user_id}", json={"apps": "tasks"})
    wait = {**headers, "X-Min-Position": changed.headers["X-Log-Position"]}
    # The flat list shows them the items of their apps: tasks, never tickets.
    listed = ok(client.get("/api/v1/views/flat", headers=wait))["items"]
    assert {i["kind"] for i in listed} <= {"task"}
    assert task["number"] in [i["number"] for i in listed]
    refused = client.get(f"/api/v1/tickets/{ticket['number']}", headers=wait)
    assert refused.status_code == 403
    assert "tickets app" in refused.json()["detail"]
    assert client.post("/api/v1/tickets", json={"title": "x"}, headers=headers).status_code == 403
    back = client.patch(f"/api/v1/users/{user_id}", json={"apps": "tickets"})
    wait = {**headers, "X-Min-Position": back.headers["X-Log-Position"]}
    listed = ok(client.get("/api/v1/views/flat", headers=wait))["items"]
    assert [i["kind"] for i in listed] == ["ticket"]
    assert client.get(f"/api/v1/tasks/{task['number']}", headers=wait).status_code == 403
    assert client.post("/api/v1/tasks", json={"title": "x"}, headers=headers).status_code == 403


def test_non_members_see_a_project_name_to_ask_to_join_but_nothing_inside(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Secret"}), 201)
    folder = client.post("/api/v1/folders", json={"project_id": project["id"], "name": "F"})
    _, outsider = member(client, live, "outsider@example.com")
    wait = {**outsider, "X-Min-Position": folder.headers["X-Log-Position"]}
    listed = ok(client.get("/api/v1/projects", headers=wait))["items"]
    assert {"id": project["id"], "name": "Secret"} in listed
    detail = client.get(f"/api/v1/projects/{project['id']}", headers=outsider)
    assert detail.status_code == 403
    assert client.get(f"/api/v1/folders/{folder.json()['id']}", headers=outsider).status_code == 404
    assert ok(client.get("/api/v1/folders", headers=outsider))["items"] == []


def test_if_match_guards_every_patch_of_the_organisation_resources(client: TestClient) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Versioned"}), 201)
    portfolio = ok(client.post("/api/v1/portfolios", json={"name": "P"}), 201)
    folder = ok(
        client.post("/api/v1/folders", json={"project_id": project["id"], "name": "F"}), 201
    )
    team = ok(client.post("/api/v1/teams", json={"name": "T"}), 201)
    me = ok(client.get("/api/v1/me"))
    for path, body, version in (
        (f"/api/v1/projects/{project['id']}", {"name": "V2"}, project["version"]),
        (f"/api/v1/portfolios/{portfolio['id']}", {"name": "P2"}, portfolio["version"]),
        (f"/api/v1/folders/{folder['id']}", {"name": "F2"}, folder["version"]),
        (f"/api/v1/teams/{team['id']}", {"name": "T2"}, team["version"]),
        (f"/api/v1/users/{me['id']}", {"name": "Root"}, me["version"]),
    ):
        stale = client.patch(path, json=body, headers={"If-Match": f'"{version + 5}"'})
        assert stale.status_code == 412, path
        assert stale.headers["ETag"] == f'"{version}"'
        fine = client.patch(path, json=body, headers={"If-Match": f'"{version}"'})
        assert fine.status_code == 200, (path, fine.text)


def test_a_folders_etag_follows_what_is_filed_in_it(client: TestClient) -> None:
    # Given a folder, and a ticket filed in it and a subfolder added to it
    project = ok(client.post("/api/v1/projects", json={"name": "One"}), 201)
    folder = ok(
        client.post("/api/v1/folders", json={"project_id": project["id"], "name": "F"}), 201
    )
    ticket = {"title": "Filed", "project_id": project["id"], "folder_id": folder["id"]}
    ok(client.post("/api/v1/tickets", json=ticket), 201)
    sub = {"project_id": project["id"], "name": "Sub", "parent_id": folder["id"]}
    ok(client.post("/api/v1/folders", json=sub), 201)
    # When the folder is read, then changed with the ETag that read gave
    read = client.get(f"/api/v1/folders/{folder['id']}")
    renamed = client.patch(
        f"/api/v1/folders/{folder['id']}",
        json={"name": "G"},
        headers={"If-Match": read.headers["ETag"]},
    )
    # Then the ETag was current: the change is made, not refused as stale
    assert renamed.status_code == 200, renamed.text
