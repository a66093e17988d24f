"""The company switches on the API: every route of a switched-off app or feature answers a
404 problem saying it is disabled (the routes are taken from the app's route table, so a
new one cannot be forgotten), its data comes back when it is switched on, and the ways in
that do not go through its routes (mail, forms, chats) respect it too."""

from __future__ import annotations

import re
import uuid

from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.switches import SWITCHES, Switch, governing
from ledgerdesk import bootstrap
from projections import presence
from tests.api.test_portal_api import as_customer, created, session

# The API routes no switch governs, by prefix: each is part of every install (a route added
# under a new prefix fails `test_every_api_route_is_governed_or_core` until it is placed).
CORE = (
    "/api/v1/admin/audit",
    "/api/v1/admin/messages",
    "/api/v1/admin/branding",
    "/api/v1/admin/settings",
    "/api/v1/auth",
    "/api/v1/changes",
    "/api/v1/contacts",
    "/api/v1/customers",
    "/api/v1/dashboards",
    "/api/v1/events",
    "/api/v1/folders",
    "/api/v1/health",
    "/api/v1/hooks",
    "/api/v1/imports",  # each row's kind needs its app on (a row of a switched-off one: 422)
    "/api/v1/item-types",
    "/api/v1/items/{number}/audience",
    "/api/v1/mail",
    "/api/v1/me",
    "/api/v1/portfolios",
    "/api/v1/projects",
    "/api/v1/reports",  # the templates; each checks the switches its figures need
    "/api/v1/statuses",
    "/api/v1/teams",
    "/api/v1/triggers",
    "/api/v1/users",
    "/api/v1/views/calendar",
    "/api/v1/views/calendar.ics",
    "/api/v1/views/flat",
    "/api/v1/views/saved",
    "/api/v1/views/status-board",
    "/api/v1/views/tree",
    "/api/v1/webhooks",
)
RFC822 = {"Content-Type": "message/rfc822"}
MAIL = (
    b"From: Ada <ada@acme.example>\r\nTo: support@ledgerdesk.local\r\n"
    b"Subject: Printer on fire\r\nMessage-ID: <switch-1@acme.example>\r\n\r\nHelp.\r\n"
)


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every API route the app serves."""
    found = []
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if isinstance(route, APIRoute) and route.path.startswith("/api/v1/"):
            found += [(method, route.path) for method in sorted(route.methods - {"HEAD"})]
    return found


def filled(path: str) -> str:
    """A URL for the route: a uuid where the path converts one, else any value."""
    return re.sub(
        r"\{(\w+)(:\w+)?\}",
        lambda m: str(uuid.uuid4()) if m.group(2) == ":uuid" else "1",
        path,
    )


def switch(client: TestClient, group: str, name: str, on: bool) -> None:
    answer = client.patch("/api/v1/admin/settings", json={group: {name: on}})
    assert (answer.status_code, answer.json()[group][name]) == (200, on), answer.text


def test_every_api_route_is_governed_or_core(client: TestClient) -> None:
    routes = api_routes(client)
    stray = [
        (method, path)
        for method, path in routes
        if not governing(path, method)
        and not any(path == core or path.startswith(f"{core}/") for core in CORE)
    ]
    assert stray == []
    # And each switch governs routes that exist (a renamed route leaves no dead entry)
    for entry in SWITCHES:
        assert any(entry.governs(path, method) for method, path in routes), entry.name
    # And a route under a switched app is governed without being listed
    assert [s.name for s in governing("/api/v1/tickets/{number}/anything-new", "POST")] == [
        "tickets"
    ]


def test_each_switch_refuses_every_route_it_governs_with_a_problem(client: TestClient) -> None:
    routes = api_routes(client)
    refused = 0
    for entry in SWITCHES:
        switch(client, entry.group, entry.name, False)
        for method, path in routes:
            if not entry.governs(path, method):
                continue
            answer = client.request(method, filled(path))
            problem = answer.json()
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert problem["detail"] == (
                f"the {entry.label} is disabled: an admin switched it off on this install"
            ), (method, path)
            refused += 1
        switch(client, entry.group, entry.name, True)
    assert refused >= 60
    # The admin settings themselves are never switched off
    assert client.get("/api/v1/admin/settings").status_code == 200


def test_a_switched_off_app_keeps_its_data_and_brings_it_back(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = created(client.post("/api/v1/projects", json={"name": "Kept"}))["id"]
    number = created(client.post("/api/v1/tickets", json={"title": "Kept", "project_id": project}))[
        "number"
    ]
    task = created(
        client.post("/api/v1/tasks", json={"title": "Still here", "project_id": project})
    )
    # When the tickets app is switched off
    switch(client, "apps", "tickets", False)
    # Then its items are not there, and none can be opened, but the tasks app still works
    assert client.get(f"/api/v1/tickets/{number}").status_code == 404
    assert client.get("/api/v1/tickets").status_code == 404
    assert client.post("/api/v1/tickets", json={"title": "No"}).status_code == 404
    assert client.get(f"/api/v1/tasks/{task['number']}").status_code == 200
    # And nothing was appended by the refused write
    head = live.app.head()
    assert client.post("/api/v1/tickets", json={"title": "No"}).status_code == 404
    assert live.app.head() == head
    # When it is switched on again, everything is back
    switch(client, "apps", "tickets", True)
    again = client.get(f"/api/v1/tickets/{number}")
    assert (again.status_code, again.json()["title"]) == (200, "Kept")
    # And a task cannot be made from a ticket while the tasks app is off
    switch(client, "apps", "tasks", False)
    conversion = client.post(f"/api/v1/tickets/{number}/conversion")
    assert conversion.status_code == 404
    assert "tasks app is disabled" in conversion.json()["detail"]
    switch(client, "apps", "tasks", True)


def test_mail_for_a_switched_off_app_waits_in_the_quarantine(client: TestClient) -> None:
    # Given the tickets app switched off
    switch(client, "apps", "tickets", False)
    # When mail comes in for the desk, it is held, not dropped, saying why
    held = client.post("/api/v1/mail/inbound", content=MAIL, headers=RFC822)
    assert (held.status_code, held.json()["outcome"]) == (200, "quarantined"), held.text
    wait = {"X-Min-Position": held.headers["X-Log-Position"]}
    entry = client.get("/api/v1/mail/quarantine", headers=wait).json()["items"][0]
    assert "tickets app is disabled" in entry["detail"]
    # And it cannot be released while the app is off
    assert client.post(f"/api/v1/mail/quarantine/{entry['id']}/release").status_code == 409
    # When the app is on again, releasing it opens the ticket
    switch(client, "apps", "tickets", True)
    released = client.post(f"/api/v1/mail/quarantine/{entry['id']}/release")
    assert (released.status_code, released.json()["outcome"]) == (200, "created"), released.text
    number = released.json()["number"]
    # And a reply to that ticket while the app is off is held too
    switch(client, "apps", "tickets", False)
    reply = MAIL.replace(b"switch-1", b"switch-2").replace(
        b"Subject: Printer on fire", f"Subject: Re: [#{number}] Printer on fire".encode()
    )
    again = client.post("/api/v1/mail/inbound", content=reply, headers=RFC822)
    assert again.json()["outcome"] == "quarantined", again.text
    switch(client, "apps", "tickets", True)


def test_a_chat_with_nobody_on_duty_waits_while_tickets_are_off(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given nobody on duty (a chat would become a ticket) and the tickets app off
    ann = session(client, "ann@example.com")
    presence.gone(live.views, "tests", client.get("/api/v1/me").json()["id"])
    switch(client, "apps", "tickets", False)
    # When a customer opens a chat, it waits for someone instead of failing
    opened = client.post(
        "/api/v1/portal/chats", json={"body": "Anyone there?"}, headers=as_customer(ann)
    )
    chat = created(opened)
    assert chat["state"] == "waiting"
    assert chat["item"] is None


def test_the_labels_name_what_is_switched_off() -> None:
    entry = Switch("apps", "tickets", "tickets app", ("/api/v1/tickets",))
    assert entry.governs("/api/v1/tickets", "GET")
    assert entry.governs("/api/v1/tickets/{number}", "PATCH")
    assert not entry.governs("/api/v1/ticketsx", "GET")
    only_writes = Switch("apps", "x", "x", ("/api/v1/x",), frozenset({"POST"}))
    assert not only_writes.governs("/api/v1/x", "GET")
    # The knowledge base's customer side is the knowledge base's, not the portal's
    assert [s.name for s in governing("/api/v1/portal/kb/{slug}", "GET")] == ["knowledge_base"]


def test_a_switched_off_timesheets_app_hides_its_report_and_timers(
    client: TestClient, live: bootstrap.Container
) -> None:
    switch(client, "apps", "timesheets", False)
    assert client.get("/api/v1/me/timers").status_code == 404
    assert client.get("/api/v1/reports/timesheets", params={"month": "2026-12"}).status_code == 404
    switch(client, "apps", "timesheets", True)
    assert client.get("/api/v1/me/timers").status_code == 200


def test_a_switched_off_app_is_in_no_view_and_its_items_cannot_be_moved(
    client: TestClient,
) -> None:
    project = created(client.post("/api/v1/projects", json={"name": "Board"}))["id"]
    number = created(client.post("/api/v1/tickets", json={"title": "Hid", "project_id": project}))[
        "number"
    ]
    created(client.post("/api/v1/tasks", json={"title": "Shown", "project_id": project}))
    switch(client, "apps", "tickets", False)
    flat = client.get("/api/v1/views/flat", params={"project": project}).json()["items"]
    assert [i["title"] for i in flat] == ["Shown"]
    board = client.get("/api/v1/views/status-board", params={"kind": "ticket", "project": project})
    assert (board.status_code, "tickets app is disabled" in board.text) == (404, True)
    moved = client.post(
        "/api/v1/views/status-board/moves", json={"number": number, "status": "Open"}
    )
    assert moved.status_code == 404, moved.text
    assert "tickets app is disabled" in moved.json()["detail"]
    switch(client, "apps", "tickets", True)
    flat = client.get("/api/v1/views/flat", params={"project": project}).json()["items"]
    assert sorted(i["title"] for i in flat) == ["Hid", "Shown"]
