"""Regression tests for access holes found in review: each would have caught its bug."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def staff(client: TestClient, live: bootstrap.Container, email: str) -> tuple[str, dict[str, str]]:
    headers = bearer(user_token(live, email))
    return client.get("/api/v1/me", headers=headers).json()["id"], headers


def test_an_empty_patch_does_not_show_a_ticket_the_caller_may_not_see(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = client.post("/api/v1/projects", json={"name": "Private"}).json()
    ticket = client.post("/api/v1/tickets", json={"title": "x", "project_id": project["id"]})
    number = ticket.json()["number"]
    client.post(
        f"/api/v1/tickets/{number}/messages", json={"body": "SECRET-NOTE", "visibility": "internal"}
    )
    _, outsider = staff(client, live, "outsider@example.com")
    empty = client.patch(f"/api/v1/tickets/{number}", json={}, headers=outsider)
    assert empty.status_code == 404
    assert "SECRET-NOTE" not in empty.text


def test_asking_to_join_reveals_nothing_of_the_project_inside(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = client.post("/api/v1/projects", json={"name": "Closed"}).json()
    _, asker = staff(client, live, "asker@example.com")
    asked = client.post(f"/api/v1/projects/{project['id']}/join-requests", json={}, headers=asker)
    assert asked.status_code == 201
    assert asked.json() == {"id": project["id"], "name": "Closed", "join_request": "pending"}


def test_a_folder_list_cursor_never_names_a_folder_the_caller_may_not_see(
    client: TestClient, live: bootstrap.Container
) -> None:
    hidden = client.post("/api/v1/projects", json={"name": "Hidden"}).json()
    for name in ("Acquisition of Initech", "Layoffs"):
        last = client.post("/api/v1/folders", json={"project_id": hidden["id"], "name": name})
    _, outsider = staff(client, live, "outsider@example.com")
    page = client.get(
        "/api/v1/folders",
        params={"limit": 1},
        headers={**outsider, "X-Min-Position": last.headers["X-Log-Position"]},
    )
    assert page.json() == {"items": [], "next_cursor": None}


def test_a_token_cannot_mint_a_stronger_or_longer_lived_token(client: TestClient) -> None:
    limited = client.post(
        "/api/v1/me/tokens",
        json={"scopes": ["read", "write"], "expires_at": "2099-01-01T00:00:00Z"},
    ).json()
    headers = bearer(limited["access_token"])
    stronger = client.post("/api/v1/me/tokens", json={"scopes": ["admin"]}, headers=headers)
    assert stronger.status_code == 403
    same: Any = client.post("/api/v1/me/tokens", json={}, headers=headers).json()
    assert same["scopes"] == ["read", "write"]
    assert same["expires_at"].startswith("2099-01-01")


def test_portfolios_and_the_tree_hide_what_holds_nothing_the_caller_may_see(
    client: TestClient, live: bootstrap.Container
) -> None:
    portfolio = client.post("/api/v1/portfolios", json={"name": "Secret portfolio"}).json()
    created = client.post(
        "/api/v1/projects", json={"name": "Inside", "portfolio_id": portfolio["id"]}
    )
    _, outsider = staff(client, live, "outsider@example.com")
    wait = {**outsider, "X-Min-Position": created.headers["X-Log-Position"]}
    assert client.get(f"/api/v1/portfolios/{portfolio['id']}", headers=wait).status_code == 404
    assert client.get("/api/v1/portfolios", headers=wait).json()["items"] == []
    tree = client.get(
        "/api/v1/views/tree", params={"parent": f"portfolio:{portfolio['id']}"}, headers=wait
    )
    assert tree.status_code == 404


def test_staff_without_the_tickets_app_see_no_tickets_in_the_tree(
    client: TestClient, live: bootstrap.Container
) -> None:
    user_id, planner = staff(client, live, "planner@example.com")
    project = client.post("/api/v1/projects", json={"name": "Mixed"}).json()
    client.put(f"/api/v1/projects/{project['id']}/members/{user_id}", json={"role": "lead"})
    client.post("/api/v1/tickets", json={"title": "A ticket", "project_id": project["id"]})
    changed = client.patch(f"/api/v1/users/{user_id}", json={"apps": "tasks"})
    wait = {**planner, "X-Min-Position": changed.headers["X-Log-Position"]}
    page = client.get(
        "/api/v1/views/tree", params={"parent": f"project:{project['id']}"}, headers=wait
    )
    assert page.status_code == 200
    assert [c for c in page.json()["items"] if c["kind"] == "item"] == []


def test_uploads_are_refused_before_any_bytes_are_stored(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = client.post("/api/v1/projects", json={"name": "Closed"}).json()
    number = client.post(
        "/api/v1/tickets", json={"title": "x", "project_id": project["id"]}
    ).json()["number"]
    _, outsider = staff(client, live, "outsider@example.com")
    before = sorted(p.name for p in live.settings.blob_dir.rglob("*") if p.is_file())
    refused = client.post(
        f"/api/v1/tickets/{number}/attachments",
        files={"file": ("x.bin", b"unwanted bytes")},
        headers=outsider,
    )
    assert refused.status_code == 404
    after = sorted(p.name for p in live.settings.blob_dir.rglob("*") if p.is_file())
    assert after == before


def test_customers_see_only_attachments_marked_for_them(client: TestClient) -> None:
    org = client.post("/api/v1/customers", json={"name": "Acme", "sharing": "none"}).json()
    contact = client.post(
        "/api/v1/contacts", json={"email": "c@acme.example", "organisation_id": org["id"]}
    ).json()
    invited = client.post(f"/api/v1/contacts/{contact['id']}/portal-invitations").json()
    session = client.post(
        "/api/v1/portal/session",
        json={"invitation": invited["invitation"]},
        headers={"Authorization": ""},
    ).json()["access_token"]
    number = client.post(
        "/api/v1/tickets", json={"title": "Docs", "requester_email": "c@acme.example"}
    ).json()["number"]
    client.post(
        f"/api/v1/tickets/{number}/attachments", files={"file": ("internal-audit.pdf", b"a")}
    )
    last = client.post(
        f"/api/v1/tickets/{number}/attachments",
        data={"visibility": "customer"},
        files={"file": ("invoice.pdf", b"b")},
    )
    shown = client.get(
        f"/api/v1/portal/tickets/{number}",
        headers={**bearer(session), "X-Min-Position": last.headers["X-Log-Position"]},
    )
    assert [a["name"] for a in shown.json()["attachments"]] == ["invoice.pdf"]
    assert "internal-audit" not in shown.text
    staff_view = client.get(
        f"/api/v1/tickets/{number}", headers={"X-Min-Position": last.headers["X-Log-Position"]}
    ).json()["attachments"]
    assert [a["visibility"] for a in staff_view] == ["internal", "customer"]
