"""The portal's pages over HTTP, on both backends: an invitation link sets a password and
signs in, email and password sign in (throttled), forms need their CSRF token, a contact
sees only their requests and never an internal message, and every page carries the safety
headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.pages.helpers import contact, csrf_of, invitation_link, send, ticket

PASSWORD = "correct horse battery"


@pytest.fixture
def browser(live: bootstrap.Container) -> Iterator[TestClient]:
    """A customer's browser: no Authorization header, cookies kept."""
    with TestClient(live.http_app()) as http:
        yield http


def signed_up(admin: TestClient, browser: TestClient, email: str) -> None:
    link = invitation_link(admin, contact(admin, email))
    path = link.split("://", 1)[1].split("/", 1)[1]
    done = send(browser, f"/{path}", password=PASSWORD, password_again=PASSWORD)
    assert (done.status_code, done.headers["location"]) == (303, "/portal"), done.text


def test_an_invitation_link_sets_a_password_and_signs_in_once(
    client: TestClient, browser: TestClient
) -> None:
    # Given a contact invited through the API, whose answer gives the whole link
    link = invitation_link(client, contact(client, "ada@acme.example"))
    assert "/portal/invite/ldp_" in link
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    # When they open it, the page names them and asks for a password twice
    page = browser.get(path)
    assert page.status_code == 200
    assert "ada@acme.example" in page.text
    # Passwords that differ are refused, and nothing is redeemed
    differ = send(browser, path, password=PASSWORD, password_again=PASSWORD + "x")
    assert differ.status_code == 422
    # When they set it, they land signed in on their requests
    done = send(browser, path, password=PASSWORD, password_again=PASSWORD)
    assert done.status_code == 303
    cookie = done.headers["set-cookie"]
    assert "ld_portal=ldc_" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=" in cookie
    assert browser.get("/portal").status_code == 200
    # And the link does not work twice
    assert browser.get(path).status_code == 404


