"""Customers in the project work, over HTTP on both backends: a project manager shares a
project with a customer organisation through the API; that organisation's contacts see it in
the portal with its items' status, planned dates and percent complete and a timeline; other
organisations' contacts, and contacts without one, get the not-found page; unsharing hides it
again; and nothing internal is ever on the project pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.project import INBOX_ID
from ledgerdesk import bootstrap
from tests.factories import user_token
from tests.pages.helpers import contact, path_of, send

PASSWORD = "correct horse battery"
CANARY = "CANARY-internal-4b1d"


@pytest.fixture
def browser(live: bootstrap.Container) -> Iterator[TestClient]:
    """A customer's browser: no Authorization header, cookies kept."""
    with TestClient(live.http_app()) as http:
        yield http


def signed_up(admin: TestClient, browser: TestClient, email: str, org: str | None) -> None:
    invited = admin.post(f"/api/v1/contacts/{contact(admin, email, org)}/portal-invitations")
    assert invited.status_code == 201, invited.text
    done = send(browser, path_of(invited.json()["link"]), password=PASSWORD,
                password_again=PASSWORD)  # fmt: skip
    assert (done.status_code, done.headers["location"]) == (303, "/portal"), done.text
    # Its reads wait for the views to have the admin's writes so far (another caller's: a
    # page shows them once the views have them)
    browser.headers["X-Min-Position"] = invited.headers["X-Log-Position"]


