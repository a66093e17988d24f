"""An item's history comes a page at a time, by cursor, in log order."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def all_pages(client: TestClient, path: str, limit: int) -> tuple[list[Any], int]:
    """Every entry, following the `Link` header page by page; and how many pages it took."""
    entries: list[Any] = []
    url: str | None = f"{path}?limit={limit}"
    pages = 0
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages += 1
        entries += response.json()
        link = response.headers.get("Link")
        assert (link is None) == ("X-Next-Cursor" not in response.headers)
        url = link[1 : link.index(">")] if link else None
    return entries, pages


def test_a_history_pages_by_cursor_in_log_order(client: TestClient) -> None:
    # Given a ticket with eight events
    number = client.post("/api/v1/tickets", json={"title": "Printer jammed"}).json()["number"]
    for n in range(7):
        assert client.patch(f"/api/v1/tickets/{number}", json={"title": f"T{n}"}).is_success
    path = f"/api/v1/tickets/{number}/history"
    # When it is read three entries at a time
    entries, pages = all_pages(client, path, 3)
    # Then the pages together are the whole history, once each, in log order
    whole = client.get(path, params={"limit": 1000}).json()
    assert entries == whole
    assert len(whole) == 8
    assert pages == 3
    positions = [e["position"] for e in entries]
    assert positions == sorted(set(positions))


def test_a_converted_tasks_history_pages_through_the_ticket_first(client: TestClient) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Toner"}).json()["number"]
    client.patch(f"/api/v1/tickets/{number}", json={"title": "Toner, black"})
    task = client.post(f"/api/v1/tickets/{number}/conversion").json()["number"]
    entries, _ = all_pages(client, f"/api/v1/tasks/{task}/history", 1)
    types = [e["type"] for e in entries]
    assert types[:2] == ["Ticket.Opened", "Ticket.Retitled"]
    assert "Task.Planned" in types[2:]


def test_a_cursor_the_api_did_not_make_is_a_422(client: TestClient) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Toner"}).json()["number"]
    response = client.get(f"/api/v1/tickets/{number}/history", params={"cursor": "nonsense"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == ["query", "cursor"]
