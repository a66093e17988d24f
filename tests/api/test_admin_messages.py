"""The automated messages, on both backends: admins list, edit, preview and reset them; a
text with a placeholder the message does not offer is refused and writes nothing; what they
write is what customers are told (a chat with nobody on duty, the widget's chat tab), and
the shipped text comes back on reset."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from projections import presence
from tests.api.test_portal_api import as_customer, created, session
from tests.api.test_widgets import NOBODY, SITE, widget
from tests.factories import user_token

BASE = "/api/v1/admin/messages"
OWN_OFFLINE = "We are out right now. Request #{number} is ours: we answer by email."


def test_admins_list_edit_preview_and_reset_the_automated_messages(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Resetting what was never changed writes nothing, not even the settings
    head = live.app.head()
    assert client.delete(f"{BASE}/chat_welcome").status_code == 204
    assert live.app.head() == head
    listed = client.get(BASE)
    assert listed.status_code == 200
    items = {m["key"]: m for m in listed.json()["items"]}
    assert list(items) == ["chat_welcome", "chat_offline", "chat_ended", "form_received"]
    offline = items["chat_offline"]
    assert (offline["overridden"], offline["placeholders"]) == (False, ["number"])
    assert offline["text"] == offline["default"]
    assert offline["default"].startswith("Nobody is available to chat just now.")

    # A draft is previewed with sample values, not saved; with no body, the text in force
    draft = client.post(f"{BASE}/chat_offline/preview", json={"text": "Request {number}."})
    assert draft.json() == {"text": "Request 1042."}
    assert client.get(f"{BASE}/chat_offline").json()["overridden"] is False
    shipped = client.post(f"{BASE}/chat_offline/preview").json()["text"]
    assert "request #1042" in shipped

    # Edited: in force, and in the audit trail
    edited = client.put(f"{BASE}/chat_offline", json={"text": OWN_OFFLINE})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["text"], edited.json()["overridden"]) == (OWN_OFFLINE, True)
    preview = client.post(f"{BASE}/chat_offline/preview").json()["text"]
    assert preview == "We are out right now. Request #1042 is ours: we answer by email."
    trail = client.get(
        "/api/v1/admin/audit",
        params={"types": "CompanySettings"},
        headers={"X-Min-Position": edited.headers["X-Log-Position"]},
    ).json()["items"]
    assert trail[0]["type"] == "CompanySettings.MessageSet"
    assert trail[0]["changes"] == {"key": "chat_offline", "text": OWN_OFFLINE}

    # Reset: the shipped text again, once (a second reset writes nothing)
    reset = client.delete(f"{BASE}/chat_offline")
    assert reset.status_code == 204
    again = client.get(f"{BASE}/chat_offline").json()
    assert (again["overridden"], again["text"]) == (False, offline["default"])
    head = live.app.head()
    assert client.delete(f"{BASE}/chat_offline").status_code == 204
    assert live.app.head() == head


def test_a_text_the_message_cannot_say_is_refused_and_nothing_is_written(
    client: TestClient, live: bootstrap.Container
) -> None:
    head = live.app.head()
    for text, named in (
        ("Request {ticket} is ours.", "no placeholder {ticket} here; it offers {number}"),
        ("Hello {number}", "no placeholder {number} here; it offers none"),
        ("Request {number!r}", "write the placeholder as {number}"),
        ("Request {number:>5}", "write the placeholder as {number}"),
        ("A lone { brace", "write a brace as {{ or }}"),
        ("Request {number.real}", "no placeholder {number.real} here"),
        ("   ", "may not be empty"),
    ):
        key = "chat_welcome" if text == "Hello {number}" else "chat_offline"
        refused = client.put(f"{BASE}/{key}", json={"text": text})
        assert refused.status_code == 422, text
        assert named in refused.json()["detail"], refused.json()
        preview = client.post(f"{BASE}/{key}/preview", json={"text": text})
        assert preview.status_code == 422, text
    assert client.put(f"{BASE}/chat_offline", json={"text": "x" * 1001}).status_code == 422
    assert client.get(f"{BASE}/nope").status_code == 422
    assert live.app.head() == head
    # A doubled brace is a brace
    braces = client.post(f"{BASE}/chat_offline/preview", json={"text": "{{#{number}}}"})
    assert braces.json() == {"text": "{#1042}"}


def test_only_admins_read_or_change_the_automated_messages(
    client: TestClient, live: bootstrap.Container
) -> None:
    member = {"Authorization": f"Bearer {user_token(live, 'm@example.com')}"}
    assert client.get(BASE, headers=member).status_code == 403
    assert client.put(f"{BASE}/chat_ended", json={"text": "Bye"}, headers=member).status_code == 403
    assert client.delete(f"{BASE}/chat_ended", headers=member).status_code == 403
    assert client.get(BASE, headers=NOBODY).status_code == 401
    assert client.get(f"{BASE}/chat_ended").json()["overridden"] is False


def test_a_chat_with_nobody_on_duty_tells_the_customer_the_admins_text(
    client: TestClient, live: bootstrap.Container
) -> None:
    client.put(f"{BASE}/chat_offline", json={"text": OWN_OFFLINE})
    ann = session(client, "ann@example.com")
    presence.gone(live.views, "tests", client.get("/api/v1/me").json()["id"])
    opened = client.post(
        "/api/v1/portal/chats", json={"body": "Anyone there?"}, headers=as_customer(ann)
    )
    chat = created(opened)
    assert chat["state"] == "closed"
    number = chat["item"]["number"]
    request = client.get(f"/api/v1/portal/tickets/{number}", headers=as_customer(ann))
    told = request.json()["messages"][-1]["body"]
    assert told == f"We are out right now. Request #{number} is ours: we answer by email."


def test_the_widget_says_the_admins_welcome_and_the_shipped_one_after_a_reset(
    client: TestClient,
) -> None:
    made = widget(client, SITE)
    frame = client.get(f"/widget/{made['id']}", headers=NOBODY)
    assert "Write to us: someone from our team answers here." in frame.text
    client.put(f"{BASE}/chat_welcome", json={"text": "Ask Acme <anything>!"})
    client.put(f"{BASE}/chat_ended", json={"text": "Bye for now."})
    frame = client.get(f"/widget/{made['id']}", headers=NOBODY)
    assert "Ask Acme &lt;anything&gt;!" in frame.text  # Plain text: escaped
    assert "Bye for now." in frame.text
    assert "Write to us" not in frame.text
    client.delete(f"{BASE}/chat_welcome")
    frame = client.get(f"/widget/{made['id']}", headers=NOBODY)
    assert "Write to us: someone from our team answers here." in frame.text
    # In the customer's language while it is the shipped one
    french = client.get(f"/widget/{made['id']}", headers={**NOBODY, "Accept-Language": "fr"})
    assert "Write to us" not in french.text