def made(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def organisation(admin: TestClient, name: str) -> str:
    return str(made(admin.post("/api/v1/customers", json={"name": name}))["id"])


def project_with_items(admin: TestClient) -> dict[str, Any]:
    """A project with a request, a planned task with progress and actual dates, and an
    internal message (the canary) on each."""
    project = str(made(admin.post("/api/v1/projects", json={"name": "Website relaunch"}))["id"])
    ticket = made(
        admin.post(
            "/api/v1/tickets",
            json={"title": "Hero image broken", "project_id": project,
                  "requester_email": "bob@elsewhere.example"},
        )
    )["number"]  # fmt: skip
    task = made(
        admin.post(
            "/api/v1/tasks",
            json={"title": "Design the home page", "project_id": project,
                  "start": "2026-03-02", "finish": "2026-03-13"},
        )
    )["number"]  # fmt: skip
    changed = admin.patch(
        f"/api/v1/tasks/{task}",
        json={"percent_complete": 40, "actual_start": "2026-03-03", "status": "In progress"},
    )
    assert changed.status_code == 200, changed.text
    for kind, number in (("tickets", ticket), ("tasks", task)):
        posted = admin.post(
            f"/api/v1/{kind}/{number}/messages", json={"body": CANARY, "visibility": "internal"}
        )
        assert posted.status_code == 201, posted.text
    return {"id": project, "ticket": ticket, "task": task}


def share(admin: TestClient, project: str, org: str) -> Any:
    return admin.put(f"/api/v1/projects/{project}/shares/{org}")


def test_a_manager_shares_a_project_with_an_organisation_through_the_api(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a project and a customer organisation
    acme = organisation(client, "Acme")
    project = str(made(client.post("/api/v1/projects", json={"name": "Relaunch"}))["id"])
    # When its manager shares it
    shared = share(client, project, acme)
    # Then the answer is the project, shared, with its log position
    assert shared.status_code == 200, shared.text
    assert shared.json()["shared_with"] == [acme]
    assert int(shared.headers["X-Log-Position"]) > 0
    wait = {"X-Min-Position": shared.headers["X-Log-Position"]}
    assert client.get(f"/api/v1/projects/{project}", headers=wait).json()["shared_with"] == [acme]
    # Sharing again writes nothing
    again = share(client, project, acme)
    assert again.status_code == 200
    assert again.json()["version"] == shared.json()["version"]
    # An unknown organisation or project is 404; the Inbox cannot be shared
    unknown = share(client, project, "5b0f3f5e-9a43-4c1e-a8a3-2f0e7d9c1b11")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert share(client, "5b0f3f5e-9a43-4c1e-a8a3-2f0e7d9c1b11", acme).status_code == 404
    assert share(client, str(INBOX_ID), acme).status_code == 409
    # A staff member who does not manage the project may not share or unshare it
    member = {"Authorization": f"Bearer {user_token(live, 'member@example.com')}"}
    address = f"/api/v1/projects/{project}/shares/{acme}"
    assert client.put(address, headers=member).status_code == 403
    assert client.delete(address, headers=member).status_code == 403
    # When the manager unshares it, the share is gone; unsharing again is 404
    gone = client.delete(f"/api/v1/projects/{project}/shares/{acme}")
    assert gone.status_code == 200
    assert gone.json()["shared_with"] == []
    assert client.delete(f"/api/v1/projects/{project}/shares/{acme}").status_code == 404


def test_contacts_of_the_organisation_follow_the_shared_project_and_its_timeline(
    client: TestClient, browser: TestClient
) -> None:
    # Given a project with items, shared with Acme, and an Acme contact signed in
    acme = organisation(client, "Acme")
    project = project_with_items(client)
    assert share(client, project["id"], acme).status_code == 200
    signed_up(client, browser, "ada@acme.example", acme)
    # When they open their projects
    listing = browser.get("/portal/projects")
    # Then the project is there, with how far it is
    assert listing.status_code == 200
    assert f'href="/portal/projects/{project["id"]}"' in listing.text
    assert "Website relaunch" in listing.text
    assert "0 of 1 items finished" in listing.text
    # And the project's page shows its items with status, planned dates and progress
    page = browser.get(f"/portal/projects/{project['id']}")
    assert page.status_code == 200
    text = page.text
    # (the request of another organisation's requester is not theirs to see: not listed)
    assert "Hero image broken" not in text
    assert "Design the home page" in text
    assert "In progress" in text
    assert '<time datetime="2026-03-02">Mar 2, 2026</time>' in text
    assert '<time datetime="2026-03-13">Mar 13, 2026</time>' in text
    assert '<time datetime="2026-03-03">' in text
    assert "40%" in text
    # And a timeline: a planned and an actual bar for the task, drawn without inline style
    svg = re.search(r"<svg class=\"timeline\".*?</svg>", text, re.S)
    assert svg is not None
    assert svg.group(0).count('class="planned"') == 1
    assert svg.group(0).count('class="actual') == 1
    assert "style=" not in text
    assert f'href="/portal/items/{project["ticket"]}"' not in text
    # Never an internal message
    for path in ("/portal/projects", f"/portal/projects/{project['id']}"):
        assert CANARY not in browser.get(path).text
    # In French, dates and numbers are written as the French write them
    french = browser.get(f"/portal/projects/{project['id']}?lang=fr").text
    assert "2 mars 2026" in french
    assert "40\N{NO-BREAK SPACE}%" in french or "40\N{NARROW NO-BREAK SPACE}%" in french


def test_a_request_the_contact_may_see_links_to_its_page(
    client: TestClient, browser: TestClient
) -> None:
    # Given a shared project with a request of the contact's own, converted to a task later
    acme = organisation(client, "Acme")
    project = str(made(client.post("/api/v1/projects", json={"name": "Relaunch"}))["id"])
    signed_up(client, browser, "ada@acme.example", acme)
    body = {"title": "Menu overlaps", "project_id": project, "requester_email": "ada@acme.example"}
    own = made(client.post("/api/v1/tickets", json=body))["number"]
    other = made(client.post("/api/v1/tickets", json={**body, "title": "Footer"}))["number"]
    converted = made(client.post(f"/api/v1/tickets/{other}/conversion"))["number"]
    shared = share(client, project, acme)
    assert shared.status_code == 200
    # When they open the project (once the views have the share: another caller's write)
    wait = {"X-Min-Position": shared.headers["X-Log-Position"]}
    page = browser.get(f"/portal/projects/{project}", headers=wait).text
    # Then their request links to its page, and the task it became to the request's number
    assert f'<a href="/portal/items/{own}">Menu overlaps</a>' in page
    assert f'<a href="/portal/items/{other}">Footer</a>' in page
    assert f"#{converted}" in page
    assert f"#{other}<" not in page  # The converted ticket is not listed twice.
    assert browser.get(f"/portal/items/{other}").status_code == 200


def test_other_organisations_and_contacts_without_one_get_the_not_found_page(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a project shared with Acme
    acme, globex = organisation(client, "Acme"), organisation(client, "Globex")
    project = project_with_items(client)
    assert share(client, project["id"], acme).status_code == 200
    missing = "/portal/projects/5b0f3f5e-9a43-4c1e-a8a3-2f0e7d9c1b11"
    for email, org in (("eve@globex.example", globex), ("solo@nowhere.example", None)):
        with TestClient(live.http_app()) as browser:
            signed_up(client, browser, email, org)
            # Then they see no project, and its page is the page of one that does not exist
            listing = browser.get("/portal/projects")
            assert listing.status_code == 200
            assert "No projects are shared with your organisation." in listing.text
            assert "Website relaunch" not in listing.text
            hidden = browser.get(f"/portal/projects/{project['id']}")
            nothing = browser.get(missing)
            assert (hidden.status_code, nothing.status_code) == (404, 404)
            assert hidden.text.replace(project["id"], "") == nothing.text.replace(
                missing.rsplit("/", 1)[1], ""
            )
            assert "Website relaunch" not in hidden.text
            assert CANARY not in hidden.text


def test_unsharing_hides_the_project_again(client: TestClient, browser: TestClient) -> None:
    # Given a shared project an Acme contact sees
    acme = organisation(client, "Acme")
    project = project_with_items(client)
    assert share(client, project["id"], acme).status_code == 200
    signed_up(client, browser, "ada@acme.example", acme)
    assert browser.get(f"/portal/projects/{project['id']}").status_code == 200
    # When the manager unshares it
    gone = client.delete(f"/api/v1/projects/{project['id']}/shares/{acme}")
    assert gone.status_code == 200
    # Then (once the views have the change) it is gone from the contact's pages
    wait = {"X-Min-Position": gone.headers["X-Log-Position"]}
    listing = browser.get("/portal/projects", headers=wait)
    assert "Website relaunch" not in listing.text
    assert browser.get(f"/portal/projects/{project['id']}", headers=wait).status_code == 404


def test_a_contact_who_leaves_the_organisation_no_longer_sees_its_projects(
    client: TestClient, browser: TestClient
) -> None:
    acme = organisation(client, "Acme")
    project = project_with_items(client)
    assert share(client, project["id"], acme).status_code == 200
    signed_up(client, browser, "ada@acme.example", acme)
    contact_id = contact(client, "ada@acme.example")
    moved = client.patch(f"/api/v1/contacts/{contact_id}", json={"organisation_id": None})
    assert moved.status_code == 200, moved.text
    assert browser.get(f"/portal/projects/{project['id']}").status_code == 404


def test_the_project_pages_need_a_session_and_the_portal(
    client: TestClient, browser: TestClient
) -> None:
    away = browser.get("/portal/projects", follow_redirects=False)
    assert away.headers["location"] == "/portal/login?next=/portal/projects"
    client.patch("/api/v1/admin/settings", json={"apps": {"portal": False}})
    assert browser.get("/portal/projects", follow_redirects=False).status_code == 404
