"""Statuses per item type through the API, on both backends: the shipped ones, admins adding,
renaming, recolouring, reordering and retiring them (with the items of a renamed or retired
status moved by the workflow worker, as events), items taking only statuses in use, the
board following, and bad changes refused naming what is wrong with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.conftest import wait_until
from tests.factories import admin_token, user_token


@pytest.fixture
def working(settings: Settings) -> Iterator[bootstrap.Container]:
    """Views following the log and workers running (in-memory broker)."""
    bootstrap.migrate(settings)
    built = bootstrap.build(settings)
    built.follow()
    built.work()
    yield built
    built.close()


@pytest.fixture
def admin(working: bootstrap.Container) -> Iterator[TestClient]:
    token = admin_token(working)
    with TestClient(working.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        yield http


def written_by(container: bootstrap.Container, head: int, response: Any) -> list[str]:
    """The topics of the events after `head` that the request `response` answered wrote
    (by its correlation id)."""
    correlation = response.headers["X-Correlation-ID"]
    app = container.app
    stored = app.recorder.select_notifications(start=head + 1, limit=10_000)
    events = [app.mapper.to_domain_event(n) for n in stored]
    return [
        type(e).__qualname__ for e in events if getattr(e, "correlation_id", None) == correlation
    ]


def listed(client: TestClient, item_type: str = "ticket") -> list[dict[str, Any]]:
    answer = client.get("/api/v1/statuses", params={"item_type": item_type})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def names(client: TestClient, item_type: str = "ticket") -> list[str]:
    return [s["name"] for s in listed(client, item_type) if not s["retired"]]


def by_name(client: TestClient, name: str, item_type: str = "ticket") -> dict[str, Any]:
    return next(s for s in listed(client, item_type) if s["name"] == name)


def status_of(client: TestClient, number: int, kind: str = "tickets") -> str:
    return str(client.get(f"/api/v1/{kind}/{number}").json()["status"])


def test_the_shipped_statuses_are_each_types_until_admins_change_them(
    client: TestClient,
) -> None:
    tickets = listed(client)
    assert [(s["name"], s["state"], s["default"]) for s in tickets] == [
        ("New", "not_started", True),
        ("Open", "in_progress", True),
        ("Waiting on customer", "in_progress", False),
        ("Resolved", "finished", False),
        ("Closed", "finished", True),
    ]
    assert [s["position"] for s in tickets] == [0, 1, 2, 3, 4]
    assert {s["item_type"] for s in tickets} == {"ticket"}
    assert names(client, "task") == ["Not started", "In progress", "On hold", "Done"]
    assert names(client, "bug_report") == [s["name"] for s in tickets]
    # Ids are the same on every install, and each reads back.
    assert listed(client) == tickets
    assert client.get(f"/api/v1/statuses/{tickets[2]['id']}").json() == tickets[2]
    assert client.get("/api/v1/statuses", params={"item_type": "nope"}).status_code == 404
    assert client.get("/api/v1/statuses").status_code == 422  # which type: required


def test_admins_add_statuses_and_items_take_only_those_in_use(
    admin: TestClient, working: bootstrap.Container
) -> None:
    made = admin.post(
        "/api/v1/statuses",
        params={"item_type": "ticket"},
        json={"name": "Waiting on supplier", "state": "in_progress", "color": "#FF8800"},
    )
    assert made.status_code == 201, made.text
    status = made.json()
    assert made.headers["Location"] == f"/api/v1/statuses/{status['id']}"
    assert "X-Log-Position" in made.headers
    assert (status["color"], status["default"], status["retired"]) == ("#ff8800", False, False)
    # After the last status of its state.
    assert names(admin) == [
        "New", "Open", "Waiting on customer", "Waiting on supplier", "Resolved", "Closed",
    ]  # fmt: skip
    assert status["position"] == 3
    assert names(admin, "bug_report")[3] == "Resolved"  # another type's list is its own

    number = admin.post("/api/v1/tickets", json={"title": "Printer"}).json()["number"]
    moved = admin.patch(f"/api/v1/tickets/{number}", json={"status": "waiting on supplier"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["state"]) == ("Waiting on supplier", "in_progress")
    # A status of no type, or of the tasks', is refused naming what there is.
    for name in ("Shipped", "On hold"):
        refused = admin.patch(f"/api/v1/tickets/{number}", json={"status": name})
        assert refused.status_code == 422, refused.text
        assert "Waiting on supplier" in refused.text

    # A new not-started default: new tickets start there.
    triage = admin.post(
        "/api/v1/statuses",
        params={"item_type": "ticket"},
        json={"name": "Triage", "state": "not_started", "default": True, "position": 0},
    ).json()
    assert names(admin)[:2] == ["Triage", "New"]
    assert by_name(admin, "New")["default"] is False
    fresh = admin.post("/api/v1/tickets", json={"title": "Scanner"}).json()
    assert (fresh["status"], fresh["state"]) == ("Triage", "not_started")
    assert triage["default"] is True


def test_a_renamed_status_carries_its_items_and_the_board_follows(
    admin: TestClient, working: bootstrap.Container
) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Support"}).json()["id"]
    numbers = [
        admin.post("/api/v1/tickets", json={"title": f"T{i}", "project_id": project}).json()[
            "number"
        ]
        for i in range(3)
    ]
    for number in numbers[:2]:
        admin.patch(f"/api/v1/tickets/{number}", json={"status": "Open"})
    opened = by_name(admin, "Open")
    renamed = admin.patch(
        f"/api/v1/statuses/{opened['id']}", json={"name": "Active", "color": "#000000"}
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["color"]) == ("Active", "#000000")
    assert renamed.json()["id"] == opened["id"]
    wait_until(
        lambda: [status_of(admin, n) for n in numbers] == ["Active", "Active", "New"],
        what="the items of the renamed status",
    )
    # Recorded on each item as the workflow's own change.
    events = list(working.app.events.get(item_id(numbers[0])))
    assert (events[-1].status, events[-1].actor) == ("Active", "system:workflow")
    assert admin.patch(f"/api/v1/tickets/{numbers[2]}", json={"status": "Open"}).status_code == 422

    # Reordered: the board's columns follow (no rebuild).
    closed = by_name(admin, "Closed")
    assert admin.patch(f"/api/v1/statuses/{closed['id']}", json={"position": 0}).status_code == 200
    assert names(admin)[0] == "Closed"
    wait = {"X-Min-Position": str(working.app.head())}
    board = admin.get(
        "/api/v1/views/status-board",
        params={"project": project, "kind": "ticket"},
        headers=wait,
    ).json()
    assert [c["status"] for c in board["columns"]] == names(admin)
    assert {c["status"]: c["count"] for c in board["columns"]}["Active"] == 2


def test_retiring_a_status_in_use_needs_a_replacement_its_items_move_to(
    admin: TestClient, working: bootstrap.Container
) -> None:
    number = admin.post("/api/v1/tickets", json={"title": "Printer"}).json()["number"]
    admin.patch(f"/api/v1/tickets/{number}", json={"status": "Waiting on customer"})
    waiting, opened = by_name(admin, "Waiting on customer"), by_name(admin, "Open")
    wait = {"X-Min-Position": str(working.app.head())}
    head = working.app.head()
    refused = admin.delete(f"/api/v1/statuses/{waiting['id']}", headers=wait)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["location"] == ["query", "replacement"]
    # (The workers may write meanwhile, for the item's SLA: none of it is the request's.)
    assert written_by(working, head, refused) == []
    itself = admin.delete(
        f"/api/v1/statuses/{waiting['id']}", params={"replacement": waiting["id"]}
    )
    assert itself.status_code == 422, itself.text

    before_retiring = working.app.head()
    retired = admin.delete(
        f"/api/v1/statuses/{waiting['id']}", params={"replacement": opened["id"]}
    )
    assert retired.status_code == 204, retired.text
    assert written_by(working, before_retiring, retired) != []  # (what a write's look like)
    wait_until(lambda: status_of(admin, number) == "Open", what="the item moved to Open")
    assert by_name(admin, "Waiting on customer")["retired"] is True
    assert "Waiting on customer" not in names(admin)
    again = admin.patch(f"/api/v1/tickets/{number}", json={"status": "Waiting on customer"})
    assert again.status_code == 422
    # Retired already: nothing new. A status nobody is in retires without a replacement.
    head = working.app.head()
    again_retired = admin.delete(f"/api/v1/statuses/{waiting['id']}")
    assert again_retired.status_code == 204
    assert written_by(working, head, again_retired) == []
    resolved = by_name(admin, "Resolved")
    assert admin.delete(f"/api/v1/statuses/{resolved['id']}", headers=wait).status_code == 204
    # The default of a state passes on when it retires.
    closed = by_name(admin, "Closed")
    added = admin.post(
        "/api/v1/statuses",
        params={"item_type": "ticket"},
        json={"name": "Done", "state": "finished"},
    ).json()
    assert admin.delete(f"/api/v1/statuses/{closed['id']}").status_code == 204
    assert by_name(admin, "Done")["default"] is True
    # The last status of a state in use stays.
    last = admin.delete(f"/api/v1/statuses/{added['id']}")
    assert last.status_code == 422, last.text
    assert "finished" in last.text


def test_bad_changes_are_refused_naming_what_is_wrong_and_only_admins_change(
    admin: TestClient, working: bootstrap.Container
) -> None:
    opened = by_name(admin, "Open")
    path = f"/api/v1/statuses/{opened['id']}"
    new = "/api/v1/statuses"
    head = working.app.head()
    for method, url, params, body, field in (
        ("post", new, {"item_type": "ticket"}, {"name": "Closed", "state": "finished"}, "name"),
        ("post", new, {"item_type": "ticket"}, {"name": "X", "state": "late"}, "state"),
        (
            "post",
            new,
            {"item_type": "ticket"},
            {"name": "X", "state": "finished", "color": "red"},
            "color",
        ),
        ("post", new, {"item_type": "nope"}, {"name": "X", "state": "finished"}, "nope"),
        (
            "post",
            new,
            {"item_type": "ticket"},
            {"name": "X", "state": "finished", "default": None},
            "default",
        ),
        ("patch", path, {}, {"state": "finished"}, "state"),
        ("patch", path, {}, {"name": "new"}, "name"),
        ("patch", path, {}, {"default": False}, "default"),
        ("patch", path, {}, {"color": "#12345"}, "color"),
        ("patch", path, {}, {"position": -1}, "position"),
        (
            "patch",
            "/api/v1/statuses/00000000-0000-4000-8000-000000000000",
            {},
            {"name": "X"},
            "no status",
        ),
        (
            "post",
            new,
            {"item_type": "ticket"},
            {"name": "X", "state": "finished", "color": ""},
            "color",
        ),
    ):
        answer = admin.request(method, url, params=params, json=body)
        assert answer.status_code in (404, 422), (method, body, answer.text)
        if answer.status_code == 404:
            assert field in answer.json()["detail"], (method, body, answer.text)
        else:
            assert answer.json()["errors"][0]["location"][-1] == field, (method, body, answer.text)
    assert working.app.head() == head
    member = {"Authorization": f"Bearer {user_token(working, 'bob@example.com')}"}
    head = working.app.head()
    assert admin.get(path, headers=member).status_code == 200
    for method, url, params, body in (
        ("post", new, {"item_type": "ticket"}, {"name": "Mine", "state": "finished"}),
        ("patch", path, {}, {"name": "Mine"}),
        ("delete", path, {}, None),
    ):
        answer = admin.request(method, url, params=params, json=body, headers=member)
        assert answer.status_code == 403, (method, answer.text)
    assert working.app.head() == head
