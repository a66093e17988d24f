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
