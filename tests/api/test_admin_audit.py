"""`GET /api/v1/admin/audit`: every admin change is an event, listed newest first with who
and what, secrets redacted; only admins read it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token


def test_admin_changes_are_listed_newest_first_without_secrets(
    client: TestClient, live: bootstrap.Container
) -> None:
    me = client.get("/api/v1/me").json()["id"]
    switched = client.patch("/api/v1/admin/settings", json={"apps": {"timesheets": False}})
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.216.34/in", "events": ["item.created"]},
    ).json()
    mailbox = client.post(
        "/api/v1/mail/mailboxes",
        json={
            "address": "sales@example.com",
            "project_id": client.post("/api/v1/projects", json={"name": "Sales"}).json()["id"],
            "imap": {"host": "imap.example.com", "user": "sales", "password": "hunter2hunter2"},
        },
    )
    assert mailbox.status_code == 201, mailbox.text
    trail = client.get("/api/v1/admin/audit").json()
    assert "Mailbox.Added" in [entry["type"] for entry in trail["items"]]
    types = [entry["type"] for entry in trail["items"]]
    assert types.index("Webhook.Subscribed") < types.index("CompanySettings.Changed")
    changed = next(e for e in trail["items"] if e["type"] == "CompanySettings.Changed")
    assert changed["position"] == int(switched.headers["X-Log-Position"])
    assert (changed["actor"], changed["changes"]["apps"]) == (f"user:{me}", {"timesheets": False})
    subscribed = next(e for e in trail["items"] if e["type"] == "Webhook.Subscribed")
    assert subscribed["subject_id"] == hook["id"]
    assert subscribed["changes"]["sealed_secret"] == "[redacted]"
    # No secret in any form anywhere in the trail
    text = str(trail)
    assert hook["secret"] not in text
    assert "hunter2hunter2" not in text
    assert "gAAAA" not in text  # (a Fernet token)
    # Narrowed by kind, and paged
    only = client.get("/api/v1/admin/audit", params={"types": "Webhook"}).json()["items"]
    assert {e["type"] for e in only} == {"Webhook.Subscribed"}
    first = client.get("/api/v1/admin/audit", params={"limit": 1}).json()
    rest = client.get(
        "/api/v1/admin/audit", params={"before": first["next_before"], "limit": 500}
    ).json()
    assert first["items"] + rest["items"] == trail["items"]
    # Bad input and other callers
    unknown = client.get("/api/v1/admin/audit", params={"types": "Payroll"})
    assert (unknown.status_code, "Payroll" in unknown.json()["detail"]) == (422, True)
    member = {"Authorization": f"Bearer {user_token(live, 'm@example.com')}"}
    assert client.get("/api/v1/admin/audit", headers=member).status_code == 403
