"""`GET /api/v1/tickets` and `GET /api/v1/tasks`: the flat view's filters, one kind each."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from domain.user import user_id_for
from ledgerdesk import bootstrap
from tests.factories import user_token


def listed(client: TestClient, path: str, **params: Any) -> list[int]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [item["number"] for item in response.json()["items"]]


def test_the_ticket_and_task_lists_show_one_kind_each_with_the_flat_filters(
    client: TestClient,
) -> None:
    # Given two tickets and a task, one ticket urgent, one ticket converted to a task
    urgent = client.post("/api/v1/tickets", json={"title": "Server down", "priority": "urgent"})
    calm = client.post("/api/v1/tickets", json={"title": "Paper low"}).json()["number"]
    task = client.post("/api/v1/tasks", json={"title": "Fit the fuser"}).json()["number"]
    converted = client.post("/api/v1/tickets", json={"title": "Toner"}).json()["number"]
    as_task = client.post(f"/api/v1/tickets/{converted}/conversion").json()["number"]
    urgent_number = urgent.json()["number"]
    # When the lists are read
    tickets = listed(client, "/api/v1/tickets")
    tasks = listed(client, "/api/v1/tasks")
    # Then each shows its own kind, newest first, and a converted ticket only as its task
    assert tickets == [calm, urgent_number]
    assert tasks == [as_task, task]
    # And the flat view's filters, sort and paging apply
    assert listed(client, "/api/v1/tickets", priority="urgent") == [urgent_number]
    assert listed(client, "/api/v1/tickets", q="paper") == [calm]
    assert listed(client, "/api/v1/tickets", sort="number") == [urgent_number, calm]
    page = client.get("/api/v1/tickets", params={"limit": 1}).json()
    assert [i["number"] for i in page["items"]] == [calm]
    rest = client.get("/api/v1/tickets", params={"limit": 1, "cursor": page["next_cursor"]})
    assert [i["number"] for i in rest.json()["items"]] == [urgent_number]


def test_a_list_needs_its_app(client: TestClient, live: bootstrap.Container) -> None:
    # Given a user of the tasks app only
    token = user_token(live, "planner@example.com")
    user_id = user_id_for("planner@example.com")
    assert client.patch(f"/api/v1/users/{user_id}", json={"apps": "tasks"}).status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    # Then the ticket list is refused and the task list answers
    assert client.get("/api/v1/tickets", headers=headers).status_code == 403
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200


def test_a_bad_filter_is_a_422_naming_it(client: TestClient) -> None:
    response = client.get("/api/v1/tasks", params={"sort": "sideways"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == ["query", "sort"]
