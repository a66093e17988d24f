"""Saved views over HTTP, on both backends: save, share, rename, redefine, delete; who may
see and change which; system views; running one — filters combined with and/or, grouping
with counts, columns, sort, cursor paging, the caller's scope — now and as of a moment."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token

BASE = "/api/v1/views/saved"
PROBLEM = "application/problem+json"


def member(client: TestClient, live: bootstrap.Container, email: str) -> tuple[str, dict[str, str]]:
    """A standard staff member's id and headers."""
    headers = {"Authorization": f"Bearer {user_token(live, email)}"}
    return client.get("/api/v1/me", headers=headers).json()["id"], headers


def after(live: bootstrap.Container, headers: dict[str, str] | None = None) -> dict[str, str]:
    """`headers`, reading through every write so far."""
    return {**(headers or {}), "X-Min-Position": str(live.app.head())}


def saved(client: TestClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post(BASE, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def ticket(client: TestClient, title: str, **fields: Any) -> int:
    response = client.post("/api/v1/tickets", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return int(response.json()["number"])


def test_a_view_is_private_until_shared_and_only_its_owner_or_an_admin_changes_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    ana_id, ana = member(client, live, "ana@example.com")
    bo_id, bo = member(client, live, "bo@example.com")
    team = client.post("/api/v1/teams", json={"name": "Second line"}).json()["id"]
    client.put(f"/api/v1/teams/{team}/members/{bo_id}", json={"role": "member"})

    mine = saved(client, {"name": "  Ana's   queue ", "definition": {}}, **ana)
    assert (mine["name"], mine["owner_id"], mine["system"]) == ("Ana's queue", ana_id, False)
    assert mine["sharing"] == {"users": [], "teams": [], "all_staff": False}
    assert mine["definition"]["layout"] == "flat"
    assert mine["definition"]["columns"] == [
        "number", "title", "status", "priority", "assignees", "updated_at"
    ]  # fmt: skip
    view = f"{BASE}/{mine['id']}"

    # Private: nobody else sees it, not even an admin
    for headers in (bo, {}):
        assert client.get(view, headers=after(live, headers)).status_code == 404
        listed = client.get(BASE, headers=after(live, headers)).json()["items"]
        assert mine["id"] not in [v["id"] for v in listed]
    assert client.patch(view, json={"name": "Mine now"}).status_code == 404

    # Shared with Bo's team: Bo sees and runs it, but only Ana (or an admin) changes it
    shared = client.patch(view, json={"sharing": {"teams": [team]}}, headers=ana)
    assert shared.status_code == 200, shared.text
    assert shared.json()["sharing"] == {"users": [], "teams": [team], "all_staff": False}
    assert client.get(view, headers=after(live, bo)).json()["name"] == "Ana's queue"
    assert client.get(f"{view}/items", headers=after(live, bo)).status_code == 200
    refused = client.patch(view, json={"name": "Bo's"}, headers=bo)
    assert (refused.status_code, refused.headers["content-type"]) == (403, PROBLEM)
    assert client.delete(view, headers=bo).status_code == 403
    # An admin may see it once it is shared with all staff, and rename it
    client.patch(view, json={"sharing": {"all_staff": True}}, headers=ana)
    renamed = client.patch(view, json={"name": "Team queue"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["owner_id"] == ana_id

    # With If-Match: a stale version is 412 and writes nothing
    head = live.app.head()
    stale = client.patch(view, json={"name": "Stale"}, headers={**ana, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert live.app.head() == head

    # Deleted: gone for everyone
    assert client.delete(view, headers=ana).status_code == 204
    assert client.get(view, headers=after(live, ana)).status_code == 404
    assert client.get(f"{view}/items", headers=after(live, bo)).status_code == 404
    assert client.patch(view, json={"name": "Again"}, headers=ana).status_code == 404


def test_system_views_are_shared_with_all_staff_changed_by_admins_and_never_deleted(
    client: TestClient, live: bootstrap.Container
) -> None:
    _, ana = member(client, live, "ana@example.com")
    own = saved(client, {"name": "Zebra", "definition": {}}, **ana)
    listed = client.get(BASE, headers=after(live, ana)).json()["items"]
    names = [v["name"] for v in listed]
    assert names == ["My open items", "Unassigned tickets", "SLA at risk", "Zebra"]
    system = listed[0]
    assert (system["system"], system["owner_id"], system["version"]) == (True, None, 0)
    path = f"{BASE}/{system['id']}"

    assert client.patch(path, json={"name": "Mine"}, headers=ana).status_code == 403
    assert client.delete(path, headers=ana).status_code == 403
    head = live.app.head()
    kept = client.delete(path)
    assert (kept.status_code, kept.headers["content-type"]) == (409, PROBLEM)
    assert live.app.head() == head
    private = client.patch(path, json={"sharing": {"all_staff": False}})
    assert private.status_code == 422
    assert live.app.head() == head

    changed = client.patch(path, json={"name": "My work"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["version"]) == ("My work", 2)  # saved, renamed
    listed = client.get(BASE, headers=after(live, ana)).json()["items"]
    assert [v["name"] for v in listed] == ["My work", "Unassigned tickets", "SLA at risk", "Zebra"]
    assert own["id"] == listed[-1]["id"]


def test_bad_definitions_are_problems_naming_the_part_and_write_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    head = live.app.head()
    for definition, where in (
        ({"colour": "red"}, "definition.colour"),
        ({"kinds": ["epic"]}, "definition.kinds"),
        ({"filter": {"field": "mood", "op": "eq", "value": "x"}}, "definition.filter.field"),
        (
            {"filter": {"and": [{"field": "state", "op": "eq", "value": "asleep"}]}},
            "definition.filter.and[0].value",
        ),
        ({"filter": {"field": "title", "op": "gt", "value": "a"}}, "definition.filter.op"),
        ({"filter": {"or": []}}, "definition.filter.or"),
        ({"filter": {"field": "created_at", "op": "gt", "value": "2026-13-01"}},
         "definition.filter.value"),
        ({"filter": {"field": "assignee", "op": "eq", "value": "ana"}}, "definition.filter.value"),
        ({"group_by": ["status", "state", "priority", "kind"]}, "definition.group_by"),
        ({"sort": "colour"}, "definition.sort"),
        ({"layout": "mosaic"}, "definition.layout"),
    ):  # fmt: skip
        response = client.post(BASE, json={"name": "Bad", "definition": definition})
        assert response.status_code == 422, (definition, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert where in response.text, (where, response.text)
    missing = client.post(BASE, json={"name": "Bad", "definition": {}, "sharing": {
        "users": ["6b0f1c8e-2f4a-4c1e-9d7b-3a5e8f2c1d40"]}})  # fmt: skip
    assert missing.status_code == 404
    assert live.app.head() == head


def test_a_view_runs_its_filters_groups_columns_and_sort_a_page_at_a_time(
    client: TestClient, live: bootstrap.Container
) -> None:
    me = client.get("/api/v1/me").json()["id"]
    ana_id, _ = member(client, live, "ana@example.com")
    plan = [  # title, priority, assignee, finished
        ("VPN down", "urgent", me, False),
        ("VPN slow", "low", me, False),
        ("Printer", "high", ana_id, False),
        ("Mouse", "high", None, False),
        ("Old VPN", "urgent", me, True),
        ("Keyboard", "normal", ana_id, False),
    ]
    for title, priority, assignee, finished in plan:
        number = ticket(client, title, priority=priority)
        if assignee:
            client.put(f"/api/v1/tickets/{number}/assignees/{assignee}")
        if finished:
            client.patch(f"/api/v1/tickets/{number}", json={"status": "Resolved"})
    definition = {
        "kinds": ["ticket"],
        "filter": {
            "and": [
                {"field": "state", "op": "ne", "value": "finished"},
                {
                    "or": [
                        {"field": "priority", "op": "gte", "value": "high"},
                        {"field": "title", "op": "contains", "value": "vpn"},
                    ]
                },
            ]
        },
        "group_by": ["assignee"],
        "columns": ["title", "priority"],
        "sort": "-priority",
    }
    view = saved(client, {"name": "Hot", "definition": definition})
    pages, cursor, groups = [], None, None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{BASE}/{view['id']}/items", params=params, headers=after(live))
        assert page.status_code == 200, page.text
        body = page.json()
        if cursor is None:
            groups = body["groups"]
        else:
            assert body["groups"] is None
        pages += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [(i["group"], i["title"]) for i in pages] == [
        ([ana_id], "Printer"),
        ([me], "VPN down"),
        ([me], "VPN slow"),
        ([None], "Mouse"),
    ] if ana_id < me else [
        ([me], "VPN down"),
        ([me], "VPN slow"),
        ([ana_id], "Printer"),
        ([None], "Mouse"),
    ]  # fmt: skip
    assert set(pages[0]) == {"id", "number", "kind", "title", "priority", "group"}
    assert groups is not None
    assert {(g["values"][0], g["count"]) for g in groups} == {(me, 2), (ana_id, 1), (None, 1)}
    assert groups[-1]["values"] == [None]

    # "me" is whoever runs it: the system view "My open items"
    mine = client.get(BASE).json()["items"][0]
    run = client.get(f"{BASE}/{mine['id']}/items", headers=after(live)).json()
    assert [i["title"] for i in run["items"]] == ["VPN down", "VPN slow"]

    # A cursor from before the view was redefined is refused
    first = client.get(f"{BASE}/{view['id']}/items", params={"limit": 1}).json()
    client.patch(f"{BASE}/{view['id']}", json={"definition": {**definition, "sort": "title"}})
    stale = client.get(
        f"{BASE}/{view['id']}/items", params={"cursor": first["next_cursor"]}, headers=after(live)
    )
    assert stale.status_code == 422
    assert stale.headers["content-type"] == PROBLEM


def test_a_shared_view_shows_each_viewer_only_what_they_may_see(
    client: TestClient, live: bootstrap.Container
) -> None:
    ana_id, ana = member(client, live, "ana@example.com")
    ours = client.post("/api/v1/projects", json={"name": "Ours"}).json()["id"]
    theirs = client.post("/api/v1/projects", json={"name": "Theirs"}).json()["id"]
    client.put(f"/api/v1/projects/{ours}/members/{ana_id}", json={"role": "standard"})
    ticket(client, "In ours", project_id=ours)
    ticket(client, "In theirs", project_id=theirs)
    view = saved(client, {"name": "All", "definition": {}, "sharing": {"users": [ana_id]}})
    path = f"{BASE}/{view['id']}/items"
    everything = client.get(path, headers=after(live)).json()["items"]
    assert {i["title"] for i in everything} == {"In ours", "In theirs"}
    hers = client.get(path, headers=after(live, ana)).json()["items"]
    assert [i["title"] for i in hers] == ["In ours"]
    then = client.get(path, params={"as_of": datetime.now(UTC).isoformat()}, headers=ana)
    assert [i["title"] for i in then.json()["items"]] == ["In ours"]


def test_a_view_runs_as_of_a_moment_with_the_items_as_they_were_then(
    client: TestClient, live: bootstrap.Container
) -> None:
    ticket(client, "Printer", priority="low")
    ticket(client, "Screen", priority="urgent")
    time.sleep(0.05)
    before = datetime.now(UTC)
    time.sleep(0.05)
    client.patch("/api/v1/tickets/1", json={"priority": "urgent", "status": "Resolved"})
    ticket(client, "Later", priority="urgent")
    definition = {
        "filter": {"field": "priority", "op": "eq", "value": "urgent"},
        "group_by": ["state"],
        "columns": ["title", "priority", "state"],
        "sort": "number",
    }
    view = saved(client, {"name": "Urgent", "definition": definition})
    path = f"{BASE}/{view['id']}/items"
    now = client.get(path, headers=after(live)).json()
    assert [(i["title"], i["group"]) for i in now["items"]] == [
        ("Screen", ["not_started"]),
        ("Later", ["not_started"]),
        ("Printer", ["finished"]),
    ]
    assert now["groups"] == [
        {"values": ["not_started"], "count": 2},
        {"values": ["finished"], "count": 1},
    ]
    assert now["as_of"] is None
    then = client.get(path, params={"as_of": before.isoformat()}, headers=after(live)).json()
    assert [(i["title"], i["priority"]) for i in then["items"]] == [("Screen", "urgent")]
    assert then["as_of"].startswith(before.strftime("%Y-%m-%dT%H:%M:%S"))
    assert then["groups"] == [{"values": ["not_started"], "count": 1}]


def test_review_findings_bad_values_admin_scope_conversions_and_cursors(
    client: TestClient, live: bootstrap.Container
) -> None:
    from commands.models import IssueToken
    from domain.user import Scope
    from tests.factories import SYSTEM

    # A number no column holds is refused, and nothing is written
    head = live.app.head()
    for value in (10**30, 2**63):
        huge = {"filter": {"field": "number", "op": "gt", "value": value}}
        refused = client.post(BASE, json={"name": "Huge", "definition": huge})
        assert refused.status_code == 422, refused.text
    assert live.app.head() == head

    # An admin's token without the admin scope changes only the admin's own views
    _, ana = member(client, live, "ana@example.com")
    shared = saved(client, {"name": "Ana's", "definition": {}, "sharing": {"all_staff": True}},
                   **ana)  # fmt: skip
    me = client.get("/api/v1/me").json()["email"]
    _, token = live.accounts.issue_token(
        IssueToken(email=me, scopes=[Scope.READ, Scope.WRITE]), SYSTEM
    )
    narrow = {"Authorization": f"Bearer {token}"}
    path = f"{BASE}/{shared['id']}"
    assert client.patch(path, json={"name": "Mine"}, headers=narrow).status_code == 403
    assert client.delete(path, headers=narrow).status_code == 403
    assert client.patch(path, json={"name": "Renamed by an admin"}).status_code == 200

    # A change to nothing on a system view records nothing, and answers it as shipped
    system = client.get(BASE, headers=after(live)).json()["items"][1]
    head = live.app.head()
    same = client.patch(f"{BASE}/{system['id']}", json={"name": system["name"]})
    assert same.status_code == 200, same.text
    assert (same.json()["version"], live.app.head()) == (0, head)

    # 'contains' is case-blind beyond ASCII, on both backends
    ticket(client, "ÄRGER mit dem Drucker")
    words = saved(client, {"name": "Ärger", "definition": {
        "filter": {"field": "title", "op": "contains", "value": "ärger"}}})  # fmt: skip
    found = client.get(f"{BASE}/{words['id']}/items", headers=after(live)).json()["items"]
    assert [i["title"] for i in found] == ["ÄRGER mit dem Drucker"]

    # A moment must be RFC 3339 with its offset, and in range
    items = f"{BASE}/{words['id']}/items"
    for moment in ("2026-12-01T10:00:00", "0.5", "0001-01-01T00:00:00+01:00"):
        bad = client.get(items, params={"as_of": moment})
        assert bad.status_code == 422, (moment, bad.text)
        assert bad.json()["errors"][0]["location"][-1] == "as_of"


def test_as_of_a_view_of_tickets_finds_a_ticket_converted_since_and_cursors_keep_to_their_moment(
    client: TestClient, live: bootstrap.Container
) -> None:
    first = ticket(client, "Stays a ticket")
    second = ticket(client, "Becomes a task")
    time.sleep(0.05)
    before = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    converted = client.post(f"/api/v1/tickets/{second}/conversion", json={})
    assert converted.status_code == 201, converted.text
    view = saved(client, {"name": "Tickets", "definition": {"kinds": ["ticket"], "sort": "number"}})
    path = f"{BASE}/{view['id']}/items"
    now = client.get(path, headers=after(live)).json()["items"]
    assert [i["number"] for i in now] == [first]
    then = client.get(path, params={"as_of": before}, headers=after(live)).json()["items"]
    assert [(i["number"], i["kind"]) for i in then] == [(first, "ticket"), (second, "ticket")]
    # A cursor made now is refused for a page as of a moment, and the other way round
    page = client.get(path, params={"limit": 1, "as_of": before}).json()
    assert page["next_cursor"]
    now_page = client.get(path, params={"cursor": page["next_cursor"]})
    assert now_page.status_code == 422
