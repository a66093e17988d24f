"""Dashboards over HTTP, on both backends: saved and shared like views, each widget's exact
figures on a seeded desk (for its owner and, scoped, for a member it is shared with), its
SVG chart, and bad definitions refused naming the setting, with nothing written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.seeded_desk import Desk, after, ok
from tests.factories import user_token

BASE = "/api/v1/dashboards"
SVG = "{http://www.w3.org/2000/svg}"


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
    from projections.reports.shape import period_of, weeks

    assert weeks(date(2026, 12, 9), 3) == [
        date(2026, 11, 23),
        date(2026, 11, 30),
        date(2026, 12, 7),
    ]
    assert period_of("2026-12-13T23:59:59.000000Z", "week") == "2026-12-07"
    assert period_of("2026-12-14", "week") == "2026-12-14"
    assert period_of("2026-12-14", "month") == "2026-12"


def test_switched_off_apps_and_features_leave_their_figures_out(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    widgets = [{"type": "time_logged"}, {"type": "sla_compliance"}, {"type": "response_times"}]
    made = ok(client.post(BASE, json={"name": "D", "definition": {"widgets": widgets}}), 201)
    path = f"{BASE}/{made['id']}/widgets"
    on = ok(client.get(path, headers=after(live)))["widgets"]
    assert on[0]["total_hours"] == 2.0
    assert on[1]["totals"]["met"] == 1
    assert "switched_off" not in on[0]
    month = desk.today.isoformat()[:7]
    calendar = "/api/v1/views/calendar"
    assert desk.leak in [
        i["number"] for i in ok(client.get(calendar, params={"month": month}))["items"]
    ]
    for group, name in (("apps", "timesheets"), ("features", "sla")):
        assert (
            client.patch("/api/v1/admin/settings", json={group: {name: False}}).status_code == 200
        )
    off = ok(client.get(path))["widgets"]
    assert (off[0]["series"], off[0]["total_hours"], off[0]["switched_off"]) == (
        [], 0.0, "timesheets app"
    )  # fmt: skip
    assert (off[1]["totals"]["met"], off[1]["switched_off"]) == (0, "SLA feature")
    assert off[2]["summary"]["first_response"]["count"] == 0
    listed = ok(client.get(calendar, params={"month": month}))["items"]
    assert [i["kind"] for i in listed if i["number"] == desk.leak] == []
    assert client.get(f"{path}/0.svg").status_code == 200


def test_a_converted_tickets_sla_rounds_still_count_and_names_stay_apart(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    widgets = [{"type": "sla_compliance", "weeks": 1}, {"type": "time_logged", "weeks": 1}]
    made = ok(client.post(BASE, json={"name": "D", "definition": {"widgets": widgets}}), 201)
    path = f"{BASE}/{made['id']}/widgets"
    assert ok(client.get(path, headers=after(live)))["widgets"][0]["totals"]["met"] == 1
    ok(client.post(f"/api/v1/tickets/{desk.leak}/conversion"), 201)
    assert ok(client.get(path, headers=after(live)))["widgets"][0]["totals"]["met"] == 1
    # Two people of one name: two series, told apart.
    ok(client.patch(f"/api/v1/users/{desk.ann['id']}", json={"name": desk.me["name"]}))
    entry = {"item": desk.door, "date": desk.today.isoformat(), "minutes": 60}
    ok(client.post("/api/v1/timesheets", json=entry, headers=desk.ann_headers), 201)
    time = ok(client.get(path, headers=after(live)))["widgets"][1]
    names = [s["name"] for s in time["series"]]
    assert len(names) == 2 == len(set(names))
    assert sorted(v for s in time["series"] for v in s["values"]) == [1.0, 1.5]


def test_a_malformed_widget_is_422_and_a_long_burn_down_ends_on_today(
    client: TestClient, live: bootstrap.Container
) -> None:
    for widget in ({"type": ["counts"]}, {"type": "workload", "kinds": [{"a": 1}]},
                   {"type": "counts", "by": ["state"]}):  # fmt: skip
        refused = client.post(BASE, json={"name": "D", "definition": {"widgets": [widget]}})
        assert refused.status_code == 422, (widget, refused.text)
    today = date.today()
    project = ok(client.post("/api/v1/projects", json={"name": "Long"}), 201)["id"]
    for start, days in ((today - timedelta(days=600), 5), (today + timedelta(days=300), 5)):
        task = {"title": "T", "project_id": project, "points": 3, "start": start.isoformat(),
                "duration_days": days}  # fmt: skip
        ok(client.post("/api/v1/tasks", json=task), 201)
    burn = {"type": "burn_down", "project_id": project}
    made = ok(client.post(BASE, json={"name": "B", "definition": {"widgets": [burn]}}), 201)
    data = ok(client.get(f"{BASE}/{made['id']}/widgets/0", headers=after(live)))
    assert today.isoformat() in data["labels"]
    assert len(data["labels"]) <= 366
    remaining = data["series"][0]["values"]
    assert remaining[data["labels"].index(today.isoformat())] == 6.0
