"""A seeded desk the dashboard and report tests share: an agency project with tickets,
tasks, points, people, time and an SLA, and a secret project a member does not see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from commands.sla.items import ItemSlaService
from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from tests.factories import user_token


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def after(live: bootstrap.Container, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or {}), "X-Min-Position": str(live.app.head())}


class Desk:
    """A seeded desk: an agency project with tickets, tasks, points, people and time, and a
    secret project a member does not see."""

    def __init__(self, client: TestClient, live: bootstrap.Container) -> None:
        self.client, self.live = client, live
        self.today = datetime.now(UTC).date()
        self.monday = self.today - timedelta(days=self.today.weekday())
        self.first = self.monday - timedelta(days=14)
        self.me = ok(client.get("/api/v1/me"))
        self.ann_headers = {"Authorization": f"Bearer {user_token(live, 'ann@example.com')}"}
        self.ann = ok(client.get("/api/v1/me", headers=self.ann_headers))
        self.project = self.post("/api/v1/projects", name="Agency")["id"]
        secret = self.post("/api/v1/projects", name="Secret")["id"]
        member = {"role": "standard"}
        ok(client.put(f"/api/v1/projects/{self.project}/members/{self.ann['id']}", json=member))
        self.leak = self.ticket("Leak", priority="urgent")
        self.noise = self.ticket("Noise", priority="normal")
        self.door = self.ticket("Door", priority="low")
        self.ticket("Vault", priority="low", project_id=secret)
        self.plan = self.task("Plan", points=5, start=self.first.isoformat(), duration_days=2)
        self.build = self.task("Build", points=3, start=self.first.isoformat(), duration_days=3)
        ship = (self.monday + timedelta(days=7)).isoformat()
        self.ship = self.task("Ship", points=2, start=ship, duration_days=1)
        self.patch(f"/api/v1/tickets/{self.leak}", status="Open")
        self.patch(f"/api/v1/tickets/{self.noise}", status="Resolved")
        self.patch(f"/api/v1/tasks/{self.build}", status="Done")
        for number, user in ((self.leak, self.me), (self.plan, self.me), (self.door, self.ann)):
            kind = "tasks" if number == self.plan else "tickets"
            ok(client.put(f"/api/v1/{kind}/{number}/assignees/{user['id']}"))
        last_week = self.today - timedelta(days=7)
        for day, minutes in ((self.today, 90), (last_week, 30)):
            entry = {"item": self.leak, "date": day.isoformat(), "minutes": minutes}
            self.post("/api/v1/timesheets", **entry)
        # The urgent ticket is held to a policy and answered (as the workers record it).
        targets = {"urgent": {"first_response": 60, "resolution": 480}}
        policy = self.post("/api/v1/sla-policies", name="Fast", targets=targets)
        ok(client.put(f"/api/v1/items/{self.leak}/sla", json={"policy_id": policy["id"]}))
        reply = {"body": "On it", "visibility": "customer"}
        self.post(f"/api/v1/tickets/{self.leak}/messages", **reply)
        ItemSlaService(live.app).evaluate(item_id(self.leak), "replied")

    def post(self, url: str, **body: Any) -> Any:
        return ok(self.client.post(url, json=body), 201)

    def patch(self, url: str, **body: Any) -> Any:
        return ok(self.client.patch(url, json=body))

    def ticket(self, title: str, **fields: Any) -> int:
        fields.setdefault("project_id", self.project)
        return int(self.post("/api/v1/tickets", title=title, **fields)["number"])

    def task(self, title: str, **plan: Any) -> int:
        made = self.post("/api/v1/tasks", title=title, project_id=self.project, **plan)
        return int(made["number"])
