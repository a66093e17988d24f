"""`as_of` on every route that takes it: odd moments answer 422 or work, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

ODD_MOMENTS = [
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2026-03-01T10:00:00",
    "not a moment",
    "0.5",
    "1700000000",
]


def routes(client: TestClient) -> list[str]:
    ticket = client.post("/api/v1/tickets", json={"title": "Printer jammed"}).json()
    task = client.post("/api/v1/tasks", json={"title": "Fit the fuser"}).json()
    project = task["project_id"]
    return [
        f"/api/v1/tickets/{ticket['number']}",
        f"/api/v1/tasks/{task['number']}",
        f"/api/v1/items/{ticket['number']}/audience",
        f"/api/v1/projects/{project}/gantt",
        f"/api/v1/projects/{project}/gantt.svg",
    ]


@pytest.mark.parametrize("moment", ODD_MOMENTS)
def test_odd_as_of_moments_answer_422_or_work(client: TestClient, moment: str) -> None:
    for path in routes(client):
        # When a route is asked for an odd moment
        response = client.get(path, params={"as_of": moment})
        # Then it answers, never with a server error
        assert response.status_code in (200, 404, 422), (path, moment, response.text)
        if response.status_code == 422:
            problem = response.json()
            assert problem["type"] == "/problems/validation-error"
            assert problem["errors"][0]["location"] == ["query", "as_of"]


def test_a_far_future_moment_shows_the_item_as_it_is_now(client: TestClient) -> None:
    ticket = client.post("/api/v1/tickets", json={"title": "Printer jammed"}).json()
    response = client.get(
        f"/api/v1/tickets/{ticket['number']}", params={"as_of": "9999-12-31T23:59:59Z"}
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Printer jammed"


def test_a_moment_without_a_time_zone_is_named_in_the_problem(client: TestClient) -> None:
    ticket = client.post("/api/v1/tickets", json={"title": "Printer jammed"}).json()
    response = client.get(
        f"/api/v1/tickets/{ticket['number']}", params={"as_of": "2026-03-01T10:00:00"}
    )
    assert response.status_code == 422
    assert "time zone" in response.json()["detail"]


def test_the_audience_defaults_to_now(client: TestClient) -> None:
    ticket = client.post("/api/v1/tickets", json={"title": "Printer jammed"}).json()
    response = client.get(f"/api/v1/items/{ticket['number']}/audience")
    assert response.status_code == 200, response.text
    assert response.json()["staff"]


@pytest.mark.parametrize("moment", ["0.5", "1700000000"])
def test_a_number_is_not_a_moment(client: TestClient, moment: str) -> None:
    ticket = client.post("/api/v1/tickets", json={"title": "Printer jammed"}).json()
    response = client.get(f"/api/v1/tickets/{ticket['number']}", params={"as_of": moment})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == ["query", "as_of"]


@pytest.mark.parametrize("moment", ["2027-01-01T00:00:00", "0001-01-01T00:00:00+01:00", 0])
def test_a_body_moment_needs_a_time_zone_and_a_utc_form(client: TestClient, moment: object) -> None:
    # A token's expiry that cannot be compared or turned into UTC is the caller's mistake
    response = client.post("/api/v1/me/tokens", json={"label": "ci", "expires_at": moment})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"][:2] == ["body", "expires_at"]
