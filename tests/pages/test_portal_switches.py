"""Admins switch the portal off and on, and let customers close and reopen their requests;
each switch holds at once, for the pages and the portal API alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token
from tests.pages.helpers import csrf_of, ticket
from tests.pages.test_portal_pages import signed_up


@pytest.fixture
def browser(live: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(live.http_app()) as http:
        yield http


def test_only_admins_switch_and_only_known_switches(
    client: TestClient, live: bootstrap.Container
) -> None:
    shown = client.get("/api/v1/admin/settings").json()
    assert shown == {
        "apps": {
            "tickets": True,
            "tasks": True,
            "timesheets": True,
            "portal": True,
            "knowledge_base": True,
            "web_forms": True,
            "messenger": True,
            "widget": True,
        },
        "features": {
            "timers": True,
            "timesheet_approval": True,
            "recurring_items": True,
            "sla": True,
            "automations": True,
            "customer_status_changes": False,
            "anonymous_forms": True,
            "anonymous_chats": False,
        },
    }
    member = {"Authorization": f"Bearer {user_token(live, 'm@example.com')}"}
    refused = client.patch(
        "/api/v1/admin/settings", json={"apps": {"portal": False}}, headers=member
    )
    assert refused.status_code == 403
    unknown = client.patch("/api/v1/admin/settings", json={"apps": {"payroll": False}})
    assert unknown.status_code == 422
    assert "payroll" in unknown.text
    not_bool = client.patch("/api/v1/admin/settings", json={"apps": {"portal": "no"}})
    assert not_bool.status_code == 422
    # Nothing was switched by the refused ones
    assert client.get("/api/v1/admin/settings").json() == shown


def test_a_switched_off_portal_answers_404_everywhere_until_switched_on(
    client: TestClient, browser: TestClient
) -> None:
    signed_up(client, browser, "ada@acme.example")
    token = browser.cookies.get("ld_portal")
    # When admins switch the portal off
    off = client.patch("/api/v1/admin/settings", json={"apps": {"portal": False}})
    assert (off.status_code, off.json()["apps"]["portal"]) == (200, False)
    assert off.headers["X-Log-Position"]
    # Then its pages say so, and its API is not there
    page = browser.get("/portal")
    assert page.status_code == 404
    assert "switched off" in page.text
    assert browser.get("/portal/login").status_code == 404
    api = browser.get("/api/v1/portal/tickets", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404
    assert "portal is disabled" in api.json()["detail"]
    # When switched on again, the same session works: nothing was lost
    client.patch("/api/v1/admin/settings", json={"apps": {"portal": True}})
    assert browser.get("/portal").status_code == 200


def test_with_tickets_off_the_requests_pages_and_forms_say_so(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    client.patch("/api/v1/admin/settings", json={"apps": {"tickets": False}})
    for path in ("/portal", f"/portal/items/{number}", "/portal/new", "/forms/anything"):
        page = browser.get(path)
        assert (page.status_code, "Requests are switched off." in page.text) == (404, True), path
    # The rest of the portal still answers
    assert browser.get("/portal/projects").status_code == 200
    client.patch("/api/v1/admin/settings", json={"apps": {"tickets": True}})
    # (The ticket is the staff's write: the customer's read waits for it.)
    caught_up = {"X-Min-Position": str(live.app.head())}
    assert browser.get(f"/portal/items/{number}", headers=caught_up).status_code == 200


def test_customers_close_and_reopen_only_where_admins_allow(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    path = f"/portal/items/{number}"
    caught_up = {"X-Min-Position": str(live.app.head())}
    page = browser.get(path, headers=caught_up)
    assert "Close request" not in page.text
    refused = browser.post(
        f"{path}/status", data={"csrf": csrf_of(page.text), "action": "close"},
        follow_redirects=False,
    )  # fmt: skip
    assert refused.status_code == 403
    assert client.get(f"/api/v1/tickets/{number}").json()["status"] == "New"
    # When admins allow it, the customer closes the request, then reopens it
    client.patch("/api/v1/admin/settings", json={"features": {"customer_status_changes": True}})
    page = browser.get(path)
    assert "Close request" in page.text
    closed = browser.post(
        f"{path}/status", data={"csrf": csrf_of(page.text), "action": "close"},
        follow_redirects=False,
    )  # fmt: skip
    assert closed.status_code == 303
    page = browser.get(path)
    assert "Reopen request" in page.text
    wait = {"X-Min-Position": str(live.app.head())}
    assert client.get(f"/api/v1/tickets/{number}", headers=wait).json()["status"] == "Closed"
    browser.post(f"{path}/status", data={"csrf": csrf_of(page.text), "action": "reopen"})
    wait = {"X-Min-Position": str(live.app.head())}
    assert client.get(f"/api/v1/tickets/{number}", headers=wait).json()["status"] == "Open"
