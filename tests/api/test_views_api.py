"""The flat view over HTTP: filters, sorting, cursors, read-your-writes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap


def test_the_flat_list_pages_through_every_item_once_in_order(client: TestClient) -> None:
    position = "0"
    for n, priority in enumerate(["low", "urgent", "normal", "high", "urgent"]):
        created = client.post("/api/v1/tickets", json={"title": f"T{n}", "priority": priority})
        position = created.headers["X-Log-Position"]
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"sort": "-priority", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            "/api/v1/views/flat", params=params, headers={"X-Min-Position": position}
        ).json()
        seen += [(i["priority"], i["number"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [("urgent", 5), ("urgent", 2), ("high", 4), ("normal", 3), ("low", 1)]


def test_flat_filters_combine(client: TestClient) -> None:
    client.post("/api/v1/tickets", json={"title": "VPN down", "priority": "high"})
    last = client.post("/api/v1/tickets", json={"title": "VPN slow", "priority": "low"})
    client.patch("/api/v1/tickets/2", json={"status": "Resolved"})
    position = client.patch("/api/v1/tickets/1", json={"status": "Open"}).headers["X-Log-Position"]
    assert int(position) > int(last.headers["X-Log-Position"])
    found = client.get(
        "/api/v1/views/flat",
        params={"q": "vpn", "state": "in_progress"},
        headers={"X-Min-Position": position},
    ).json()
    assert [i["number"] for i in found["items"]] == [1]
    finished = client.get("/api/v1/views/flat", params={"status": "Resolved"}).json()
    assert [i["title"] for i in finished["items"]] == ["VPN slow"]


def test_bad_view_parameters_are_422_problems_naming_the_parameter(client: TestClient) -> None:
    for params, name in (
        ({"limit": 500}, "limit"),
        ({"sort": "colour"}, "sort"),
        ({"state": "sleeping"}, "state"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        response = client.get("/api/v1/views/flat", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["location"][-1] == name


def test_a_cursor_from_another_sort_is_refused(client: TestClient) -> None:
    for n in range(3):
        created = client.post("/api/v1/tickets", json={"title": f"T{n}"})
    page = client.get(
        "/api/v1/views/flat",
        params={"limit": 1, "sort": "title"},
        headers={"X-Min-Position": created.headers["X-Log-Position"]},
    ).json()
    assert page["next_cursor"]
    other = client.get("/api/v1/views/flat", params={"cursor": page["next_cursor"]})
    assert other.status_code == 422


def test_the_flat_list_as_of_a_moment_shows_the_items_as_they_were_then(
    client: TestClient,
) -> None:
    import time
    from datetime import UTC, datetime

    client.post("/api/v1/tickets", json={"title": "Printer", "priority": "low"})
    client.post("/api/v1/tickets", json={"title": "Becomes a task", "priority": "low"})
    time.sleep(0.05)
    before = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    client.patch("/api/v1/tickets/1", json={"priority": "urgent", "title": "Printer 3"})
    assert client.post("/api/v1/tickets/2/conversion", json={}).status_code == 201
    last = client.post("/api/v1/tickets", json={"title": "Later", "priority": "low"})
    wait = {"X-Min-Position": last.headers["X-Log-Position"]}
    now = client.get("/api/v1/views/flat", params={"priority": "low"}, headers=wait).json()
    assert [i["title"] for i in now["items"]] == ["Later", "Becomes a task"]
    assert "as_of" not in now
    then = client.get(
        "/api/v1/views/flat",
        params={"priority": "low", "kind": "ticket", "as_of": before},
        headers=wait,
    ).json()
    assert [(i["number"], i["title"], i["kind"]) for i in then["items"]] == [
        (2, "Becomes a task", "ticket"),
        (1, "Printer", "ticket"),
    ]
    assert then["as_of"].startswith(before[:19])
    searched = client.get(
        "/api/v1/views/flat", params={"q": "printer 3", "as_of": before}, headers=wait
    )
    assert searched.json()["items"] == []
    bad = client.get("/api/v1/views/flat", params={"as_of": "2026-12-01T10:00:00"})
    assert bad.status_code == 422


def test_as_of_never_shows_a_tickets_only_member_a_ticket_converted_since(
    client: TestClient, live: bootstrap.Container
) -> None:
    import time
    from datetime import UTC, datetime

    from tests.api.test_tree_api import Writer

    w = Writer(client)
    project = w.create("/api/v1/projects", name="Desk")["id"]
    tom = w.member(live, "tom@example.com", project, "tickets")
    secret = w.ticket("Secret plan", project)
    kept = w.ticket("Kept", project)
    time.sleep(0.05)
    before = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    w.create(f"/api/v1/tickets/{secret}/conversion")
    for path, params in (
        ("/api/v1/views/flat", {}),
        ("/api/v1/views/status-board", {"project": project, "kind": "ticket"}),
        ("/api/v1/views/tree", {"parent": f"project:{project}"}),
    ):
        then = client.get(
            path,
            params={**params, "as_of": before},
            headers={**tom, "X-Min-Position": w.position},
        )
        assert then.status_code == 200, (path, then.text)
        assert "Secret plan" not in then.text, path
        assert "Kept" in then.text, path
        # The admin, who sees tasks, sees it as the ticket it was
        mine = client.get(path, params={**params, "as_of": before}).text
        assert "Secret plan" in mine, path
    assert kept != secret
    early = client.get("/api/v1/views/flat", params={"as_of": "0999-06-01T00:00:00Z"})
    assert early.status_code == 422