def test_email_and_password_sign_in_out_and_wrong_ones_are_refused(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    browser.cookies.clear()
    # Signed out, the portal sends to the sign-in page, remembering where to go
    away = browser.get("/portal/items/7", follow_redirects=False)
    assert away.headers["location"] == "/portal/login?next=/portal/items/7"
    wrong = send(browser, "/portal/login", email="ada@acme.example", password="nope")
    assert wrong.status_code == 401
    assert "Wrong email or password" in wrong.text
    stranger = send(browser, "/portal/login", email="eve@acme.example", password=PASSWORD)
    assert stranger.status_code == 401
    # The right ones sign in and go where they were headed; never to another site
    right = send(
        browser, "/portal/login", email="ADA@acme.example", password=PASSWORD, next="//evil.example"
    )
    assert (right.status_code, right.headers["location"]) == (303, "/portal")
    # Signing out ends the session for good
    page = browser.get("/portal")
    out = browser.post("/portal/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.headers["location"] == "/portal/login"
    assert browser.get("/portal", follow_redirects=False).status_code == 303


def test_sign_in_is_throttled_per_address(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    limit = live.settings.sign_in_failures_per_address
    for _ in range(limit):
        send(browser, "/portal/login", email="ada@acme.example", password="wrong one")
    # Then even the right password waits
    held = send(browser, "/portal/login", email="ada@acme.example", password=PASSWORD)
    assert held.status_code == 429
    assert "Too many attempts" in held.text


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, browser: TestClient) -> None:
    signed_up(client, browser, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    forged = browser.post(
        f"/portal/items/{number}/reply", data={"body": "FORGED-REPLY", "csrf": "0" * 64},
        follow_redirects=False,
    )  # fmt: skip
    assert forged.status_code == 403
    none = browser.post("/portal/login", data={"email": "a@b.example", "password": "x"})
    assert none.status_code == 403
    # Nothing was written
    assert "FORGED-REPLY" not in browser.get(f"/portal/items/{number}").text


def test_a_contact_sees_their_requests_and_replies_never_internal_messages(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    mine = ticket(client, "ada@acme.example", "Invoice wrong")
    theirs = ticket(client, "bob@acme.example", "Bob's secret")
    client.post(
        f"/api/v1/tickets/{mine}/messages",
        json={"body": "CANARY-internal-7f3a", "visibility": "internal"},
    )
    client.post(
        f"/api/v1/tickets/{mine}/messages",
        json={"body": "We are on it.", "visibility": "customer"},
    )
    caught_up = {"X-Min-Position": str(live.app.head())}
    listed = browser.get("/portal", headers=caught_up)
    assert "Invoice wrong" in listed.text
    assert "Bob&#39;s secret" not in listed.text
    page = browser.get(f"/portal/items/{mine}")
    assert "We are on it." in page.text
    assert "CANARY-internal-7f3a" not in page.text
    # Another's request is not found, exactly as a number that does not exist
    assert browser.get(f"/portal/items/{theirs}").status_code == 404
    assert browser.get("/portal/items/99999").status_code == 404
    # A reply lands on the request and shows at once
    sent = browser.post(
        f"/portal/items/{mine}/reply",
        data={"body": "Thanks <b>team</b>", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    shown = browser.get(f"/portal/items/{mine}").text
    assert "Thanks &lt;b&gt;team&lt;/b&gt;" in shown
    # Filters and search
    assert "Invoice wrong" in browser.get("/portal", params={"q": "invoice"}).text
    assert "Invoice wrong" not in browser.get("/portal", params={"q": "printer"}).text
    assert "Invoice wrong" not in browser.get("/portal", params={"show": "finished"}).text


def test_pages_speak_the_asked_language_and_carry_the_safety_headers(
    browser: TestClient,
) -> None:
    english = browser.get("/portal/login")
    assert english.headers["content-language"] == "en"
    csp = english.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert english.headers["x-frame-options"] == "DENY"
    assert english.headers["x-content-type-options"] == "nosniff"
    assert english.headers["referrer-policy"] == "same-origin"
    # Accept-Language picks the best of the four; a regional variant finds its language
    german = browser.get("/portal/login", headers={"Accept-Language": "de-CH, en;q=0.5"})
    assert german.headers["content-language"] == "de"
    assert "Anmelden" in german.text
    spanish = browser.get("/portal/login", headers={"Accept-Language": "ja, es;q=0.8"})
    assert spanish.headers["content-language"] == "es"
    # ?lang= switches, and is remembered
    french = browser.get("/portal/login", params={"lang": "fr"})
    assert "Se connecter" in french.text
    again = browser.get("/portal/login", headers={"Accept-Language": "de"})
    assert again.headers["content-language"] == "fr"
    assert '<html lang="fr">' in again.text


def test_only_customer_visible_attachments_download(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    files = {"file": ("invoice.pdf", b"%PDF-1.4 shared", "application/pdf")}
    shared = client.post(
        f"/api/v1/tickets/{number}/attachments", files=files, data={"visibility": "customer"}
    ).headers["X-Attachment-ID"]
    files = {"file": ("notes.txt", b"internal notes", "text/plain")}
    internal = client.post(
        f"/api/v1/tickets/{number}/attachments", files=files, data={"visibility": "internal"}
    ).headers["X-Attachment-ID"]
    caught_up = {"X-Min-Position": str(live.app.head())}
    page = browser.get(f"/portal/items/{number}", headers=caught_up).text
    assert "invoice.pdf" in page
    assert "notes.txt" not in page
    got = browser.get(f"/portal/items/{number}/attachments/{shared}", headers=caught_up)
    assert (got.status_code, got.content) == (200, b"%PDF-1.4 shared")
    assert got.headers["content-disposition"].startswith("attachment")
    hidden = browser.get(f"/portal/items/{number}/attachments/{internal}", headers=caught_up)
    assert hidden.status_code == 404
    # Another contact cannot fetch it either
    browser.cookies.clear()
    signed_up(client, browser, "eve@acme.example")
    assert browser.get(f"/portal/items/{number}/attachments/{shared}").status_code == 404


def test_a_contact_opens_a_request_and_replies_with_files(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    form = browser.get("/portal/new")
    assert form.status_code == 200
    # A request without a title is refused, and nothing is written
    head = live.app.head()
    untitled = browser.post(
        "/portal/new", data={"csrf": csrf_of(form.text), "title": "  ", "description": "x"}
    )
    assert untitled.status_code == 422
    assert live.app.head() == head
    # With a title and two files it opens, in the Inbox, with the contact as requester
    opened = browser.post(
        "/portal/new",
        data={"csrf": csrf_of(form.text), "title": "Scanner broken", "description": "Dead."},
        files=[
            ("attachments", ("photo.jpg", b"\xff\xd8jpeg", "image/jpeg")),
            ("attachments", ("log.txt", b"error 42", "text/plain")),
        ],
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    path = opened.headers["location"]
    number = int(path.rsplit("/", 1)[1])
    page = browser.get(path)
    assert "Scanner broken" in page.text
    assert "photo.jpg" in page.text
    assert "log.txt" in page.text
    ticket = client.get(
        f"/api/v1/tickets/{number}", headers={"X-Min-Position": str(live.app.head())}
    ).json()
    assert (ticket["channel"], ticket["requester_email"]) == ("portal", "ada@acme.example")
    assert {a["visibility"] for a in ticket["attachments"]} == {"customer"}
    # A reply with a file: the file is on the request, customer-visible
    replied = browser.post(
        f"/portal/items/{number}/reply",
        data={"csrf": csrf_of(page.text), "body": "Here is another one."},
        files=[("attachments", ("second.pdf", b"%PDF-1.4", "application/pdf"))],
        follow_redirects=False,
    )
    assert replied.status_code == 303
    assert "second.pdf" in browser.get(path).text
    # An empty file input sends no file
    browser.post(
        f"/portal/items/{number}/reply",
        data={"csrf": csrf_of(page.text), "body": "No file this time."},
        files=[("attachments", ("", b"", "application/octet-stream"))],
    )
    shown = browser.get(path).text
    assert "No file this time." in shown
    assert shown.count("/attachments/") == 3


def test_a_file_over_the_limit_is_refused_and_nothing_is_written(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    live_limit = live.settings.max_attachment_bytes
    form = browser.get("/portal/new")
    head = live.app.head()
    with TestClient(live.http_app()) as small:
        small.app.state.services.max_attachment_bytes = 10  # type: ignore[attr-defined]
        small.cookies = browser.cookies
        refused = small.post(
            "/portal/new",
            data={"csrf": csrf_of(form.text), "title": "Too big"},
            files=[("attachments", ("big.bin", b"x" * 11, "application/octet-stream"))],
        )
    assert refused.status_code == 413
    assert "larger than we accept" in refused.text
    assert live.app.head() == head
    assert live_limit > 10
