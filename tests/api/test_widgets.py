"""The embeddable widget's server side: admins define widgets (their allowed sites checked
and normalised) and take the snippet; the public face lists the tabs by the apps switched
on; only allowed sites may frame the widget (frame-ancestors) and call the customer API from
their pages (CORS), and a change holds at once; customers sign in with email and password
for a bearer session and read the knowledge base as JSON. Bad input is a problem naming it,
and appends nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from commands.models import Context
from commands.portal_sign_in import AcceptPortalInvitation, PortalSignIn
from domain.values import Actor
from ledgerdesk import bootstrap
from tests.api.test_portal_api import as_customer, contact, created, fresh, invitation
from tests.factories import user_token

SITE = "https://www.example.com"
OTHER = "https://evil.example.net"
PASSWORD = "correct horse battery"
NOBODY = {"Authorization": ""}


def widget(client: TestClient, *origins: str, name: str = "Main site") -> dict[str, Any]:
    body = {"name": name, "allowed_origins": list(origins)}
    return created(client.post("/api/v1/admin/widgets", json=body))


def with_password(client: TestClient, live: bootstrap.Container, email: str) -> None:
    """A contact who chose a portal password (as the invitation page does)."""
    link = invitation(client, contact(client, email))
    sign_in = PortalSignIn(live.app, timedelta(hours=1))
    cmd = AcceptPortalInvitation(invitation=SecretStr(link), password=SecretStr(PASSWORD))
    sign_in.accept_invitation(cmd, Context(actor=Actor.system("test"), correlation_id="t"))


def test_admins_define_widgets_and_take_the_snippet(client: TestClient) -> None:
    made = widget(
        client, "HTTPS://WWW.Example.com:443/", "http://localhost:8080", "https://Bücher.example"
    )
    # As browsers send them: lower case, no default port, international names in punycode
    assert made["allowed_origins"] == [
        SITE,
        "http://localhost:8080",
        "https://xn--bcher-kva.example",
    ]
    listed = client.get("/api/v1/admin/widgets").json()["items"]
    assert listed == [made]

    snippet = client.get(f"/api/v1/admin/widgets/{made['id']}/snippet").json()
    assert snippet["widget_id"] == made["id"]
    assert snippet["script_url"] == f"{snippet['install_url']}/widget.js"
    assert f'data-ledgerdesk-widget="{made["id"]}"' in snippet["snippet"]
    assert f'src="{snippet["script_url"]}"' in snippet["snippet"]

    renamed = client.patch(f"/api/v1/admin/widgets/{made['id']}", json={"name": "Shop"})
    assert renamed.json() == {**made, "name": "Shop"}
    gone = client.delete(f"/api/v1/admin/widgets/{made['id']}")
    assert gone.status_code == 204
    assert client.get(f"/api/v1/admin/widgets/{made['id']}").status_code == 404
    assert client.get(f"/api/v1/widgets/{made['id']}").status_code == 404
    assert client.get("/api/v1/admin/widgets").json()["items"] == []


def test_bad_widgets_are_refused_naming_what_is_wrong_and_append_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    staff = user_token(live, "sam@example.com")
    head = live.app.head()
    for origins, where in (
        (["https://www.example.com/path"], "allowed_origins.0"),
        ([SITE, "ftp://files.example.com"], "allowed_origins.1"),
        (["https://*.example.com"], "allowed_origins.0"),
        (["https://user@example.com"], "allowed_origins.0"),
        (["https://example.com:99999"], "allowed_origins.0"),
        (["https://a.example.com,evil.example.net"], "allowed_origins.0"),
        (["https://a b.example.com"], "allowed_origins.0"),
    ):
        answer = client.post(
            "/api/v1/admin/widgets", json={"name": "x", "allowed_origins": origins}
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert where in answer.text, answer.text
    refused = client.post(
        "/api/v1/admin/widgets",
        json={"name": "x", "allowed_origins": [SITE]},
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert refused.status_code == 403
    assert live.app.head() == head


def test_the_face_shows_the_tabs_of_the_apps_switched_on(client: TestClient) -> None:
    made = widget(client, SITE)
    face = client.get(f"/api/v1/widgets/{made['id']}", headers=NOBODY).json()
    assert face["tabs"] == ["chat", "new_request", "my_requests", "help"]
    assert face["frame_url"].endswith(f"/widget/{made['id']}")
    assert set(face["brand"]) == {"name", "colour", "button_colour", "logo_url"}
    client.patch("/api/v1/admin/settings", json={"apps": {"web_forms": False}})
    face = client.get(f"/api/v1/widgets/{made['id']}", headers=NOBODY).json()
    assert face["tabs"] == ["chat", "my_requests", "help"]
    # New request sends a signed-in customer's request: it needs the portal too
    client.patch("/api/v1/admin/settings", json={"apps": {"portal": False, "web_forms": True}})
    face = client.get(f"/api/v1/widgets/{made['id']}", headers=NOBODY).json()
    assert face["tabs"] == ["help"]
    client.patch("/api/v1/admin/settings", json={"apps": {"knowledge_base": False}})
    assert client.get(f"/api/v1/widgets/{made['id']}", headers=NOBODY).json()["tabs"] == []
    # The request tabs need the tickets app as well
    client.patch(
        "/api/v1/admin/settings",
        json={"apps": {"portal": True, "knowledge_base": True, "tickets": False}},
    )
    face = client.get(f"/api/v1/widgets/{made['id']}", headers=NOBODY).json()
    assert face["tabs"] == ["chat", "help"]


def test_a_switched_off_widget_is_gone_from_every_site_and_comes_back(
    client: TestClient,
) -> None:
    made = widget(client, SITE)
    client.patch("/api/v1/admin/settings", json={"apps": {"widget": False}})
    script = client.get("/widget.js", headers=NOBODY)
    assert (script.status_code, script.headers["content-type"][:15]) == (404, "text/javascript")
    assert "data-ledgerdesk-widget" not in script.text
    frame = client.get(f"/widget/{made['id']}", headers=NOBODY)
    assert (frame.status_code, "switched off" in frame.text) == (404, True)
    face = client.get(f"/api/v1/widgets/{made['id']}", headers=NOBODY)
    assert face.status_code == 404
    assert "widget is disabled" in face.json()["detail"]
    # Switched on again, the same widget is back
    client.patch("/api/v1/admin/settings", json={"apps": {"widget": True}})
    assert client.get("/widget.js", headers=NOBODY).status_code == 200
    assert client.get(f"/widget/{made['id']}", headers=NOBODY).status_code == 200


def test_only_allowed_sites_frame_the_widget_and_a_change_holds_at_once(
    client: TestClient,
) -> None:
    made = widget(client, SITE, "http://localhost:8080")
    frame = client.get(f"/widget/{made['id']}", headers=NOBODY)
    assert frame.status_code == 200
    policy = frame.headers["content-security-policy"]
    assert policy.endswith(f"frame-ancestors {SITE} http://localhost:8080")
    assert "x-frame-options" not in frame.headers
    assert 'role="tab"' in frame.text

    client.patch(f"/api/v1/admin/widgets/{made['id']}", json={"allowed_origins": []})
    frame = client.get(f"/widget/{made['id']}", headers=NOBODY)
    assert frame.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert frame.headers["x-frame-options"] == "DENY"
    unknown = client.get("/widget/00000000-0000-4000-8000-000000000000", headers=NOBODY)
    assert unknown.status_code == 404


def test_the_script_is_served_from_here(client: TestClient) -> None:
    script = client.get("/widget.js", headers=NOBODY)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "data-ledgerdesk-widget" in script.text
    code = [line for line in script.text.splitlines() if not line.lstrip().startswith("//")]
    assert not [line for line in code if "http:" in line or "https:" in line or "//" in line]


def test_cors_lets_only_the_widgets_sites_call_the_customer_api(client: TestClient) -> None:
    made = widget(client, SITE)
    face = f"/api/v1/widgets/{made['id']}"
    allowed = client.get(face, headers={**NOBODY, "Origin": SITE})
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert "access-control-allow-credentials" not in allowed.headers
    other = client.get(face, headers={**NOBODY, "Origin": OTHER})
    assert "access-control-allow-origin" not in other.headers
    # The answer depends on the origin: a shared cache keeps the answers apart
    for answer in (allowed, other, client.get(face, headers=NOBODY)):
        assert "Origin" in answer.headers["vary"]

    preflight = {
        "Origin": SITE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    ok = client.options("/api/v1/portal/chats", headers={**NOBODY, **preflight})
    assert ok.status_code == 200, ok.text
    assert ok.headers["access-control-allow-origin"] == SITE
    refused = client.options(
        "/api/v1/portal/chats", headers={**NOBODY, **preflight, "Origin": OTHER}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    staff_route = client.options("/api/v1/tickets", headers={**NOBODY, **preflight})
    assert "access-control-allow-origin" not in staff_route.headers

    client.patch(f"/api/v1/admin/widgets/{made['id']}", json={"allowed_origins": [OTHER]})
    now = client.get(face, headers={**NOBODY, "Origin": SITE})
    assert "access-control-allow-origin" not in now.headers
    assert (
        client.get(face, headers={**NOBODY, "Origin": OTHER}).headers["access-control-allow-origin"]
        == OTHER
    )


def test_a_customer_signs_in_with_email_and_password_for_a_session(
    client: TestClient, live: bootstrap.Container
) -> None:
    with_password(client, live, "ann@example.com")
    answer = client.post(
        "/api/v1/portal/session",
        json={"email": "Ann@Example.com", "password": PASSWORD},
        headers=NOBODY,
    )
    session = created(answer)
    assert int(answer.headers["X-Log-Position"]) == live.app.head()
    me = client.get("/api/v1/portal/me", headers=as_customer(session["access_token"]))
    assert me.json()["email"] == "ann@example.com", me.text

    head = live.app.head()
    for body, status in (
        ({"email": "ann@example.com", "password": "wrong password"}, 401),
        ({"email": "nobody@example.com", "password": PASSWORD}, 401),
        ({"email": "not an address", "password": PASSWORD}, 401),
        ({"email": "ann@example.com"}, 422),
        ({"invitation": "ldp_x", "email": "ann@example.com", "password": PASSWORD}, 422),
        ({}, 422),
    ):
        refused = client.post("/api/v1/portal/session", json=body, headers=NOBODY)
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert live.app.head() == head


def _article(client: TestClient, title: str, visibility: str) -> None:
    body = {
        "title": title,
        "body": f"How to **{title.lower()}**<script>x()</script>",
        "category": "Printing",
        "visibility": visibility,
        "status": "published",
    }
    created(client.post("/api/v1/kb/articles", json=body))


def test_the_knowledge_base_as_json_for_each_reader(
    client: TestClient, live: bootstrap.Container
) -> None:
    _article(client, "Clear a jam", "public")
    _article(client, "Order toner", "customers")
    anyone = client.get("/api/v1/portal/kb", headers={**NOBODY, **fresh(live)})
    assert [a["title"] for a in anyone.json()["items"]] == ["Clear a jam"]
    found = client.get("/api/v1/portal/kb", params={"q": "jam"}, headers=NOBODY).json()
    assert [a["slug"] for a in found["items"]] == ["clear-a-jam"]
    assert "jam" in found["items"][0]["snippet"]
    article = client.get("/api/v1/portal/kb/clear-a-jam", headers=NOBODY).json()
    assert "<strong>clear a jam</strong>" in article["html"]
    assert "<script" not in article["html"]
    assert article["url"].endswith("/kb/clear-a-jam")
    assert client.get("/api/v1/portal/kb/order-toner", headers=NOBODY).status_code == 404

    with_password(client, live, "ann@example.com")
    token = created(
        client.post(
            "/api/v1/portal/session",
            json={"email": "ann@example.com", "password": PASSWORD},
            headers=NOBODY,
        )
    )["access_token"]
    theirs = client.get("/api/v1/portal/kb", headers=as_customer(token)).json()
    assert [a["title"] for a in theirs["items"]] == ["Clear a jam", "Order toner"]
    bad = client.get("/api/v1/portal/kb", headers=as_customer("ldc_forged"))
    assert bad.status_code == 401

    client.patch("/api/v1/admin/settings", json={"apps": {"knowledge_base": False}})
    off = client.get("/api/v1/portal/kb", headers=NOBODY)
    assert off.status_code == 404
    assert "knowledge base is disabled" in off.json()["detail"]
