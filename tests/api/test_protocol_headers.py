"""Headers every client can rely on: `X-Correlation-ID` on every answer, `Allow` on 405."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_every_answer_carries_the_correlation_id(client: TestClient) -> None:
    # Given answers of every kind: a read, a write, a problem, a 204, an unauthenticated one
    number = client.post("/api/v1/tickets", json={"title": "Printer jammed"}).json()["number"]
    answers = [
        client.get(f"/api/v1/tickets/{number}"),
        client.post("/api/v1/tickets", json={"title": ""}),
        client.get("/api/v1/tickets/999999"),
        client.get("/api/v1/me", headers={"Authorization": ""}),
        client.put("/api/v1/tickets"),
    ]
    for answer in answers:
        assert answer.headers["X-Correlation-ID"], answer.request.url
    # And a caller's own id comes back, and is the one its events record
    mine = {"X-Correlation-ID": "chain-7"}
    retitled = client.patch(f"/api/v1/tickets/{number}", json={"title": "Fixed"}, headers=mine)
    assert retitled.headers["X-Correlation-ID"] == "chain-7"
    history = client.get(f"/api/v1/tickets/{number}/history").json()
    assert history[-1]["correlation_id"] == "chain-7"
    ended = client.post(
        "/api/v1/me/password",
        json={"current_password": "nope", "new_password": "long enough secret"},
        headers=mine,
    )
    assert ended.headers["X-Correlation-ID"] == "chain-7"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/tickets", {"GET", "POST"}),
        ("PATCH", "/api/v1/users/invitations", {"POST"}),
        ("GET", "/api/v1/tickets/1/conversion", {"POST"}),
        ("DELETE", "/api/v1/tickets/1", {"GET", "PATCH"}),
    ],
)
def test_a_405_names_every_method_the_path_allows(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert {m.strip() for m in answer.headers["Allow"].split(",")} == allowed
