"""Mailboxes through the API: admins add one routed to a project, its mail lands there (and
mail for a removed one is refused), a mailbox is routed anew or removed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from commands.models import IssueToken, RegisterUser
from ledgerdesk import bootstrap
from tests.factories import SYSTEM

RFC822 = {"Content-Type": "message/rfc822"}


def message(to: str, mid: str) -> bytes:
    return (
        f"From: Ada <ada@acme.example>\r\nTo: {to}\r\nSubject: Invoice wrong\r\n"
        f"Message-ID: <{mid}@acme.example>\r\n\r\nPlease fix.\r\n"
    ).encode()


def test_mail_to_a_mailbox_lands_in_its_project_with_its_team_and_priority(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = client.post("/api/v1/projects", json={"name": "Billing"}).json()["id"]
    team = client.post("/api/v1/teams", json={"name": "Billing desk"}).json()["id"]
    # When an admin adds a mailbox routed to the project
    added = client.post(
        "/api/v1/mail/mailboxes",
        json={"address": "Billing@Example.com", "name": "Billing", "project_id": project,
              "team_id": team, "priority": "high"},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    mailbox = added.json()
    assert mailbox["address"] == "billing@example.com"
    assert client.get(added.headers["Location"]).json()["project_id"] == project
    listed = client.get("/api/v1/mail/mailboxes").json()["items"]
    assert [m["address"] for m in listed] == ["billing@example.com"]
    # Then mail to it opens a ticket there, with its team and priority
    filed = client.post(
        "/api/v1/mail/inbound", params={"to": "billing@example.com"},
        content=message("billing@example.com", "b-1"), headers=RFC822,
    )  # fmt: skip
    assert filed.json()["outcome"] == "created", filed.text
    ticket = client.get(f"/api/v1/tickets/{filed.json()['number']}").json()
    assert (ticket["project_id"], ticket["team_id"], ticket["priority"]) == (project, team, "high")
    # And an address already a mailbox is 409; the install's own address is no mailbox
    again = client.post(
        "/api/v1/mail/mailboxes", json={"address": "billing@example.com", "project_id": project}
    )
    assert again.status_code == 409, again.text
    own = client.post(
        "/api/v1/mail/mailboxes",
        json={"address": "support@ledgerdesk.local", "project_id": project},
    )
    assert own.status_code == 422, own.text
    # When it is removed, its mail is refused
    assert client.delete(f"/api/v1/mail/mailboxes/{mailbox['id']}").status_code == 204
    refused = client.post(
        "/api/v1/mail/inbound", params={"to": "billing@example.com"},
        content=message("billing@example.com", "b-2"), headers=RFC822,
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert client.get(f"/api/v1/mail/mailboxes/{mailbox['id']}").status_code == 404
    # And added again, routed anew
    readded = client.post(
        "/api/v1/mail/mailboxes", json={"address": "billing@example.com", "project_id": project}
    )
    assert (readded.status_code, readded.json()["priority"]) == (201, "normal"), readded.text


def test_a_mailbox_is_routed_anew_with_if_match_and_only_by_admins(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = client.post("/api/v1/projects", json={"name": "Sales"}).json()["id"]
    added = client.post(
        "/api/v1/mail/mailboxes", json={"address": "sales@example.com", "project_id": project}
    ).json()
    path = f"/api/v1/mail/mailboxes/{added['id']}"
    stale = client.put(path, json={"project_id": project}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    routed = client.put(
        path, json={"project_id": project, "priority": "urgent"}, headers={"If-Match": '"1"'}
    )
    assert (routed.status_code, routed.json()["priority"]) == (200, "urgent"), routed.text
    unknown = client.put(path, json={"project_id": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 404
    # A member may not
    live.accounts.register_user(RegisterUser(email="member@example.com", name="Member"), SYSTEM)
    _, member = live.accounts.issue_token(IssueToken(email="member@example.com"), SYSTEM)
    denied = client.get("/api/v1/mail/mailboxes", headers={"Authorization": f"Bearer {member}"})
    assert denied.status_code == 403


def test_plus_addressing_by_project_slug_routes_to_that_project(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a project with a slug, and a mailbox routed elsewhere with a folder and a team
    web = client.post("/api/v1/projects", json={"name": "Website", "slug": "Web-Site"})
    assert web.status_code == 201, web.text
    assert web.json()["slug"] == "web-site"
    website = web.json()["id"]
    sales = client.post("/api/v1/projects", json={"name": "Sales"}).json()["id"]
    team = client.post("/api/v1/teams", json={"name": "Front desk"}).json()["id"]
    client.post(
        "/api/v1/mail/mailboxes",
        json={"address": "sales@example.com", "project_id": sales, "team_id": team},
    )

    def filed(to: str, mid: str) -> dict[str, object]:
        answer = client.post(
            "/api/v1/mail/inbound", params={"to": to}, content=message(to, mid), headers=RFC822
        )
        assert answer.json()["outcome"] == "created", answer.text
        ticket: dict[str, object] = client.get(f"/api/v1/tickets/{answer.json()['number']}").json()
        return ticket

    # Then the install's address +slug opens the item in that project, any case
    assert filed("Support+WEB-SITE@ledgerdesk.local", "s-1")["project_id"] == website
    # A mailbox's address +slug too, keeping the mailbox's team
    via_mailbox = filed("sales+web-site@example.com", "s-2")
    assert (via_mailbox["project_id"], via_mailbox["team_id"]) == (website, team)
    # An unknown +detail keeps the address's own route: nothing is refused or lost
    assert filed("support+nosuchproject@ledgerdesk.local", "s-3")["project_id"] != website
    assert filed("sales+nosuchproject@example.com", "s-4")["project_id"] == sales
    # A stranger's address +slug is still refused
    refused = client.post(
        "/api/v1/mail/inbound", params={"to": "other+web-site@example.com"},
        content=message("other+web-site@example.com", "s-5"), headers=RFC822,
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    # When the slug moves to another project, mail follows it
    moved = client.patch(f"/api/v1/projects/{website}", json={"slug": ""})
    assert (moved.status_code, moved.json()["slug"]) == (200, None), moved.text
    taken = client.patch(f"/api/v1/projects/{sales}", json={"slug": "web-site"})
    assert taken.status_code == 200, taken.text
    assert filed("support+web-site@ledgerdesk.local", "s-6")["project_id"] == sales


def test_a_project_slug_is_unique_and_checked(client: TestClient) -> None:
    first = client.post("/api/v1/projects", json={"name": "One", "slug": "shared"}).json()
    taken = client.post("/api/v1/projects", json={"name": "Two", "slug": "SHARED"})
    assert taken.status_code == 409, taken.text
    assert "shared" in taken.json()["detail"]
    # Nothing of the refused project was written
    names = [p["name"] for p in client.get("/api/v1/projects").json()["items"]]
    assert "Two" not in names
    for bad in ("has space", "dot.ted", "-edge", "x" * 51, "ünï"):
        refused = client.post("/api/v1/projects", json={"name": "Bad", "slug": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert "slug" in refused.text
    # The listing and the project show it
    shown = client.get(f"/api/v1/projects/{first['id']}").json()
    assert shown["slug"] == "shared"
    # A project renamed keeps its slug; a patch without slug leaves it
    client.patch(f"/api/v1/projects/{first['id']}", json={"name": "Uno"})
    assert client.get(f"/api/v1/projects/{first['id']}").json()["slug"] == "shared"
