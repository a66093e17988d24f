"""A mailbox's IMAP account through the API: its password is stored sealed and never
returned, a PUT without it keeps it (the poller still logs in), a new host needs it again,
and the last poll's error shows on the mailbox."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from commands.credentials import Credentials
from domain.mail.mailbox import Mailbox
from ledgerdesk import bootstrap
from tests.dovecot import Dovecot
from workers.mail.imap import ImapPoller

MAILBOXES = "/api/v1/mail/mailboxes"


def imap_of(dovecot: Dovecot, user: str, **fields: Any) -> dict[str, Any]:
    return {
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "none",
        "user": user,
        "password": dovecot.users[user],
        **fields,
    }


def message(subject: str) -> bytes:
    return (
        f"From: Ada <ada@acme.example>\r\nTo: help@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@acme.example>\r\n\r\nPlease help.\r\n"
    ).encode()


def test_the_password_is_sealed_never_returned_and_kept_by_a_put_without_it(
    client: TestClient, live: bootstrap.Container, dovecot: Dovecot
) -> None:
    user, password = dovecot.add_user()
    project = client.post("/api/v1/projects", json={"name": "Help"}).json()["id"]
    # When an admin adds a mailbox fetched from an IMAP account
    body = {"address": "help@example.com", "project_id": project, "imap": imap_of(dovecot, user)}
    added = client.post(MAILBOXES, json=body)
    assert added.status_code == 201, added.text
    # Then the account shows, with defaults, and only that a password is set
    assert added.json()["imap"] == {
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "none",
        "user": user,
        "folder": "INBOX",
        "processed_folder": "ledgerdesk-processed",
        "poll_seconds": 60,
        "password_set": True,
        "polled_at": None,
        "error": None,
    }
    path = added.headers["Location"]
    read, listed = client.get(path), client.get(MAILBOXES)
    for answer in (added, read, listed):
        assert password not in answer.text
        assert "password_token" not in answer.text
    assert listed.json()["items"][0]["imap"]["password_set"] is True
    # And the event holds it sealed
    mailbox_id = added.json()["id"]
    events = list(live.app.events.get(Mailbox.create_id("help@example.com")))
    token = events[-1].password_token
    assert password not in repr(events)
    assert Credentials(live.mail.secret).open(token) == password
    # When the route and account are PUT without the password
    body["imap"] = imap_of(dovecot, user, password=None, poll_seconds=30)
    del body["address"]
    put = client.put(path, json={**body, "priority": "high"}, headers={"If-Match": '"2"'})
    assert put.status_code == 200, put.text
    assert (put.json()["imap"]["poll_seconds"], put.json()["imap"]["password_set"]) == (30, True)
    # Then the poller still logs in with the stored one
    dovecot.append(user, "INBOX", message("Printer on fire"))
    poller = ImapPoller(live.app, live.views, live.mail)
    report = poller.poll(UUID(mailbox_id))
    assert report is not None
    assert ([t.outcome for t in report.taken], report.error) == (["created"], None)
    polled = client.get(path).json()["imap"]
    assert (polled["polled_at"] is not None, polled["error"]) == (True, None)


def test_the_last_polls_error_shows_and_a_new_host_needs_the_password_again(
    client: TestClient, live: bootstrap.Container, dovecot: Dovecot
) -> None:
    user, _ = dovecot.add_user()
    project = client.post("/api/v1/projects", json={"name": "Help"}).json()["id"]
    imap = imap_of(dovecot, user, password="wrong")
    added = client.post(
        MAILBOXES, json={"address": "help@example.com", "project_id": project, "imap": imap}
    ).json()
    path = f"{MAILBOXES}/{added['id']}"
    # When its poll is refused the login
    report = ImapPoller(live.app, live.views, live.mail).poll(UUID(added["id"]))
    assert report is not None
    assert report.error is not None
    # Then the mailbox says so
    error = client.get(path).json()["imap"]["error"]
    assert str(error).startswith("login refused:"), error
    # And another host without the password is refused, naming the field
    moved = client.put(
        path, json={"project_id": project, "imap": {**imap, "host": "localhost", "password": None}}
    )
    assert moved.status_code == 422, moved.text
    assert moved.json()["errors"][0]["location"] == ["body", "imap.password"]
    # And a PUT without an account stops IMAP
    stopped = client.put(path, json={"project_id": project})
    assert (stopped.status_code, stopped.json()["imap"]) == (200, None)
    assert client.get(MAILBOXES).json()["items"][0]["imap"] is None


def test_an_account_is_checked_naming_the_field(client: TestClient) -> None:
    project = client.post("/api/v1/projects", json={"name": "Help"}).json()["id"]
    good = {"host": "imap.example.com", "user": "help", "password": "secret"}
    cases = [
        ({**good, "password": None}, ["body", "imap.password"]),
        ({**good, "processed_folder": "inbox"}, ["body", "imap.processed_folder"]),
        ({**good, "poll_seconds": 5}, ["body", "imap", "poll_seconds"]),
        ({**good, "security": "ssl"}, ["body", "imap", "security"]),
        ({**good, "port": 0}, ["body", "imap", "port"]),
        ({**good, "host": "imap example.com"}, ["body", "imap.host"]),
        ({**good, "password_set": True}, ["body", "imap", "password_set"]),
    ]
    for imap, location in cases:
        body = {"address": "help@example.com", "project_id": project, "imap": imap}
        refused = client.post(MAILBOXES, json=body)
        assert refused.status_code == 422, (imap, refused.text)
        assert refused.json()["errors"][0]["location"] == location, refused.text
    # TLS by default, on port 993
    added = client.post(
        MAILBOXES, json={"address": "help@example.com", "project_id": project, "imap": good}
    )
    assert added.status_code == 201, added.text
    assert (added.json()["imap"]["security"], added.json()["imap"]["port"]) == ("tls", 993)


def test_an_imap_account_is_tested_without_taking_its_mail(
    client: TestClient, live: bootstrap.Container, dovecot: Dovecot
) -> None:
    user, _ = dovecot.add_user()
    project = client.post("/api/v1/projects", json={"name": "Test"}).json()["id"]
    plain = client.post(MAILBOXES, json={"address": "plain@example.com", "project_id": project})
    none = client.post(f"{MAILBOXES}/{plain.json()['id']}/test")
    assert (none.status_code, "no mail by IMAP" in none.json()["detail"]) == (409, True)
    body = {"address": "test@example.com", "project_id": project, "imap": imap_of(dovecot, user)}
    mailbox = client.post(MAILBOXES, json=body).json()["id"]
    dovecot.append(user, "INBOX", message("Waiting here"))
    tried = client.post(f"{MAILBOXES}/{mailbox}/test")
    assert tried.status_code == 200, tried.text
    assert tried.json() == {
        "ok": True,
        "server": f"{dovecot.host}:{dovecot.port} (none)",
        "detail": f"logged in as {user}; INBOX holds 1 message(s)",
    }
    # Nothing was taken: a second test finds it still there
    assert client.post(f"{MAILBOXES}/{mailbox}/test").json()["detail"].endswith("1 message(s)")
    # A wrong password is a failed test, saying the login was refused
    wrong = {**imap_of(dovecot, user), "password": "not-the-password"}
    client.put(f"{MAILBOXES}/{mailbox}", json={"project_id": project, "imap": wrong})
    refused = client.post(f"{MAILBOXES}/{mailbox}/test").json()
    assert refused["ok"] is False
    assert refused["detail"].startswith("login refused")
