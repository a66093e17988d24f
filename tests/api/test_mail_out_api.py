"""Mail out through the API: admins change the mail settings (the SMTP password is never
given back), override, preview and reset templates (a broken one is 422 naming its line),
and readers mark a conversation read."""

from __future__ import annotations

from fastapi.testclient import TestClient

from commands.models import IssueToken
from ledgerdesk import bootstrap
from tests.factories import SYSTEM, register
from tests.smtp_sink import running_sink

SMTP = {"host": "smtp.example.com", "port": 587, "security": "starttls", "user": "desk"}


def test_the_smtp_password_is_kept_encrypted_and_never_shown(
    client: TestClient, live: bootstrap.Container
) -> None:
    body = {"company_name": "Acme", "colour": "#aa0000", "smtp": {**SMTP, "password": "s3cret!"}}
    changed = client.put("/api/v1/mail/settings", json=body)
    assert changed.status_code == 200, changed.text
    shown = client.get("/api/v1/mail/settings").json()
    assert shown["smtp"]["password_set"] is True
    assert "s3cret" not in changed.text + client.get("/api/v1/mail/settings").text
    # Stored as a token in the log, not as the password
    stored = [e for e in live.app.recorder.select_notifications(start=1, limit=10_000)]
    assert all(b"s3cret" not in n.state for n in stored)
    assert live.mail_out.server() is not None
    assert live.mail_out.server().password == "s3cret!"  # type: ignore[union-attr]
    # A change without a password keeps it
    client.put("/api/v1/mail/settings", json={**body, "smtp": {**SMTP, "from_name": "Desk"}})
    assert live.mail_out.server().password == "s3cret!"  # type: ignore[union-attr]
    assert live.mail_out.server().from_name == "Desk"  # type: ignore[union-attr]


