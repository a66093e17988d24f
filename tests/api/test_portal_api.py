"""The customer portal over HTTP, on both backends: invitations, sessions, and customers
seeing exactly the tickets the sharing rules give them, never an internal message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.customer import Sharing
from ledgerdesk import bootstrap
from tests.factories import user_token

MARKER = "ZZ-INTERNAL-7f3a-do-not-show"


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def as_customer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def fresh(live: bootstrap.Container, token: str | None = None) -> dict[str, str]:
    """Headers that make a read wait for every write so far."""
    headers = {"X-Min-Position": str(live.app.head())}
    return {**headers, **as_customer(token)} if token else headers


def organisation(client: TestClient, sharing: Sharing, name: str = "Acme") -> str:
    body = {"name": name, "sharing": sharing.value}
    return str(created(client.post("/api/v1/customers", json=body))["id"])


def contact(client: TestClient, email: str, organisation_id: str | None = None) -> str:
    body = {"email": email, "organisation_id": organisation_id}
    return str(created(client.post("/api/v1/contacts", json=body))["id"])


def invitation(client: TestClient, contact_id: str) -> str:
    invited = created(client.post(f"/api/v1/contacts/{contact_id}/portal-invitations"))
    assert invited["accept_path"] == "/api/v1/portal/session"
    return str(invited["invitation"])


def redeem(client: TestClient, invitation: str) -> httpx.Response:
    # The admin's Authorization header must not matter: the invitation is the credential.
    return client.post("/api/v1/portal/session", json={"invitation": invitation}, headers={})


def session(client: TestClient, email: str, organisation_id: str | None = None) -> str:
    """A contact with a live portal session; their token."""
    invited = invitation(client, contact(client, email, organisation_id))
    return str(created(redeem(client, invited))["access_token"])


def ticket(client: TestClient, requester: str, title: str = "Printer jammed") -> int:
    body = {"title": title, "requester_email": requester}
    return int(created(client.post("/api/v1/tickets", json=body))["number"])


def flipped(secret: str) -> str:
    """The secret with its first character changed: a forgery."""
    return ("A" if secret[0] != "A" else "B") + secret[1:]


def numbers(client: TestClient, live: bootstrap.Container, token: str) -> list[int]:
    listed = client.get("/api/v1/portal/tickets", headers=fresh(live, token))
    assert listed.status_code == 200, listed.text
    return [item["number"] for item in listed.json()["items"]]


# --- sessions -------------------------------------------------------------------------------


def test_an_invitation_is_redeemed_once_for_a_session_that_logs_out(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given an invited contact
    ada = contact(client, "ada@acme.example")
    invited = invitation(client, ada)
    assert invited.startswith("ldp_")
    # When the invitation is redeemed
    response = redeem(client, invited)
    started = created(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert started["access_token"].startswith(f"ldc_{ada.replace('-', '')}_")
    assert started["contact_id"] == ada
    # Then the session works, the invitation does not work twice
    me = client.get("/api/v1/portal/me", headers=as_customer(started["access_token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["email"], me.json()["sees"], me.json()["organisation"]) == (
        "ada@acme.example",
        "own",
        None,
    )
    again = redeem(client, invited)
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"
    # And after logging out the token is refused
    out = client.delete("/api/v1/portal/session", headers=as_customer(started["access_token"]))
    assert out.status_code == 204
    gone = client.get("/api/v1/portal/me", headers=as_customer(started["access_token"]))
    assert gone.status_code == 401


def test_forged_and_expired_portal_credentials_are_refused(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a contact with a live session
    token = session(client, "ada@acme.example")
    prefix, contact_hex, token_id, secret = token.split("_", 3)
    # Then a forged token or invitation is refused
    forged = f"{prefix}_{contact_hex}_{token_id}_{flipped(secret)}"
    assert client.get("/api/v1/portal/me", headers=as_customer(forged)).status_code == 401
    assert client.get("/api/v1/portal/me", headers={"Authorization": ""}).status_code == 401
    assert redeem(client, f"ldp_{contact_hex}_{secret}").status_code == 401
    # And so is an invitation issued already expired
    monkeypatch.setattr("commands.portal.PORTAL_INVITATION_TTL", timedelta(seconds=-1))
    stale = invitation(client, contact(client, "bob@acme.example"))
    refused = redeem(client, stale)
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]
    monkeypatch.undo()
    # And a session whose time has run out
    monkeypatch.setattr(live.portal, "session_ttl", timedelta(seconds=-1))
    expired = session(client, "cy@acme.example")
    assert client.get("/api/v1/portal/me", headers=as_customer(expired)).status_code == 401


def test_staff_tokens_fail_on_portal_routes_and_customer_tokens_on_staff_routes(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a customer session and a ticket of theirs
    token = session(client, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    # Then the admin's staff token is refused by the portal
    for path in ("/api/v1/portal/me", "/api/v1/portal/tickets", f"/api/v1/portal/tickets/{number}"):
        assert client.get(path).status_code == 401, path
    # And the customer's token is refused by staff routes
    for path in ("/api/v1/me", "/api/v1/users", f"/api/v1/tickets/{number}", "/api/v1/contacts"):
        refused = client.get(path, headers=as_customer(token))
        assert refused.status_code == 401, path
    posted = client.post(
        f"/api/v1/tickets/{number}/messages",
        json={"body": "hi", "visibility": "internal"},
        headers=as_customer(token),
    )
    assert posted.status_code == 401


def test_only_customer_managers_invite_contacts_to_the_portal(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a contact and a staff member without the manage_customers flag
    ada = contact(client, "ada@acme.example")
    token = user_token(live, "member@example.com")
    # Then their invitation is refused
    refused = client.post(
        f"/api/v1/contacts/{ada}/portal-invitations", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403


# --- what a customer sees ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sharing", "flag", "sees_colleague"),
    [
        (Sharing.NONE, False, False),
        (Sharing.EVERYONE, False, True),
        (Sharing.PER_MEMBER, False, False),
        (Sharing.PER_MEMBER, True, True),
    ],
)
def test_a_customer_sees_own_tickets_and_colleagues_exactly_per_sharing(
    client: TestClient,
    live: bootstrap.Container,
    sharing: Sharing,
    flag: bool,
    sees_colleague: bool,
) -> None:
    # Given Ada and Bob of Acme, Eve of Globex (which shares everything), a ticket of each
    acme, globex = organisation(client, sharing), organisation(client, Sharing.EVERYONE, "Globex")
    ada = session(client, "ada@acme.example", acme)
    eve = session(client, "eve@globex.example", globex)
    contact(client, "bob@acme.example", acme)
    if flag:
        ada_id = client.get("/api/v1/portal/me", headers=as_customer(ada)).json()["id"]
        patched = client.patch(f"/api/v1/contacts/{ada_id}", json={"sees_colleagues_items": True})
        assert patched.status_code == 200, patched.text
    own, colleague = ticket(client, "ada@acme.example"), ticket(client, "bob@acme.example")
    ticket(client, "someone@elsewhere.example")
    # Then Ada lists and reads her own, and Bob's exactly when the sharing allows
    assert numbers(client, live, ada) == ([colleague, own] if sees_colleague else [own])
    read = client.get(f"/api/v1/portal/tickets/{colleague}", headers=fresh(live, ada))
    assert read.status_code == (200 if sees_colleague else 404)
    assert client.get(f"/api/v1/portal/tickets/{own}", headers=fresh(live, ada)).status_code == 200
    # And Eve, of another organisation, sees nothing of Acme's, as if it did not exist
    assert numbers(client, live, eve) == []
    for number in (own, colleague):
        hidden = client.get(f"/api/v1/portal/tickets/{number}", headers=fresh(live, eve))
        missing = client.get("/api/v1/portal/tickets/9999", headers=fresh(live, eve))
        assert (hidden.status_code, missing.status_code) == (404, 404)
        assert hidden.json()["detail"] == f"no ticket #{number}"
        reply = client.post(
            f"/api/v1/portal/tickets/{number}/messages",
            json={"body": "x"},
            headers=as_customer(eve),
        )
        assert reply.status_code == 404


def test_a_contact_who_leaves_the_organisation_loses_colleagues_tickets_at_once(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given Ada and Bob in an organisation that shares everything, and Bob's ticket
    acme = organisation(client, Sharing.EVERYONE)
    ada = session(client, "ada@acme.example", acme)
    contact(client, "bob@acme.example", acme)
    bobs = ticket(client, "bob@acme.example")
    assert numbers(client, live, ada) == [bobs]
    # When Ada is taken out of the organisation
    ada_id = client.get("/api/v1/portal/me", headers=as_customer(ada)).json()["id"]
    moved = client.patch(f"/api/v1/contacts/{ada_id}", json={"organisation_id": None})
    assert moved.status_code == 200, moved.text
    # Then she sees only her own (none), and cannot read or answer Bob's
    assert numbers(client, live, ada) == []
    assert client.get(f"/api/v1/portal/tickets/{bobs}", headers=fresh(live, ada)).status_code == 404
    answer = client.post(
        f"/api/v1/portal/tickets/{bobs}/messages", json={"body": "x"}, headers=as_customer(ada)
    )
    assert answer.status_code == 404


def test_a_contact_turned_into_staff_loses_the_portal_session(
    client: TestClient, live: bootstrap.Container
) -> None:
    token = session(client, "ada@acme.example")
    ada_id = client.get("/api/v1/portal/me", headers=as_customer(token)).json()["id"]
    assert created(client.post(f"/api/v1/contacts/{ada_id}/staff-user"))
    assert client.get("/api/v1/portal/me", headers=as_customer(token)).status_code == 401
    refused = client.post(f"/api/v1/contacts/{ada_id}/portal-invitations")
    assert refused.status_code == 409


def test_internal_messages_never_reach_a_customer(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given Ada's ticket with a customer reply from staff
    token = session(client, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    replied = client.post(
        f"/api/v1/tickets/{number}/messages",
        json={"body": "We are on it", "visibility": "customer"},
    )
    assert replied.status_code == 201, replied.text
    before = client.get(f"/api/v1/portal/tickets/{number}", headers=fresh(live, token))
    listed_before = client.get("/api/v1/portal/tickets", headers=fresh(live, token))
    # When staff post an internal message and assign the ticket
    internal = client.post(
        f"/api/v1/tickets/{number}/messages", json={"body": MARKER, "visibility": "internal"}
    )
    assert internal.status_code == 201, internal.text
    assert MARKER in internal.text  # The staff answer has it: the marker is a real one.
    # Then nothing Ada can read shows it, or shows that anything happened
    after = client.get(f"/api/v1/portal/tickets/{number}", headers=fresh(live, token))
    listed = client.get("/api/v1/portal/tickets", headers=fresh(live, token))
    assert after.status_code == 200
    assert after.content == before.content
    assert listed.content == listed_before.content
    assert "etag" not in after.headers
    assert [m["body"] for m in after.json()["messages"]] == ["We are on it"]
    assert after.json()["messages"][0]["author"] == {"kind": "support", "email": None}
    # And her own reply's answer does not show it either
    answer = client.post(
        f"/api/v1/portal/tickets/{number}/messages",
        json={"body": "Thanks"},
        headers=as_customer(token),
    )
    for response in (after, listed, answer):
        assert MARKER not in response.text
        assert "internal" not in response.text
    assert {"created_by", "project_id", "assignees", "version"}.isdisjoint(after.json())


def test_a_customer_opens_a_ticket_and_replies_as_a_customer_visible_message(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a customer session
    token = session(client, "ada@acme.example")
    # When Ada opens a ticket and replies on it
    opened = client.post(
        "/api/v1/portal/tickets",
        json={"title": "Cannot log in", "description": "Since Monday"},
        headers=as_customer(token),
    )
    doc = created(opened)
    number = doc["number"]
    assert opened.headers["Location"] == f"/api/v1/portal/tickets/{number}"
    assert doc["requester_email"] == "ada@acme.example"
    answered = client.post(
        f"/api/v1/portal/tickets/{number}/messages",
        json={"body": "Still broken"},
        headers=as_customer(token),
    )
    assert created(answered)["messages"][0]["author"] == {
        "kind": "customer",
        "email": "ada@acme.example",
    }
    # Then staff see a portal ticket in the Inbox with a customer-visible reply by Ada
    staff = client.get(f"/api/v1/tickets/{number}", headers=fresh(live)).json()
    assert (staff["channel"], staff["created_by"]) == ("portal", "customer:ada@acme.example")
    assert [(m["visibility"], m["author"], m["body"]) for m in staff["messages"]] == [
        ("customer", "customer:ada@acme.example", "Still broken")
    ]
    # And Ada lists it
    assert numbers(client, live, token) == [number]


def test_the_portal_view_is_rebuilt_equal(client: TestClient, live: bootstrap.Container) -> None:
    acme = organisation(client, Sharing.EVERYONE)
    token = session(client, "ada@acme.example", acme)
    number = ticket(client, "ada@acme.example")
    client.post(
        f"/api/v1/portal/tickets/{number}/messages", json={"body": "x"}, headers=as_customer(token)
    )
    live.runner.wait_for(live.app.head(), ["portal"], 5)
    assert live.runner.verify("portal") == []


def test_a_converted_request_goes_on_in_the_portal_under_its_number(
    client: TestClient, live: bootstrap.Container
) -> None:
    token = session(client, "ada@example.com")
    number = ticket(client, "ada@example.com")
    task = created(client.post(f"/api/v1/tickets/{number}/conversion"))["number"]
    # Staff answer on the task; one answer is internal.
    for body, visibility in (("Scheduled for Monday", "customer"), (MARKER, "internal")):
        created(
            client.post(
                f"/api/v1/tasks/{task}/messages", json={"body": body, "visibility": visibility}
            )
        )
    client.patch(f"/api/v1/tasks/{task}", json={"status": "In progress"})
    seen = client.get(f"/api/v1/portal/tickets/{number}", headers=fresh(live, token))
    assert seen.status_code == 200
    assert seen.headers["X-View-Fresh"] == "true"
    assert [m["body"] for m in seen.json()["messages"]] == ["Scheduled for Monday"]
    assert seen.json()["status"] == "In progress"
    assert MARKER not in seen.text
    # The customer replies under the number they know; the reply lands on the task.
    replied = client.post(
        f"/api/v1/portal/tickets/{number}/messages",
        json={"body": "Thanks"},
        headers=as_customer(token),
    )
    assert replied.status_code == 201, replied.text
    assert [m["body"] for m in replied.json()["messages"]] == ["Scheduled for Monday", "Thanks"]
    assert MARKER not in replied.text
    on_task = client.get(f"/api/v1/tasks/{task}", headers=fresh(live)).json()
    assert [m["body"] for m in on_task["messages"]][-1] == "Thanks"
    assert live.runner.verify("portal") == []


def test_a_task_with_a_requester_never_disturbs_the_portal(
    client: TestClient, live: bootstrap.Container
) -> None:
    token = session(client, "bob@example.com")
    task = created(
        client.post("/api/v1/tasks", json={"title": "Plan", "requester_email": "bob@example.com"})
    )["number"]
    created(
        client.post(
            f"/api/v1/tasks/{task}/messages", json={"body": "hello", "visibility": "customer"}
        )
    )
    created(client.post(f"/api/v1/tasks/{task}/attachments", files={"file": ("a.txt", b"a")}))
    number = ticket(client, "bob@example.com")
    listed = client.get("/api/v1/portal/tickets", headers=fresh(live, token))
    assert listed.headers["X-View-Fresh"] == "true"
    assert [t["number"] for t in listed.json()["items"]] == [number]
    assert live.runner.verify("portal") == []
