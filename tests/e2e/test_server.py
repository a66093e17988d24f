"""A real `ledgerdesk serve` process, used over HTTP as a client would."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Run


def test_a_served_ticket_round_trip(server: tuple[str, str]) -> None:
    base, token = server
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=10) as http:
        created = http.post("/api/v1/tickets", json={"title": "Served", "priority": "urgent"})
        assert created.status_code == 201
        number = created.json()["number"]
        changed = http.patch(
            f"/api/v1/tickets/{number}", json={"status": "Open"}, headers={"If-Match": '"1"'}
        )
        assert changed.status_code == 200
        position = changed.headers["X-Log-Position"]
        listed = http.get(
            "/api/v1/views/flat",
            params={"priority": "urgent"},
            headers={"X-Min-Position": position},
        )
        assert [(i["number"], i["status"]) for i in listed.json()["items"]] == [(number, "Open")]
        history = http.get(
            f"/api/v1/tickets/{number}/history", headers={"X-Min-Position": position}
        )
        assert [h["type"] for h in history.json()] == ["Ticket.Opened", "Ticket.StatusChanged"]


def test_the_served_views_survive_a_replay_audit(server: tuple[str, str], ledgerdesk: Run) -> None:
    base, token = server
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        for n in range(5):
            http.post("/api/v1/tickets", json={"title": f"T{n}"})
        position = http.patch("/api/v1/tickets/3", json={"title": "Three"}).headers[
            "X-Log-Position"
        ]
        http.get("/api/v1/views/flat", headers={"X-Min-Position": position})
    assert ledgerdesk("replay", "--verify").returncode == 0
