"""Item types on the portal's new-request page and the public web forms, on both backends,
with mail to a real SMTP sink: a contact chooses a type and fills its fields (required ones
checked, nothing written on a refusal); an anonymous sender's request waits for the address
to be confirmed by the mailed link (once), and opens with channel `webform`; spam defences
(hidden field, time to submit, per-client limit) refuse without writing; signed-in contacts'
requests open at once; the switches and the form's own state close it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.pages.web_forms import shown_stamp
from ledgerdesk import bootstrap
from tests.conftest import wait_until
from tests.factories import admin_token
from tests.pages.helpers import csrf_of, path_of
from tests.pages.test_portal_pages import signed_up
from tests.smtp_sink import Sink

CONFIRM = re.compile(r"https?://\S+/forms/confirm/ldf_[0-9a-f]+_[A-Za-z0-9_-]+")


MAIL_SETTINGS = {"form_submissions_per_client": 4}


@pytest.fixture
def admin(mailing: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(mailing.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {admin_token(mailing)}"
        yield http


@pytest.fixture
def browser(mailing: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(mailing.http_app()) as http:
        yield http


def human(mailing: bootstrap.Container, key: str, **fields: Any) -> dict[str, Any]:
    """Form `key`'s fields as a person sends them: the form shown 10 s ago."""
    shown = shown_stamp(mailing.mail.secret, key, int(time.time()) - 10)
    return {"shown": shown, "website": "", **fields}


def written_since(mailing: bootstrap.Container, head: int) -> list[str]:
    """The topics of events recorded after `head`, but the mail workers' own (sending)."""
    return [
        n.topic
        for n in mailing.app.recorder.select_notifications(start=head + 1, limit=10_000)
        if not n.topic.startswith("ledgerdesk:OutboundMail.")
    ]


