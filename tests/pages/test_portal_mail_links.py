"""Portal access by mail, against a real SMTP sink: an invitation is mailed when mail is
configured, and a customer who has a password asks for a one-time sign-in link, which signs
them in once. Nobody learns from the answer whether an address is known."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.conftest import wait_until
from tests.factories import admin_token
from tests.pages.helpers import contact, csrf_of, path_of, send
from tests.smtp_sink import Sink

PASSWORD = "correct horse battery"
LINK = re.compile(r"https?://\S+/portal/(?:invite/ldp|sign-in/lds)_[0-9a-f]+_[A-Za-z0-9_-]+")


@pytest.fixture
def admin(mailing: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(mailing.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {admin_token(mailing)}"
        yield http


@pytest.fixture
def browser(mailing: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(mailing.http_app()) as http:
        yield http


def link_in(sink: Sink, address: str, count: int, kind: str = "") -> str:
    """The link of the `count`th mail to `address` — or, with `kind` (`invite`, `sign-in`),
    of the last of the first `count` mails carrying that kind of link (mails queued together
    may arrive in either order)."""
    wait_until(lambda: len(sink.to(address)) >= count, what=f"mail {count} to {address}")
    mails = [r.message for r in sink.to(address)[:count]]
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in mails]  # type: ignore[union-attr]
    chosen = [i for i, text in enumerate(texts) if f"/portal/{kind}/" in text] if kind else [-1]
    mail, text = mails[chosen[-1]], texts[chosen[-1]]
    found = LINK.search(text)
    assert found is not None, text
    assert mail["Auto-Submitted"] == "auto-generated"
    return found.group(0)


def test_an_invitation_is_mailed_and_a_sign_in_link_signs_in_once(
    admin: TestClient, browser: TestClient, sink: Sink, mailing: bootstrap.Container
) -> None:
    ada = contact(admin, "ada@acme.example")
    invited = admin.post(f"/api/v1/contacts/{ada}/portal-invitations").json()
    assert invited["mailed"] is True
    # The mail carries the same link the API answered
    mailed = link_in(sink, "ada@acme.example", 1)
    assert path_of(mailed) == path_of(invited["link"])
    done = send(browser, path_of(mailed), password=PASSWORD, password_again=PASSWORD)
    assert done.status_code == 303
    browser.cookies.clear()
    # When they ask for a sign-in link, the page says the same as for an unknown address
    login = browser.get("/portal/login")
    assert "Email me a sign-in link" in login.text
    asked = browser.post(
        "/portal/sign-in-link", data={"csrf": csrf_of(login.text), "email": "ADA@acme.example"}
    )
    unknown = browser.post(
        "/portal/sign-in-link", data={"csrf": csrf_of(login.text), "email": "eve@acme.example"}
    )
    assert asked.status_code == unknown.status_code == 200
    assert asked.text.replace("ADA@acme.example", "X") == unknown.text.replace(
        "eve@acme.example", "X"
    )
    link = link_in(sink, "ada@acme.example", 2)
    # Opening it does not use it up (mail scanners open links); the button does
    page = browser.get(path_of(link))
    assert page.status_code == 200
    assert browser.get(path_of(link)).status_code == 200
    used = browser.post(path_of(link), data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert (used.status_code, used.headers["location"]) == (303, "/portal")
    assert browser.get("/portal").status_code == 200
    # Once only
    again = browser.post(path_of(link), data={"csrf": csrf_of(page.text)})
    assert again.status_code == 404
    # Nothing went to the unknown address, and a contact without a password gets no link
    contact(admin, "bob@acme.example")
    browser.post(
        "/portal/sign-in-link", data={"csrf": csrf_of(login.text), "email": "bob@acme.example"}
    )
    assert sink.to("eve@acme.example") == []
    assert mailing.runner.wait_for(mailing.app.head(), ["outbox"], 10)
    assert sink.to("bob@acme.example") == []


def ask_for_link(browser: TestClient, email: str) -> int:
    login = browser.get("/portal/login")
    data = {"csrf": csrf_of(login.text), "email": email}
    return browser.post("/portal/sign-in-link", data=data).status_code


def test_a_sign_in_link_and_an_invitation_are_apart(
    admin: TestClient, browser: TestClient, sink: Sink, mailing: bootstrap.Container
) -> None:
    ada = contact(admin, "ada@acme.example")
    first = admin.post(f"/api/v1/contacts/{ada}/portal-invitations").json()["link"]
    send(browser, path_of(first), password=PASSWORD, password_again=PASSWORD)
    assert browser.get("/portal").status_code == 200
    # Staff invite her again (she forgot her password); then anyone asks a link for her
    again = path_of(admin.post(f"/api/v1/contacts/{ada}/portal-invitations").json()["link"])
    with TestClient(mailing.http_app()) as stranger:
        assert ask_for_link(stranger, "ada@acme.example") == 200
    link = path_of(link_in(sink, "ada@acme.example", 3, "sign-in"))
    # The request voided nothing: the invitation still opens its page...
    assert browser.get(again).status_code == 200
    # ...and neither token is taken on the other's page
    token_of = {"invite": again.rsplit("/", 1)[1], "sign-in": link.rsplit("/", 1)[1]}
    with TestClient(mailing.http_app()) as other:
        assert other.get(f"/portal/sign-in/{token_of['invite']}").status_code == 404
        page = other.get(link)
        crossed = other.post(
            f"/portal/sign-in/{token_of['invite']}", data={"csrf": csrf_of(page.text)}
        )
        assert crossed.status_code == 404
        assert other.get(f"/portal/invite/{token_of['sign-in']}").status_code == 404
        wrong = other.post(
            f"/portal/invite/{token_of['sign-in']}",
            data={"csrf": csrf_of(page.text), "password": "x" * 12, "password_again": "x" * 12},
        )
        assert wrong.status_code == 404
        # Choosing a new password through the invitation ends every earlier session
        chosen = send(other, again, password="another good one", password_again="another good one")
        assert chosen.status_code == 303
        assert other.get("/portal").status_code == 200
    ended = browser.get("/portal", follow_redirects=False)
    assert (ended.status_code, ended.headers["location"]) == (303, "/portal/login?next=/portal")
    # The link was not voided by the invitation either (nor by the new password)
    used = send(browser, link)
    assert (used.status_code, used.headers["location"]) == (303, "/portal")


def test_sign_in_links_are_limited_per_address_apart_from_password_failures(
    admin: TestClient, browser: TestClient, sink: Sink, mailing: bootstrap.Container
) -> None:
    ada = contact(admin, "ada@acme.example")
    first = admin.post(f"/api/v1/contacts/{ada}/portal-invitations").json()["link"]
    send(browser, path_of(first), password=PASSWORD, password_again=PASSWORD)
    browser.cookies.clear()
    limit = mailing.settings.sign_in_failures_per_address
    answers = [ask_for_link(browser, "Ada@acme.example") for _ in range(limit + 1)]
    assert answers == [200] * limit + [429]
    # Another address is not held back, and Ada may still sign in by password
    assert ask_for_link(browser, "bob@acme.example") == 200
    signed = send(browser, "/portal/login", email="ada@acme.example", password=PASSWORD)
    assert signed.status_code == 303
    assert mailing.runner.wait_for(mailing.app.head(), ["outbox"], 10)
    wait_until(lambda: len(sink.to("ada@acme.example")) == limit + 1, what="every link mailed")


def test_without_mail_no_link_is_offered_and_invitations_are_not_mailed(
    client: TestClient, live: bootstrap.Container
) -> None:
    ada = contact(client, "ada@acme.example")
    invited = client.post(f"/api/v1/contacts/{ada}/portal-invitations").json()
    assert invited["mailed"] is False
    with TestClient(live.http_app()) as browser:
        assert "sign-in link" not in browser.get("/portal/login").text


def test_a_customer_stops_and_starts_following_a_request_by_mail(
    admin: TestClient, browser: TestClient, sink: Sink, mailing: bootstrap.Container
) -> None:
    acme = admin.post("/api/v1/customers", json={"name": "Acme", "sharing": "everyone"}).json()
    ada = contact(admin, "ada@acme.example", acme["id"])
    bob = contact(admin, "bob@acme.example", acme["id"])
    number = admin.post(
        "/api/v1/tickets", json={"title": "Printer", "requester_email": "ada@acme.example"}
    ).json()["number"]

    def staff_reply(text: str) -> None:
        posted = admin.post(
            f"/api/v1/tickets/{number}/messages", json={"body": text, "visibility": "customer"}
        )
        assert posted.status_code == 201, posted.text

    def mailed(address: str, text: str) -> bool:
        return any(text in str(r.message) for r in sink.to(address))

    # The requester follows by default; when she stops, a reply is not mailed to her
    invitation = admin.post(f"/api/v1/contacts/{ada}/portal-invitations").json()["link"]
    send(browser, path_of(invitation), password=PASSWORD, password_again=PASSWORD)
    wait = {"X-Min-Position": str(mailing.app.head())}
    page = browser.get(f"/portal/items/{number}", headers=wait)
    assert "Stop emails about this request" in page.text
    stopped = browser.post(
        f"/portal/items/{number}/follow",
        data={"csrf": csrf_of(page.text), "action": "unfollow"},
        follow_redirects=False,
    )
    assert stopped.status_code == 303
    assert "Get emails about this request" in browser.get(f"/portal/items/{number}").text
    # A colleague who may see it follows it
    browser.cookies.clear()
    invitation = admin.post(f"/api/v1/contacts/{bob}/portal-invitations").json()["link"]
    send(browser, path_of(invitation), password=PASSWORD, password_again=PASSWORD)
    page = browser.get(
        f"/portal/items/{number}", headers={"X-Min-Position": str(mailing.app.head())}
    )
    assert "Get emails about this request" in page.text
    browser.post(
        f"/portal/items/{number}/follow", data={"csrf": csrf_of(page.text), "action": "follow"}
    )
    staff_reply("Fixed, we think.")
    wait_until(lambda: mailed("bob@acme.example", "Fixed, we think."), what="bob's mail")
    # Bob's mail and any of Ada's would have been queued in one write: none was queued
    queued = [
        mailing.app.mapper.to_domain_event(n)
        for n in mailing.app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic == "ledgerdesk:OutboundMail.Queued"
    ]
    to = {(q.recipient, q.kind) for q in queued}
    assert ("bob@acme.example", "customer_message") in to
    assert ("ada@acme.example", "customer_message") not in to
    assert not mailed("ada@acme.example", "Fixed, we think.")


def test_a_follower_who_may_no_longer_see_a_request_is_not_mailed(
    admin: TestClient, browser: TestClient, sink: Sink, mailing: bootstrap.Container
) -> None:
    acme = admin.post("/api/v1/customers", json={"name": "Acme", "sharing": "everyone"}).json()
    contact(admin, "ada@acme.example", acme["id"])
    bob = contact(admin, "bob@acme.example", acme["id"])
    number = admin.post(
        "/api/v1/tickets", json={"title": "Printer", "requester_email": "ada@acme.example"}
    ).json()["number"]
    invitation = admin.post(f"/api/v1/contacts/{bob}/portal-invitations").json()["link"]
    send(browser, path_of(invitation), password=PASSWORD, password_again=PASSWORD)
    wait = {"X-Min-Position": str(mailing.app.head())}
    page = browser.get(f"/portal/items/{number}", headers=wait)
    browser.post(
        f"/portal/items/{number}/follow", data={"csrf": csrf_of(page.text), "action": "follow"}
    )
    # When the organisation stops sharing, Bob may not see it: no more of its mail for him
    admin.patch(f"/api/v1/customers/{acme['id']}", json={"sharing": "none"})
    admin.post(
        f"/api/v1/tickets/{number}/messages", json={"body": "Fixed.", "visibility": "customer"}
    )
    wait_until(lambda: any("Fixed." in str(r.message) for r in sink.to("ada@acme.example")),
               what="ada's mail")  # fmt: skip
    queued = [
        mailing.app.mapper.to_domain_event(n)
        for n in mailing.app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic == "ledgerdesk:OutboundMail.Queued"
    ]
    assert ("bob@acme.example", "customer_message") not in {(q.recipient, q.kind) for q in queued}