def test_bad_settings_are_422_and_members_may_not_change_them(
    client: TestClient, live: bootstrap.Container
) -> None:
    bad = client.put("/api/v1/mail/settings", json={"colour": "red"})
    assert bad.status_code == 422
    assert "colour" in bad.json()["detail"]
    register(live, "member@example.com")
    token = live.accounts.issue_token(IssueToken(email="member@example.com"), SYSTEM)[1]
    refused = client.put(
        "/api/v1/mail/settings", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403


def test_a_template_is_overridden_previewed_and_reset(client: TestClient) -> None:
    kind = "/api/v1/mail/templates/acknowledgement"
    assert client.get(kind).json()["overridden"] is False
    draft = {
        "subject": "Got it: {{ item.title }}",
        "html": "<p>Hi {{ recipient.name }}</p>",
        "text": "Hi {{ recipient.name }}",
    }
    preview = client.post(f"{kind}/preview", json=draft)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["subject"].startswith("Got it: The printer")
    assert shown["subject"].endswith("[#1042]")  # The tag is always there.
    assert "Hi Ada Lovelace" in shown["html"]
    assert "Hi Ada Lovelace" in shown["text"]
    saved = client.put(kind, json=draft)
    assert saved.status_code == 200, saved.text
    assert saved.json()["overridden"] is True
    assert client.post(f"{kind}/preview").json()["subject"].startswith("Got it:")
    assert client.delete(kind).status_code == 204
    assert client.get(kind).json()["overridden"] is False


def test_a_broken_template_is_422_naming_its_part_and_line(client: TestClient) -> None:
    kind = "/api/v1/mail/templates/mention"
    broken = {"subject": "x", "html": "<p>one</p>\n<p>{{ item.nope }}</p>", "text": "t"}
    for answer in (client.post(f"{kind}/preview", json=broken), client.put(kind, json=broken)):
        assert answer.status_code == 422
        assert "html, line 2" in answer.json()["detail"]
    syntax = {"subject": "x", "html": "h", "text": "a\nb\n{% for %}"}
    assert "text, line 3" in client.put(kind, json=syntax).json()["detail"]
    unsafe = {"subject": "{{ ''.__class__.__mro__ }}", "html": "h", "text": "t"}
    assert "unsafe" in client.put(kind, json=unsafe).json()["detail"]
    assert client.get(kind).json()["overridden"] is False  # Nothing was saved.
    assert client.get("/api/v1/mail/templates/nonsense").status_code == 422


def test_marking_a_conversation_read_counts_what_was_new(client: TestClient) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Jam"}).json()["number"]
    client.post(f"/api/v1/tickets/{number}/messages", json={"body": "a", "visibility": "internal"})
    first = client.post(f"/api/v1/tickets/{number}/read")
    assert first.status_code == 200, first.text
    assert first.json() == {"read": 1}
    assert client.post(f"/api/v1/tickets/{number}/read").json() == {"read": 0}
    detail = client.get(
        f"/api/v1/tickets/{number}", headers={"X-Min-Position": first.headers["X-Log-Position"]}
    )
    assert detail.json()["messages"][0]["read_by"]
    assert client.post("/api/v1/tickets/999999/read").status_code == 404


def test_a_template_that_would_fail_on_real_data_or_be_huge_is_422(client: TestClient) -> None:
    # An acknowledgement is about no message: a template reading one fails its check
    about = {"subject": "x", "html": "{{ message.body }}", "text": "t"}
    refused = client.put("/api/v1/mail/templates/acknowledgement", json=about)
    assert refused.status_code == 422
    assert "html" in refused.json()["detail"]
    # A message may have no attachments
    second = {"subject": "x", "html": "{{ attachments[1].name }}", "text": "t"}
    assert client.put("/api/v1/mail/templates/customer_message", json=second).status_code == 422
    huge = {"subject": "x", "html": "{{ 'a' * 5000000 }}", "text": "t"}
    assert client.post("/api/v1/mail/templates/mention/preview", json=huge).status_code == 422


def test_a_stored_smtp_password_is_not_kept_for_another_host(
    client: TestClient, live: bootstrap.Container
) -> None:
    client.put("/api/v1/mail/settings", json={"smtp": {**SMTP, "password": "s3cret!"}})
    moved = {**SMTP, "host": "evil.example.net"}
    assert client.put("/api/v1/mail/settings", json={"smtp": moved}).status_code == 200
    assert live.mail_out.server().password is None  # type: ignore[union-attr]
    assert client.get("/api/v1/mail/settings").json()["smtp"]["password_set"] is False
    bad_from = {**SMTP, "from_address": "a@b.c\r\nbcc: x@y.z"}
    assert client.put("/api/v1/mail/settings", json={"smtp": bad_from}).status_code == 422


def test_a_template_with_a_macro_that_calls_itself_is_422_not_500(client: TestClient) -> None:
    kind = "/api/v1/mail/templates/customer_message"
    recursive = "<p>x</p>\n{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"
    draft = {"subject": "x", "html": recursive, "text": "t"}
    for answer in (client.post(f"{kind}/preview", json=draft), client.put(kind, json=draft)):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "html, line 2: " in answer.json()["detail"]
        assert "calls itself" in answer.json()["detail"]
    assert client.get(kind).json()["overridden"] is False


def test_an_smtp_server_that_would_get_a_password_in_plain_text_is_422(
    client: TestClient, live: bootstrap.Container
) -> None:
    plain = {**SMTP, "security": "none", "port": 25, "password": "s3cret!"}
    refused = client.put("/api/v1/mail/settings", json={"smtp": plain})
    assert refused.status_code == 422, refused.text
    assert "smtp.security" in refused.json()["detail"]
    assert "plain text" in refused.json()["detail"]
    assert "s3cret" not in refused.text
    assert client.get("/api/v1/mail/settings").json()["smtp"] is None  # Nothing was saved.
    # A user without a password would still log in in plain text
    no_password = {**SMTP, "security": "none", "port": 25}
    assert client.put("/api/v1/mail/settings", json={"smtp": no_password}).status_code == 422
    # A relay on this machine may have one; and no user needs no TLS
    local = {**plain, "host": "127.0.0.1"}
    assert client.put("/api/v1/mail/settings", json={"smtp": local}).status_code == 200
    anonymous = {"host": "mx.example.com", "port": 25, "security": "none"}
    assert client.put("/api/v1/mail/settings", json={"smtp": anonymous}).status_code == 200


def test_the_smtp_server_is_tested_without_sending_mail(client: TestClient) -> None:
    # No server yet: nothing to test
    none = client.post("/api/v1/mail/settings/test")
    assert (none.status_code, "no SMTP server is set" in none.json()["detail"]) == (409, True)
    with running_sink() as sink:
        server = {"host": sink.host, "port": sink.port, "security": "none"}
        client.put("/api/v1/mail/settings", json={"smtp": server})
        tried = client.post("/api/v1/mail/settings/test")
        assert tried.status_code == 200, tried.text
        assert tried.json() == {
            "ok": True,
            "server": f"{sink.host}:{sink.port} (none)",
            "detail": f"connected to {sink.host}:{sink.port} (none) without TLS",
        }
        assert sink.all() == []  # No mail was sent
        # A login the server does not offer is a failed test, saying so
        client.put(
            "/api/v1/mail/settings", json={"smtp": {**server, "user": "desk", "password": "pw"}}
        )
        refused = client.post("/api/v1/mail/settings/test").json()
        assert refused["ok"] is False
        assert "login as desk" in refused["detail"]
    # A server that is not there
    gone = client.post("/api/v1/mail/settings/test").json()
    assert gone["ok"] is False
    assert f"{sink.host}:{sink.port}" in gone["detail"]
    # Only admins test
    assert (
        client.post("/api/v1/mail/settings/test", headers={"Authorization": ""}).status_code == 401
    )
