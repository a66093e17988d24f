"""Dashboards over HTTP, on both backends: saved and shared like views, each widget's exact
figures on a seeded desk (for its owner and, scoped, for a member it is shared with), its
SVG chart, and bad definitions refused naming the setting, with nothing written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from commands.sla.items import ItemSlaService
from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from tests.factories import user_token

BASE = "/api/v1/dashboards"
SVG = "{http://www.w3.org/2000/svg}"


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


WIDGETS = [
    {"type": "counts", "by": "state"},
    {"type": "counts", "by": "priority", "kinds": ["ticket"], "title": "Tickets by priority"},
    {"type": "counts", "by": "status", "kinds": ["ticket"]},
    {"type": "created_vs_finished", "weeks": 2},
    {"type": "response_times", "weeks": 1},
    {"type": "sla_compliance", "weeks": 1},
    {"type": "workload"},
    {"type": "time_logged", "weeks": 2},
    {"type": "overdue_tasks"},
]


def series(widget: dict[str, Any]) -> dict[str, list[Any]]:
    return {s["name"]: s["values"] for s in widget["series"]}


def test_every_widget_shows_exact_figures_for_whoever_reads_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    burn = {"type": "burn_down", "project_id": desk.project}
    sharing = {"users": [desk.ann["id"]]}
    body = {"name": "Agency desk", "definition": {"widgets": [*WIDGETS, burn]}, "sharing": sharing}
    made = client.post(BASE, json=body)
    dashboard = ok(made, 201)
    assert made.headers["Location"] == f"{BASE}/{dashboard['id']}"
    widgets = dashboard["definition"]["widgets"]
    assert widgets[0] == {
        "type": "counts", "title": "Items by state", "by": "state",
        "kinds": ["ticket", "task"], "project_id": None,
    }  # fmt: skip
    assert widgets[1]["title"] == "Tickets by priority"
    assert widgets[4] == {
        "type": "response_times", "title": "First response and resolution times",
        "weeks": 1, "project_id": None,
    }  # fmt: skip

    answer = ok(client.get(f"{BASE}/{dashboard['id']}/widgets", headers=after(live)))
    assert answer["today"] == desk.today.isoformat()
    assert answer["dashboard"]["id"] == dashboard["id"]
    data = answer["widgets"]
    by_state, by_priority, by_status, trend, times, sla, load, time, overdue, burnt = data
    # Not started: Door, Vault (secret), Plan, Ship; in progress: Leak; finished: Noise, Build.
    assert (by_state["chart"], by_state["labels"]) == (
        "bar", ["not_started", "in_progress", "finished"]
    )  # fmt: skip
    assert series(by_state) == {"items": [4, 1, 2]}
    assert by_state["total"] == 7
    assert by_priority["labels"] == ["low", "normal", "high", "urgent"]
    assert series(by_priority) == {"items": [2, 1, 0, 1]}
    assert by_status["labels"] == ["New", "Open", "Resolved"]
    assert series(by_status) == {"items": [2, 1, 1]}
    weeks = [(desk.monday - timedelta(days=7)).isoformat(), desk.monday.isoformat()]
    assert trend["labels"] == weeks
    assert series(trend) == {"created": [0, 7], "finished": [0, 2]}
    assert trend["totals"] == {"created": 7, "finished": 2}
    assert times["labels"] == [desk.monday.isoformat()]
    assert times["summary"]["first_response"]["count"] == 1
    assert times["summary"]["first_response"]["median_minutes"] < 5
    assert times["summary"]["resolution"] == {
        "count": 0, "median_minutes": None, "mean_minutes": None
    }  # fmt: skip
    assert series(sla) == {"met": [1], "breached": [0]}
    assert sla["totals"] == {"met": 1, "breached": 0, "percent_met": 100.0}
    assert sla["percent_met"] == [100.0]
    # Open items per assignee, most loaded first: me (Leak, Plan), Ann (Door); Ship and
    # Vault have nobody.
    assert load["labels"] == [desk.me["name"], desk.ann["name"]]
    assert load["user_ids"] == [desk.me["id"], desk.ann["id"]]
    assert series(load) == {"tickets": [1, 1], "tasks": [1, 0]}
    assert load["unassigned"] == 2
    assert time["labels"] == weeks
    assert series(time) == {desk.me["name"]: [0.5, 1.5]}
    assert time["total_hours"] == 2.0
    late = (desk.today - (desk.first + timedelta(days=1))).days
    assert overdue["count"] == 1
    assert overdue["labels"] == [f"#{desk.plan} Plan"]
    assert series(overdue) == {"days overdue": [late]}
    assert overdue["tasks"][0]["finish"] == (desk.first + timedelta(days=1)).isoformat()
    # Burn-down: 10 points from the first start to Ship's finish; Build's 3 burnt today.
    days = (desk.monday + timedelta(days=7) - desk.first).days + 1
    assert burnt["total_points"] == 10.0
    assert burnt["labels"][0] == desk.first.isoformat()
    assert len(burnt["labels"]) == days
    today = burnt["labels"].index(desk.today.isoformat())
    remaining = series(burnt)["remaining"]
    assert remaining == [10.0] * today + [7.0] + [None] * (days - today - 1)
    ideal = series(burnt)["ideal"]
    assert (ideal[0], ideal[-1], len(ideal)) == (10.0, 0.0, days)

    # One widget, and the same as a chart.
    one = ok(client.get(f"{BASE}/{dashboard['id']}/widgets/6"))
    assert one == load
    chart = client.get(f"{BASE}/{dashboard['id']}/widgets/6.svg")
    assert chart.status_code == 200, chart.text
    assert chart.headers["content-type"] == "image/svg+xml"
    svg = ET.fromstring(chart.content)
    assert svg.tag == f"{SVG}svg"
    text = "".join(svg.itertext())
    assert "Open items per assignee" in text
    assert desk.ann["name"] in text
    assert not [e for e in svg.iter() if str(e.tag).endswith("script")]
    hrefs = [v for e in svg.iter() for k, v in e.attrib.items() if k.endswith("href")]
    assert not [h for h in hrefs if not h.startswith("#")]
    for index in range(len(data)):
        drawn = client.get(f"{BASE}/{dashboard['id']}/widgets/{index}.svg")
        assert drawn.status_code == 200, (index, drawn.text)
        assert data[index]["title"] in "".join(ET.fromstring(drawn.content).itertext())
    assert client.get(f"{BASE}/{dashboard['id']}/widgets/10").status_code == 404
    assert client.get(f"{BASE}/{dashboard['id']}/widgets/10.svg").status_code == 404

    # Ann, whom it is shared with, sees it computed for her: not the secret project's
    # ticket, and only her own time.
    shared = ok(
        client.get(f"{BASE}/{dashboard['id']}/widgets", headers=after(live, desk.ann_headers))
    )
    hers = shared["widgets"]
    assert series(hers[0]) == {"items": [3, 1, 2]}
    assert series(hers[1]) == {"items": [1, 1, 0, 1]}
    assert series(hers[7]) == {}
    assert hers[7]["total_hours"] == 0
    assert hers[6]["unassigned"] == 1  # Ship (Vault is not hers to see)
    assert {**hers[6], "unassigned": 2} == load


def test_dashboards_are_saved_shared_and_refused_like_views(
    client: TestClient, live: bootstrap.Container
) -> None:
    ann_headers = {"Authorization": f"Bearer {user_token(live, 'ann@example.com')}"}
    bo_headers = {"Authorization": f"Bearer {user_token(live, 'bo@example.com')}"}
    ann = ok(client.get("/api/v1/me", headers=ann_headers))
    mine = ok(client.post(BASE, json={"name": "Mine", "definition": {}}, headers=ann_headers), 201)
    assert mine["definition"] == {"widgets": []}
    assert (mine["owner_id"], mine["system"]) == (ann["id"], False)
    path = f"{BASE}/{mine['id']}"
    assert ok(client.get(BASE, headers=after(live, ann_headers)))["items"] == [
        ok(client.get(path, headers=ann_headers))
    ]
    # Private: nobody else sees it; views and dashboards are never found as each other.
    assert client.get(path, headers=after(live, bo_headers)).status_code == 404
    assert ok(client.get(BASE, headers=bo_headers))["items"] == []
    assert client.get(f"/api/v1/views/saved/{mine['id']}", headers=ann_headers).status_code == 404
    view = ok(client.post("/api/v1/views/saved", json={"name": "V", "definition": {}}), 201)
    assert client.get(f"{BASE}/{view['id']}").status_code == 404
    assert client.patch(f"{BASE}/{view['id']}", json={"name": "X"}).status_code == 404
    assert client.delete(f"{BASE}/{view['id']}").status_code == 404
    assert [v["id"] for v in ok(client.get(BASE))["items"]] == []

    # Shared with all staff: Bo runs it but may not change it; Ann renames and redefines.
    shared = client.patch(path, json={"sharing": {"all_staff": True}}, headers=ann_headers)
    assert ok(shared)["sharing"]["all_staff"] is True
    assert ok(client.get(f"{path}/widgets", headers=after(live, bo_headers)))["widgets"] == []
    assert client.patch(path, json={"name": "Bo's"}, headers=bo_headers).status_code == 403
    widgets = {"widgets": [{"type": "workload", "kinds": ["task"]}]}
    changed = client.patch(path, json={"name": "Load", "definition": widgets}, headers=ann_headers)
    assert ok(changed)["name"] == "Load"
    assert changed.json()["definition"]["widgets"][0]["kinds"] == ["task"]

    # Bad definitions: 422 naming the setting, nothing written.
    head = live.app.head()
    for definition, where in (
        ({"widgets": [{"type": "pie"}]}, "definition.widgets[0].type"),
        ({"widgets": [{"type": "workload"}, {"type": "counts"}]}, "definition.widgets[1].by"),
        ({"widgets": [{"type": "counts", "by": "colour"}]}, "definition.widgets[0].by"),
        ({"widgets": [{"type": "burn_down"}]}, "definition.widgets[0].project_id"),
        ({"widgets": [{"type": "time_logged", "weeks": 53}]}, "definition.widgets[0].weeks"),
        ({"widgets": [{"type": "workload", "kinds": ["story"]}]}, "definition.widgets[0].kinds"),
        ({"widgets": [{"type": "workload", "by": "state"}]}, "definition.widgets[0].by"),
        (
            {"widgets": [{"type": "overdue_tasks", "project_id": "x"}]},
            "definition.widgets[0].project_id",
        ),
        ({"widgets": [{"type": "workload", "title": " "}]}, "definition.widgets[0].title"),
        ({"widgets": [{"type": "workload"}] * 25}, "definition.widgets"),
        ({"charts": []}, "definition"),
    ):
        refused = client.post(BASE, json={"name": "Bad", "definition": definition})
        assert refused.status_code == 422, (definition, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert where in refused.text, (where, refused.text)
        again = client.patch(path, json={"definition": definition}, headers=ann_headers)
        assert again.status_code == 422, definition
    assert live.app.head() == head

    # Deleted: gone for everyone.
    assert client.delete(path, headers=bo_headers).status_code == 403
    assert client.delete(path, headers=ann_headers).status_code == 204
    assert client.get(path, headers=after(live, ann_headers)).status_code == 404
    assert client.get(f"{path}/widgets", headers=ann_headers).status_code == 404


def test_a_dashboards_weeks_end_with_this_one() -> None:
    from projections.reports.dashboard.common import week_of, weeks

    assert weeks(date(2026, 12, 9), 3) == [
        date(2026, 11, 23),
        date(2026, 11, 30),
        date(2026, 12, 7),
    ]
    assert week_of("2026-12-13T23:59:59.000000Z") == "2026-12-07"
    assert week_of("2026-12-14") == "2026-12-14"