def ticket_of(admin: TestClient, mailing: bootstrap.Container, number: int) -> dict[str, Any]:
    wait = {"X-Min-Position": str(mailing.app.head())}
    answer = admin.get(f"/api/v1/tickets/{number}", headers=wait)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_contact_chooses_a_type_and_fills_its_fields(
    admin: TestClient, browser: TestClient, mailing: bootstrap.Container
) -> None:
    admin.patch(
        "/api/v1/item-types/bug_report",
        json={"fields": [
            {"key": "title", "required": True}, {"key": "description", "required": True},
            {"key": "priority"},
            {"key": "browser", "label": "Browser", "type": "choice",
             "choices": ["Firefox", "Chromium"], "required": True},
        ]},
    )  # fmt: skip
    signed_up(admin, browser, "ada@acme.example")
    page = browser.get("/portal/new")
    assert 'href="/portal/new?type=bug_report"' in page.text
    assert 'name="browser"' not in page.text
    bug = browser.get("/portal/new", params={"type": "bug_report"})
    assert 'name="browser"' in bug.text
    assert 'name="priority"' in bug.text
    head = mailing.app.head()
    fields = {"csrf": csrf_of(bug.text), "item_type": "bug_report", "title": "Crash",
              "priority": "high"}  # fmt: skip
    missing = browser.post("/portal/new", data={**fields, "browser": "Firefox"})
    assert missing.status_code == 422
    assert "Fill this in." in missing.text
    assert 'value="Crash"' in missing.text  # What was sent stays
    wrong = browser.post("/portal/new", data={**fields, "description": "x", "browser": "Lynx"})
    assert (wrong.status_code, "Choose one of the options." in wrong.text) == (422, True)
    assert written_since(mailing, head) == []
    opened = browser.post(
        "/portal/new",
        data={**fields, "description": "On save.", "browser": "Firefox"},
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    number = int(opened.headers["location"].rsplit("/", 1)[1])
    ticket = ticket_of(admin, mailing, number)
    assert (ticket["item_type"], ticket["priority"], ticket["channel"]) == (
        "bug_report", "high", "portal",
    )  # fmt: skip
    assert ticket["fields"] == {"browser": "Firefox"}


def test_an_anonymous_request_opens_once_its_address_is_confirmed(
    admin: TestClient, browser: TestClient, mailing: bootstrap.Container, sink: Sink
) -> None:
    made = admin.post(
        "/api/v1/forms",
        json={"key": "bugs", "name": "Report a bug", "item_type": "bug_report",
              "anonymous": True, "intro": "Tell us what broke."},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    page = browser.get("/forms/bugs")
    assert page.status_code == 200
    assert "Tell us what broke." in page.text
    assert 'name="email"' in page.text
    head = mailing.app.head()
    sent = browser.post(
        "/forms/bugs",
        data=human(mailing, "bugs", csrf=csrf_of(page.text), name="Eve", email="Eve@Example.org",
                   title="Search is down", description="Since noon.", priority="urgent"),
        files=[("attachments", ("trace.txt", b"boom", "text/plain"))],
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
    assert "Check your mail" in sent.text
    assert mailing.runner.wait_for(mailing.app.head(), ["flat", "outbox"], 10)
    flat = admin.get("/api/v1/views/flat").json()["items"]
    assert flat == []  # Nothing opens before the address is confirmed
    assert mailing.app.head() > head
    wait_until(lambda: bool(sink.to("eve@example.org")), what="the confirmation mail")
    mail = sink.to("eve@example.org")[0].message
    assert mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = CONFIRM.search(text)
    assert link is not None, text
    # Opening the link does not confirm (mail scanners open links); the button does, and
    # the page says what the admins wrote
    said = {"text": "Thanks: request number {number} is with Acme."}
    assert admin.put("/api/v1/admin/messages/form_received", json=said).status_code == 200
    confirm_page = browser.get(path_of(link.group(0)))
    assert confirm_page.status_code == 200
    done = browser.post(path_of(link.group(0)), data={"csrf": csrf_of(confirm_page.text)})
    assert done.status_code == 200, done.text
    number = int(re.search(r"number (\d+)", done.text).group(1))  # type: ignore[union-attr]
    assert f"Thanks: request number {number} is with Acme." in done.text
    ticket = ticket_of(admin, mailing, number)
    assert (ticket["channel"], ticket["item_type"], ticket["requester_email"]) == (
        "webform", "bug_report", "eve@example.org",
    )  # fmt: skip
    assert (ticket["title"], ticket["priority"]) == ("Search is down", "urgent")
    assert [a["name"] for a in ticket["attachments"]] == ["trace.txt"]
    assert ticket["attachments"][0]["visibility"] == "customer"
    contact = admin.get(
        "/api/v1/contacts",
        params={"q": "eve@example.org"},
        headers={"X-Min-Position": str(mailing.app.head())},
    ).json()["items"]
    assert [c["name"] for c in contact] == ["Eve"]
    # Once only
    again = browser.post(path_of(link.group(0)), data={"csrf": csrf_of(confirm_page.text)})
    assert again.status_code == 404


def test_spam_defences_refuse_without_writing(
    admin: TestClient, browser: TestClient, mailing: bootstrap.Container
) -> None:
    admin.post("/api/v1/forms", json={"key": "hello", "name": "Hello", "anonymous": True})
    page = browser.get("/forms/hello")
    base = {"csrf": csrf_of(page.text), "email": "bot@example.org", "title": "Buy now"}
    head = mailing.app.head()
    fast = browser.post("/forms/hello", data={**base, "shown": shown_stamp(
        mailing.mail.secret, "hello", int(time.time())), "website": ""})  # fmt: skip
    assert (fast.status_code, "too fast" in fast.text) == (422, True)
    trapped = browser.post(
        "/forms/hello", data=human(mailing, "hello", **base, website="http://spam")
    )
    assert trapped.status_code == 422
    forged = browser.post("/forms/hello", data={**base, "shown": f"{int(time.time()) - 60}.0f"})
    assert forged.status_code == 422
    other_form = {**human(mailing, "bugs", **base)}  # Another form's stamp is not this one's
    assert browser.post("/forms/hello", data=other_form).status_code == 422
    long_name = browser.post("/forms/hello", data=human(mailing, "hello", **base, name="n" * 201))
    assert long_name.status_code == 422
    assert long_name.headers["content-type"].startswith("text/html")
    bad_email = browser.post(
        "/forms/hello", data=human(mailing, "hello", **{**base, "email": "nope"})
    )
    assert (bad_email.status_code, "email address" in bad_email.text) == (422, True)
    assert written_since(mailing, head) == []
    # At most four submissions from one client in the window
    # At most four submissions from one client in the window: those refused only after they
    # were counted (the bad address, the long name) among them
    answers = [
        browser.post("/forms/hello", data=human(mailing, "hello", **base)).status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]


def test_who_may_send_follows_the_form_and_the_switches(
    admin: TestClient, browser: TestClient, mailing: bootstrap.Container
) -> None:
    admin.post("/api/v1/forms", json={"key": "members", "name": "Members", "item_type": "feedback"})
    admin.post("/api/v1/forms", json={"key": "open", "name": "Open to all", "anonymous": True})
    # Not anonymous: a visitor is asked to sign in; a contact's request opens at once
    prompt = browser.get("/forms/members")
    assert 'href="/portal/login?next=/forms/members"' in prompt.text
    assert 'name="title"' not in prompt.text
    signed_up(admin, browser, "ada@acme.example")
    page = browser.get("/forms/members")
    assert "You send this as ada@acme.example." in page.text
    sent = browser.post(
        "/forms/members",
        data={"csrf": csrf_of(page.text), "title": "Love the app"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    number = int(sent.headers["location"].rsplit("/", 1)[1])
    ticket = ticket_of(admin, mailing, number)
    assert (ticket["channel"], ticket["item_type"]) == ("webform", "feedback")
    browser.cookies.delete("ld_portal")
    # The anonymous forms switch off: the open form asks visitors to sign in too
    admin.patch("/api/v1/admin/settings", json={"features": {"anonymous_forms": False}})
    assert 'href="/portal/login?next=/forms/open"' in browser.get("/forms/open").text
    # An inactive form, a retired type, an unknown form: not available
    admin.patch("/api/v1/forms/members", json={"active": False})
    assert browser.get("/forms/members").status_code == 404
    assert browser.get("/forms/nothing").status_code == 404
    admin.delete("/api/v1/item-types/ticket")  # refused: the default type stays
    admin.delete("/api/v1/item-types/feedback")
    admin.patch("/api/v1/forms/members", json={"active": True})
    assert browser.get("/forms/members").status_code == 404
    # The web forms switched off: every form's page says so
    admin.patch("/api/v1/admin/settings", json={"apps": {"web_forms": False}})
    off = browser.get("/forms/open")
    assert (off.status_code, "The web forms are switched off." in off.text) == (404, True)


def test_a_held_request_opens_only_while_its_form_still_takes_it(
    admin: TestClient, browser: TestClient, mailing: bootstrap.Container, sink: Sink
) -> None:
    admin.post("/api/v1/forms", json={"key": "open", "name": "Open", "anonymous": True,
                                      "item_type": "feedback"})  # fmt: skip
    page = browser.get("/forms/open")
    sent = browser.post(
        "/forms/open",
        data=human(mailing, "open", csrf=csrf_of(page.text), email="eve@example.org",
                   title="Nice app"),
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
    wait_until(lambda: bool(sink.to("eve@example.org")), what="the confirmation mail")
    mail = sink.to("eve@example.org")[0].message
    assert mail["To"] == "eve@example.org"  # No name the sender typed goes into the mail
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = path_of(CONFIRM.search(text).group(0))  # type: ignore[union-attr]
    token = csrf_of(browser.get(link).text)

    def confirm() -> Any:
        return browser.post(link, data={"csrf": token})

    # While the type is staff-only, anonymous forms are off, or the form is gone: nothing opens
    switches = "/api/v1/admin/settings"
    for path, off, on in (
        ("/api/v1/item-types/feedback", {"customer_visible": False}, {"customer_visible": True}),
        (switches, {"features": {"anonymous_forms": False}},
         {"features": {"anonymous_forms": True}}),
    ):  # fmt: skip
        admin.patch(path, json=off)
        head = mailing.app.head()
        refused = confirm()
        assert (refused.status_code, "This form takes no requests now." in refused.text) == (
            404, True,
        )  # fmt: skip
        assert written_since(mailing, head) == []
        admin.patch(path, json=on)
    # The link was not used up: it opens the request once the form takes it again
    assert confirm().status_code == 200
    assert confirm().status_code == 404


def test_signed_in_contacts_are_visitors_while_the_portal_is_off_and_no_type_means_no_form(
    admin: TestClient, browser: TestClient, mailing: bootstrap.Container
) -> None:
    admin.post("/api/v1/forms", json={"key": "members", "name": "Members"})
    signed_up(admin, browser, "ada@acme.example")
    token = csrf_of(browser.get("/forms/members").text)
    admin.patch("/api/v1/admin/settings", json={"apps": {"portal": False}})
    prompt = browser.get("/forms/members")
    assert 'href="/portal/login?next=/forms/members"' in prompt.text
    refused = browser.post("/forms/members", data={"csrf": token, "title": "T"})
    assert refused.status_code in (200, 404)
    assert "Location" not in refused.headers
    admin.patch("/api/v1/admin/settings", json={"apps": {"portal": True}})
    for key in ("ticket", "feedback", "feature_request", "bug_report"):
        admin.patch(f"/api/v1/item-types/{key}", json={"customer_visible": False})
    empty = browser.get("/portal/new")
    assert (empty.status_code, "This form takes no requests now." in empty.text) == (404, True)
