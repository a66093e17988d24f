"""`POST /api/v1/mail/inbound`: a raw message handed in over HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from commands.models import IssueToken
from ledgerdesk import bootstrap
from tests.factories import SYSTEM

EMAIL = "admin@example.com"  # The `client` fixture's admin.

RFC822 = {"Content-Type": "message/rfc822"}
MESSAGE = (
    b"From: Ada <ada@acme.example>\r\nTo: support@ledgerdesk.local\r\n"
    b"Subject: Printer on fire\r\nMessage-ID: <api-1@acme.example>\r\n\r\nHelp.\r\n"
)


def test_a_message_handed_in_opens_an_item_and_again_is_a_duplicate(client: TestClient) -> None:
    created = client.post("/api/v1/mail/inbound", content=MESSAGE, headers=RFC822)
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["outcome"] == "created"
    assert body["message_id"] == "api-1@acme.example"
    assert body["auto_submitted"] is False
    # The item is there to read (read-your-writes)
    ticket = client.get(f"/api/v1/tickets/{body['number']}")
    assert ticket.status_code == 200, ticket.text
    assert ticket.json()["title"] == "Printer on fire"
    again = client.post("/api/v1/mail/inbound", content=MESSAGE, headers=RFC822)
    assert (again.json()["outcome"], again.json()["number"]) == ("duplicate", body["number"])


def test_unreadable_mail_is_quarantined_not_refused(client: TestClient) -> None:
    for raw in (b"", b"\x00\x01\x02\x03"):
        held = client.post("/api/v1/mail/inbound", content=raw, headers=RFC822)
        assert held.status_code == 200, held.text
        assert held.json()["outcome"] == "quarantined"


def test_a_stranger_address_is_422_and_writes_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    head = live.app.head()
    refused = client.post(
        "/api/v1/mail/inbound", params={"to": "someone@else.example"}, content=MESSAGE,
        headers=RFC822,
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "someone@else.example" in refused.json()["detail"]
    assert live.app.head() == head


def test_only_admins_or_mail_tokens_hand_in_mail(
    client: TestClient, live: bootstrap.Container
) -> None:
    # A token with only the mail scope may (a mail server's hook needs nothing else)
    _, mail_only = live.accounts.issue_token(IssueToken(email=EMAIL, scopes=["mail"]), SYSTEM)
    handed = client.post(
        "/api/v1/mail/inbound", content=MESSAGE.replace(b"api-1", b"api-2"),
        headers={**RFC822, "Authorization": f"Bearer {mail_only}"},
    )  # fmt: skip
    assert handed.status_code == 200, handed.text
    # A read-only token may not
    _, read_only = live.accounts.issue_token(IssueToken(email=EMAIL, scopes=["read"]), SYSTEM)
    refused = client.post(
        "/api/v1/mail/inbound", content=MESSAGE.replace(b"api-1", b"api-3"),
        headers={**RFC822, "Authorization": f"Bearer {read_only}"},
    )  # fmt: skip
    assert refused.status_code == 403


def test_control_characters_in_mail_are_replaced_and_the_views_go_on(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given mail with NUL and other control characters in its subject, sender name and body
    raw = (
        b"From: A\x00da <ada@acme.example>\r\nTo: support@ledgerdesk.local\r\n"
        b"Subject: help\x00me\x01\r\nMessage-ID: <nul-1@acme.example>\r\n\r\nbody\x00text\r\n"
    )
    # When it is handed in, it opens an item (mail is not refused for its content)
    filed = client.post("/api/v1/mail/inbound", content=raw, headers=RFC822)
    assert filed.json()["outcome"] == "created", filed.text
    # Then the item reads back with the characters replaced, and every view is healthy
    ticket = client.get(f"/api/v1/tickets/{filed.json()['number']}").json()
    assert "\x00" not in ticket["title"]
    assert ticket["title"].startswith("help")
    assert "\x00" not in ticket["description"]
    health = client.get("/api/v1/health")
    assert health.json()["status"] == "ok", health.text


def test_an_item_that_mail_reached_reads_with_its_mail_and_a_current_etag(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = client.post("/api/v1/mail/inbound", content=MESSAGE, headers=RFC822).json()["number"]
    reply = MESSAGE.replace(b"api-1@", b"api-9@").replace(
        b"Subject: Printer on fire", f"Subject: Re: [#{number}] Printer on fire".encode()
    )
    assert client.post("/api/v1/mail/inbound", content=reply, headers=RFC822).json()["outcome"] == (
        "appended"
    )
    ticket = client.get(f"/api/v1/tickets/{number}")
    doc = ticket.json()
    # The opening and the reply say they came by mail
    assert doc["opened_by_mail"]["from"] == "ada@acme.example"
    assert doc["messages"][-1]["mail"]["threaded_by"] == "subject-tag"
    # And the ETag is the item's own version: a change with it goes through
    changed = client.patch(
        f"/api/v1/tickets/{number}", json={"priority": "high"},
        headers={"If-Match": ticket.headers["ETag"]},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text


def test_the_quarantine_lists_releases_and_discards_held_mail(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a loop (mail from our own address) and unreadable mail, both held
    loop = MESSAGE.replace(b"ada@acme.example", b"support@ledgerdesk.local").replace(
        b"api-1", b"loop-1"
    )
    assert client.post("/api/v1/mail/inbound", content=loop, headers=RFC822).json()["reason"] == (
        "loop"
    )
    assert client.post("/api/v1/mail/inbound", content=b"\x00\x01", headers=RFC822).json()[
        "outcome"
    ] == ("quarantined")
    # When an admin lists what is held
    held = client.get("/api/v1/mail/quarantine", params={"state": "held"})
    assert held.status_code == 200, held.text
    entries = {e["reason"]: e for e in held.json()["items"]}
    assert set(entries) == {"loop", "unparseable"}
    assert entries["loop"]["sender"] == "support@ledgerdesk.local"
    # Then the loop, released, is processed as new mail and the entry says what came of it
    released = client.post(f"/api/v1/mail/quarantine/{entries['loop']['id']}/release")
    assert (released.status_code, released.json()["outcome"]) == (200, "created"), released.text
    entry = client.get(f"/api/v1/mail/quarantine/{entries['loop']['id']}").json()
    assert (entry["state"], entry["number"]) == ("released", released.json()["number"])
    # And unreadable mail cannot be released, only discarded, saying why
    unreadable = entries["unparseable"]["id"]
    assert client.post(f"/api/v1/mail/quarantine/{unreadable}/release").status_code == 409
    assert client.post(f"/api/v1/mail/quarantine/{unreadable}/discard", json={}).status_code == 422
    discarded = client.post(
        f"/api/v1/mail/quarantine/{unreadable}/discard", json={"why": "garbage"}
    )
    assert discarded.status_code == 204, discarded.text
    entry = client.get(f"/api/v1/mail/quarantine/{unreadable}").json()
    assert (entry["state"], entry["why"], entry["settled_by"]) == (
        "discarded",
        "garbage",
        entry["settled_by"],
    )
    assert entry["settled_by"].startswith("user:")
    # And a settled entry stays settled
    assert client.post(f"/api/v1/mail/quarantine/{unreadable}/release").status_code == 409
    # And only admins see the quarantine
    _, member = live.accounts.issue_token(IssueToken(email=EMAIL, scopes=["read", "write"]), SYSTEM)
    refused = client.get("/api/v1/mail/quarantine", headers={"Authorization": f"Bearer {member}"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "content_type",
    [
        b"text/plain; charset=punycode",
        b"text/plain; charset=idna",
        b"text/html; charset=idna",
        b"text/plain; name*=undefined''x",
    ],
)
def test_mail_in_a_charset_the_codecs_refuse_is_filed_not_a_500(
    client: TestClient, content_type: bytes
) -> None:
    raw = MESSAGE.replace(b"\r\n\r\n", b"\r\nContent-Type: " + content_type + b"\r\n\r\n\xe4\xf6")
    filed = client.post("/api/v1/mail/inbound", content=raw, headers=RFC822)
    assert filed.status_code == 200, filed.text
    assert filed.json()["outcome"] in ("created", "quarantined")


def test_a_position_past_the_log_tells_a_stranger_nothing(client: TestClient) -> None:
    answer = client.get(
        "/api/v1/tickets", headers={"Authorization": "", "X-Min-Position": "999999999"}
    )
    assert answer.status_code == 401, answer.text
