"""Customer organisations and contacts over HTTP, on both backends."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
from fastapi.testclient import TestClient

from commands.models import IssueToken, RegisterUser
from domain.user import Flag
from ledgerdesk import bootstrap
from tests.factories import SYSTEM

PROBLEM = "application/problem+json"


def bearer(c: bootstrap.Container, email: str, *flags: Flag) -> dict[str, str]:
    """Headers of a member staff user with `flags`."""
    c.accounts.register_user(RegisterUser(email=email, name=email, flags=list(flags)), SYSTEM)
    return {"Authorization": f"Bearer {c.accounts.issue_token(IssueToken(email=email), SYSTEM)[1]}"}


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def after(response: httpx.Response) -> dict[str, str]:
    """Headers that make a read wait for the write `response` answered."""
    return {"X-Min-Position": response.headers["X-Log-Position"]}


def test_an_organisation_is_registered_read_and_changed_with_if_match(
    client: TestClient,
) -> None:
    # Given a registered organisation
    response = client.post("/api/v1/customers", json={"name": "Acme", "domains": ["ACME.example"]})
    acme = created(response)
    assert response.headers["Location"] == f"/api/v1/customers/{acme['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (acme["name"], acme["domains"], acme["sharing"]) == ("Acme", ["acme.example"], "none")
    # When it is read through the view
    read = client.get(f"/api/v1/customers/{acme['id']}", headers=after(response))
    assert read.status_code == 200
    assert read.headers["X-View-Fresh"] == "true"
    assert read.headers["ETag"] == '"1"'
    assert {k: v for k, v in read.json().items() if k != "contact_count"} == {
        k: v for k, v in acme.items() if k != "contact_count"
    }
    assert read.json()["contact_count"] == 0
    # And changed at the version read
    patch = {"name": "Acme Ltd", "sharing": "per_member", "domains": ["acme.test"]}
    changed = client.patch(
        f"/api/v1/customers/{acme['id']}", json=patch, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"4"'
    assert {k: changed.json()[k] for k in patch} == {**patch, "domains": ["acme.test"]}
    # Then a change at the old version is refused
    stale = client.patch(
        f"/api/v1/customers/{acme['id']}", json={"name": "X"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM


def test_contacts_join_the_organisation_of_their_domain_and_are_listed_with_it(
    client: TestClient,
) -> None:
    # Given an organisation listing a domain
    acme = created(
        client.post("/api/v1/customers", json={"name": "Acme", "domains": ["acme.example"]})
    )
    # When contacts of that domain and of another are registered
    ada = created(
        client.post("/api/v1/contacts", json={"email": "Ada@acme.example", "name": "Ada"})
    )
    last = client.post("/api/v1/contacts", json={"email": "bob@elsewhere.example"})
    bob = created(last)
    # Then only the first joined it
    assert (ada["email"], ada["organisation_id"], ada["source"]) == (
        "ada@acme.example",
        acme["id"],
        "staff",
    )
    assert (bob["name"], bob["organisation_id"], bob["sees"]) == (
        "bob@elsewhere.example",
        None,
        "own",
    )
    members = client.get(f"/api/v1/customers/{acme['id']}/contacts", headers=after(last))
    assert [m["email"] for m in members.json()["items"]] == ["ada@acme.example"]
    assert client.get(f"/api/v1/customers/{acme['id']}").json()["contact_count"] == 1
    read = client.get(f"/api/v1/contacts/{ada['id']}")
    assert read.status_code == 200
    assert read.json() == ada
    assert read.headers["ETag"] == '"1"'


def test_a_contact_is_moved_let_see_colleagues_items_and_leaves(client: TestClient) -> None:
    # Given a per-member organisation and a contact outside it
    acme = created(client.post("/api/v1/customers", json={"name": "Acme", "sharing": "per_member"}))
    ada = created(client.post("/api/v1/contacts", json={"email": "ada@example.com"}))
    url = f"/api/v1/contacts/{ada['id']}"
    # When moved in and let see colleagues' items
    moved = client.patch(
        url, json={"name": "Ada L.", "organisation_id": acme["id"], "sees_colleagues_items": True}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["name"], moved.json()["organisation_id"], moved.json()["sees"]) == (
        "Ada L.",
        acme["id"],
        "organisation",
    )
    # Then the view agrees
    read = client.get(url, headers=after(moved)).json()
    assert (read["sees_colleagues_items"], read["sees"]) == (True, "organisation")
    # And an explicit null leaves the organisation (and the grant with it)
    left = client.patch(url, json={"organisation_id": None})
    assert (left.json()["organisation_id"], left.json()["sees_colleagues_items"]) == (None, False)
    assert client.patch(url, json={"sees_colleagues_items": True}).status_code == 409
    kept = client.patch(url, json={"name": "Ada"})
    assert kept.json()["organisation_id"] is None


def test_organisations_and_contacts_are_listed_a_page_at_a_time(client: TestClient) -> None:
    for name in ("beta", "Alpha", "gamma"):
        client.post("/api/v1/customers", json={"name": name})
    for n in range(3):
        last = client.post("/api/v1/contacts", json={"email": f"c{n}@example.com"})
    page = client.get("/api/v1/customers", params={"limit": 2}, headers=after(last)).json()
    rest = client.get("/api/v1/customers", params={"cursor": page["next_cursor"]}).json()
    assert [o["name"] for o in page["items"] + rest["items"]] == ["Alpha", "beta", "gamma"]
    assert rest["next_cursor"] is None
    first = client.get("/api/v1/contacts", params={"limit": 2}).json()
    second = client.get("/api/v1/contacts", params={"limit": 2, "cursor": first["next_cursor"]})
    emails = [c["email"] for c in first["items"] + second.json()["items"]]
    assert emails == ["c0@example.com", "c1@example.com", "c2@example.com"]
    found = client.get("/api/v1/customers", params={"q": "AMM"}).json()["items"]
    assert [o["name"] for o in found] == ["gamma"]
    for path in ("/api/v1/customers", "/api/v1/contacts"):
        bad = client.get(path, params={"cursor": "%%%"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["location"] == ["query", "cursor"]


def test_invalid_values_are_refused_naming_the_field(client: TestClient) -> None:
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        ("/api/v1/customers", {"name": ""}, ["body", "name"]),
        ("/api/v1/customers", {"name": "X", "domains": ["not a domain"]}, ["body", "domains"]),
        ("/api/v1/customers", {"name": "X", "sharing": "sometimes"}, ["body", "sharing"]),
        ("/api/v1/customers", {"name": "X", "colour": "red"}, ["body", "colour"]),
        ("/api/v1/contacts", {"email": "not-an-email"}, ["body", "email"]),
        (
            "/api/v1/contacts",
            {"email": "a@example.com", "organisation_id": "7"},
            ["body", "organisation_id"],
        ),
    ]
    for path, body, location in cases:
        refused = client.post(path, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["errors"][0]["location"] == location, body
    assert client.get("/api/v1/customers/not-a-uuid").status_code == 422


def test_a_plain_member_reads_but_only_customer_managers_change_customers(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given an organisation and a contact, a plain member and a customer manager
    acme = created(client.post("/api/v1/customers", json={"name": "Acme"}))
    ada = created(client.post("/api/v1/contacts", json={"email": "ada@example.com"}))
    plain = bearer(live, "plain@example.com")
    manager = bearer(live, "manager@example.com", Flag.MANAGE_CUSTOMERS)
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/customers", {"name": "Rival"}),
        ("PATCH", f"/api/v1/customers/{acme['id']}", {"name": "Acme 2"}),
        ("POST", "/api/v1/contacts", {"email": f"{uuid4().hex}@example.com"}),
        ("PATCH", f"/api/v1/contacts/{ada['id']}", {"name": "Ada 2"}),
    ]
    # Then the plain member reads, and may write nothing
    assert client.get("/api/v1/customers", headers=plain).status_code == 200
    assert client.get("/api/v1/contacts", headers=plain).status_code == 200
    for method, path, body in writes:
        refused = client.request(method, path, json=body, headers=plain)
        assert refused.status_code == 403, (method, path)
        assert refused.json()["type"] == "/problems/forbidden"
    # And the customer manager may, except turning contacts into staff (admins only)
    for method, path, body in writes:
        answered = client.request(method, path, json=body, headers=manager)
        assert answered.status_code in (200, 201), (method, path, answered.text)
    staff_user = f"/api/v1/contacts/{ada['id']}/staff-user"
    assert client.post(staff_user, headers=manager).status_code == 403
    assert client.post(staff_user, headers=plain).status_code == 403
    assert client.get("/api/v1/customers", headers={"Authorization": ""}).status_code == 401


def test_unknown_organisations_and_contacts_are_not_found(client: TestClient) -> None:
    nobody = uuid4()
    for method, path, body in [
        ("GET", f"/api/v1/customers/{nobody}", None),
        ("GET", f"/api/v1/customers/{nobody}/contacts", None),
        ("PATCH", f"/api/v1/customers/{nobody}", {"name": "X"}),
        ("GET", f"/api/v1/contacts/{nobody}", None),
        ("PATCH", f"/api/v1/contacts/{nobody}", {"name": "X"}),
        ("POST", f"/api/v1/contacts/{nobody}/staff-user", None),
        ("POST", "/api/v1/contacts", {"email": "a@example.com", "organisation_id": str(nobody)}),
    ]:
        missing = client.request(method, path, json=body)
        assert missing.status_code == 404, (method, path, missing.text)
        assert missing.json()["type"] == "/problems/not-found"


def test_emails_and_domains_are_taken_once(client: TestClient) -> None:
    # Given a contact and an organisation holding a domain
    created(client.post("/api/v1/contacts", json={"email": "ada@example.com"}))
    created(client.post("/api/v1/customers", json={"name": "Acme", "domains": ["acme.example"]}))
    rival = created(client.post("/api/v1/customers", json={"name": "Rival"}))
    # Then the email and the domain cannot be taken again
    again = client.post("/api/v1/contacts", json={"email": " ADA@example.com"})
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/conflict"
    taken = client.post("/api/v1/customers", json={"name": "Copy", "domains": ["acme.example"]})
    assert taken.status_code == 409
    claim = client.patch(f"/api/v1/customers/{rival['id']}", json={"domains": ["acme.example"]})
    assert claim.status_code == 409


def test_an_admin_turns_a_contact_into_a_staff_user_once(client: TestClient) -> None:
    # Given a contact
    ada = created(client.post("/api/v1/contacts", json={"email": "ada@example.com", "name": "Ada"}))
    url = f"/api/v1/contacts/{ada['id']}/staff-user"
    # When an admin turns it into staff
    response = client.post(url)
    user = created(response)
    # Then a member user with its email and name exists, and the contact points at it
    assert response.headers["Location"] == f"/api/v1/users/{user['id']}"
    assert (user["email"], user["name"], user["role"], user["status"]) == (
        "ada@example.com",
        "Ada",
        "member",
        "active",
    )
    assert client.get(f"/api/v1/users/{user['id']}").status_code == 200
    contact = client.get(f"/api/v1/contacts/{ada['id']}", headers=after(response)).json()
    assert contact["user_id"] == user["id"]
    # And it happens once; a contact with a staff user's email is refused too
    assert client.post(url).status_code == 409
    admin = created(client.post("/api/v1/contacts", json={"email": "admin@example.com"}))
    assert client.post(f"/api/v1/contacts/{admin['id']}/staff-user").status_code == 409


def test_a_ticket_requester_becomes_a_contact_on_first_sight_and_only_once(
    client: TestClient,
) -> None:
    first = client.post(
        "/api/v1/tickets", json={"title": "Hello", "requester_email": "New.Person@Example.com"}
    )
    second = client.post(
        "/api/v1/tickets", json={"title": "Again", "requester_email": "new.person@example.com"}
    )
    assert first.status_code == second.status_code == 201
    contacts = client.get(
        "/api/v1/contacts",
        params={"q": "new.person"},
        headers={"X-Min-Position": second.headers["X-Log-Position"]},
    ).json()["items"]
    assert [c["email"] for c in contacts] == ["new.person@example.com"]
