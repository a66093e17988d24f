"""SLA policies through the API, on both backends: admins define, change and retire them,
one is the default, staff read them, and bad values are refused naming what is wrong (with
nothing written)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from commands.sla.items import ItemSlaService
from domain.item_numbers import item_id
from domain.sla.policies import METRICS, SLA_POLICIES_ID, SlaPolicies, target_of
from ledgerdesk import bootstrap
from tests.factories import user_token

OFFICE = {
    "time_zone": "Europe/Paris",
    "weekly": {day: [["09:00", "17:00"]] for day in ("monday", "tuesday", "wednesday")},
    "holidays": ["2026-12-25"],
}
STANDARD = {
    "name": "Standard",
    "targets": {
        "urgent": {"first_response": 60, "resolution": 480},
        "normal": {"first_response": 240, "next_response": 480},
    },
    "business_hours": OFFICE,
    "default": True,
}


def test_admins_define_change_and_retire_policies(
    client: TestClient, live: bootstrap.Container
) -> None:
    assert client.get("/api/v1/sla-policies").json() == {"items": []}
    made = client.post("/api/v1/sla-policies", json=STANDARD)
    assert made.status_code == 201, made.text
    assert "X-Log-Position" in made.headers
    policy = made.json()
    assert made.headers["Location"] == f"/api/v1/sla-policies/{policy['id']}"
    assert policy["targets"]["urgent"] == {
        "first_response": 60, "next_response": None, "resolution": 480,
    }  # fmt: skip
    assert policy["targets"]["low"] == dict.fromkeys(METRICS)
    assert policy["business_hours"] == OFFICE
    settings = (policy["pause_while_waiting"], policy["warn_at"], policy["default"])
    assert settings == (True, 0.75, True)
    assert client.get(f"/api/v1/sla-policies/{policy['id']}").json() == policy

    # A change sets only the cells it gives; null clears one.
    changed = client.patch(
        f"/api/v1/sla-policies/{policy['id']}",
        json={"targets": {"urgent": {"first_response": 30, "resolution": None}}, "warn_at": 0.5},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["targets"]["urgent"] == dict(
        first_response=30, next_response=None, resolution=None
    )
    assert changed.json()["targets"]["normal"]["first_response"] == 240
    assert changed.json()["warn_at"] == 0.5
    around_the_clock = client.patch(
        f"/api/v1/sla-policies/{policy['id']}", json={"business_hours": None}
    )
    assert around_the_clock.json()["business_hours"] is None

    # Another default takes over; a retired policy stays listed and is no default.
    vip = client.post("/api/v1/sla-policies", json={"name": "VIP", "default": True}).json()
    listed = {p["name"]: p for p in client.get("/api/v1/sla-policies").json()["items"]}
    assert (listed["Standard"]["default"], listed["VIP"]["default"]) == (False, True)
    assert client.delete(f"/api/v1/sla-policies/{vip['id']}").status_code == 204
    retired = client.get(f"/api/v1/sla-policies/{vip['id']}").json()
    assert (retired["retired"], retired["default"]) == (True, False)
    head = live.app.head()
    again = client.patch(f"/api/v1/sla-policies/{vip['id']}", json={"name": "VIP 2"})
    assert again.status_code == 422
    assert "retired" in again.json()["detail"]
    assert live.app.head() == head

    # What the write model keeps is what the policies' targets are computed from.
    stored = live.app.repository.get(SLA_POLICIES_ID)
    assert isinstance(stored, SlaPolicies)
    urgent = target_of(stored.find(policy["id"]), "urgent", "first_response")
    assert urgent is not None
    assert urgent.seconds == 30 * 60
    assert target_of(stored.find(policy["id"]), "urgent", "resolution") is None


def test_only_admins_change_policies_and_staff_read_them(
    client: TestClient, live: bootstrap.Container
) -> None:
    policy = client.post("/api/v1/sla-policies", json=STANDARD).json()
    member = {"Authorization": f"Bearer {user_token(live, 'bob@example.com')}"}
    assert client.get("/api/v1/sla-policies", headers=member).status_code == 200
    assert client.get(f"/api/v1/sla-policies/{policy['id']}", headers=member).status_code == 200
    head = live.app.head()
    for method, path, body in (
        ("post", "/api/v1/sla-policies", {"name": "Mine"}),
        ("patch", f"/api/v1/sla-policies/{policy['id']}", {"name": "Mine"}),
        ("delete", f"/api/v1/sla-policies/{policy['id']}", None),
    ):
        answer = client.request(method, path, json=body, headers=member)
        assert answer.status_code == 403, (method, answer.text)
    assert live.app.head() == head
    unknown = "/api/v1/sla-policies/00000000-0000-4000-8000-000000000000"
    assert client.get(unknown).status_code == 404
    assert client.patch(unknown, json={"name": "X"}).status_code == 404
    assert client.delete(unknown).status_code == 404


def test_bad_policies_are_refused_naming_what_is_wrong(
    client: TestClient, live: bootstrap.Container
) -> None:
    def problem(body: dict[str, Any]) -> str:
        head = live.app.head()
        answer = client.post("/api/v1/sla-policies", json={"name": "P", **body})
        assert answer.status_code == 422, answer.text
        assert live.app.head() == head  # Nothing written.
        return str(answer.json())

    assert "business_hours.time_zone" in problem(
        {"business_hours": {**OFFICE, "time_zone": "Mars/Olympus"}}
    )
    assert "business_hours.weekly.monday" in problem(
        {
            "business_hours": {
                **OFFICE,
                "weekly": {"monday": [["0900Z", "10:00"], ["11:00", "12:00"]]},
            }
        }
    )
    assert "business_hours.holidays" in problem(
        {"business_hours": {**OFFICE, "holidays": ["20261225"]}}
    )
    assert "five years" in problem(
        {
            "business_hours": {"time_zone": "UTC", "weekly": {"monday": [["09:00", "09:01"]]}},
            "targets": {"low": {"resolution": 500}},
        }
    )
    assert "default" in problem({"default": None})
    assert "weekly.monday" in problem(
        {"business_hours": {**OFFICE, "weekly": {"monday": [["17:00", "09:00"]]}}}
    )
    overlapping = {"monday": [["09:00", "13:00"], ["12:00", "17:00"]]}
    assert "overlap" in problem({"business_hours": {**OFFICE, "weekly": overlapping}})
    assert "holidays" in problem({"business_hours": {**OFFICE, "holidays": ["Christmas"]}})
    assert "first_response" in problem({"targets": {"urgent": {"first_response": 0}}})
    assert "first_response" in problem({"targets": {"urgent": {"first_response": 1.5}}})
    assert "someday" in problem({"targets": {"urgent": {"someday": 5}}})
    assert "warn_at" in problem({"warn_at": 1.5})
    head = live.app.head()
    nameless = client.post("/api/v1/sla-policies", json={})
    assert nameless.status_code == 422
    assert "name" in str(nameless.json())
    assert live.app.head() == head


def test_a_change_sets_what_it_gives_and_refuses_nulls_it_cannot_mean(
    client: TestClient, live: bootstrap.Container
) -> None:
    policy = client.post("/api/v1/sla-policies", json=STANDARD).json()
    path = f"/api/v1/sla-policies/{policy['id']}"
    # A priority given as null clears its whole row.
    cleared = client.patch(path, json={"targets": {"urgent": None}})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["targets"]["urgent"] == dict.fromkeys(METRICS)
    assert cleared.json()["targets"]["normal"]["first_response"] == 240
    head = live.app.head()
    for body in ({"default": None}, {"name": None}, {"targets": None}, {"warn_at": None}):
        refused = client.patch(path, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert next(iter(body)) in str(refused.json())
    assert live.app.head() == head
    assert client.get(path).json() == cleared.json()


def test_staff_hold_an_item_to_a_policy_through_the_api(
    client: TestClient, live: bootstrap.Container
) -> None:
    policy = client.post("/api/v1/sla-policies", json=STANDARD).json()
    project = client.post("/api/v1/projects", json={"name": "Support"}).json()["id"]
    opened = client.post("/api/v1/tickets", json={"title": "Printer", "project_id": project})
    path = f"/api/v1/items/{opened.json()['number']}/sla"
    nothing = {"policy": None, "state": None, "next_due": None, "metrics": {}}
    assert client.get(path).json() == nothing
    held = client.put(path, json={"policy_id": policy["id"]})
    assert held.status_code == 200, held.text
    assert "X-Log-Position" in held.headers
    body = held.json()
    assert body["policy"] == {"id": policy["id"], "name": "Standard"}
    assert set(body["metrics"]) == {"first_response"}  # Normal tickets: what it sets.
    assert body["metrics"]["first_response"]["state"] == "on_track"
    assert client.get(path).json() == body
    wait = {"X-Min-Position": held.headers["X-Log-Position"]}
    flat = client.get(
        "/api/v1/views/flat", params={"sla_state": "on_track", "sort": "sla_due"}, headers=wait
    ).json()["items"]
    assert [(i["number"], i["sla_due"]) for i in flat] == [
        (opened.json()["number"], body["metrics"]["first_response"]["due_at"])
    ]
    assert client.get("/api/v1/views/flat", params={"sla_state": "late"}).status_code == 422
    head = live.app.head()
    assert client.put(path, json={"policy_id": policy["id"]}).json() == body  # nothing new
    assert live.app.head() == head

    # Who may: a restricted member sees it, and may not change it; an outsider: 404.
    def member(email: str, role: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {user_token(live, email)}"}
        user_id = client.get("/api/v1/me", headers=headers).json()["id"]
        if role is not None:
            client.put(f"/api/v1/projects/{project}/members/{user_id}", json={"role": role})
        return headers

    restricted, outsider = member("r@example.com", "restricted"), member("o@example.com", None)
    head = live.app.head()
    assert client.get(path, headers=restricted).json() == body
    assert client.put(path, json={"policy_id": None}, headers=restricted).status_code == 403
    assert client.get(path, headers=outsider).status_code == 404
    assert client.put(path, json={"policy_id": None}, headers=outsider).status_code == 404

    # Unknown and retired policies, unknown items; then held to none.
    unknown = {"policy_id": "00000000-0000-4000-8000-000000000000"}
    assert client.put(path, json=unknown).status_code == 404
    assert client.get("/api/v1/items/99999/sla").status_code == 404
    assert live.app.head() == head
    retired = client.post("/api/v1/sla-policies", json={"name": "Old"}).json()
    client.delete(f"/api/v1/sla-policies/{retired['id']}")
    head = live.app.head()
    assert client.put(path, json={"policy_id": retired["id"]}).status_code == 422
    assert live.app.head() == head
    assert client.put(path, json={"policy_id": None}).json() == nothing


def test_a_converted_tickets_sla_takes_no_changes(client: TestClient) -> None:
    policy = client.post("/api/v1/sla-policies", json=STANDARD).json()
    number = client.post("/api/v1/tickets", json={"title": "Printer"}).json()["number"]
    assert client.post(f"/api/v1/tickets/{number}/conversion").status_code == 201
    refused = client.put(f"/api/v1/items/{number}/sla", json={"policy_id": policy["id"]})
    assert refused.status_code == 409, refused.text


def test_the_sla_view_the_compliance_report_and_the_item_show_service_levels(
    client: TestClient, live: bootstrap.Container
) -> None:
    policy = client.post("/api/v1/sla-policies", json={**STANDARD, "business_hours": None})
    policy_id = policy.json()["id"]
    project = client.post("/api/v1/projects", json={"name": "Support"}).json()["id"]
    opened = client.post("/api/v1/tickets", json={"title": "Printer", "project_id": project})
    number = opened.json()["number"]
    before = client.get(f"/api/v1/tickets/{number}").json()["sla"]
    assert before == {"policy": None, "state": None, "next_due": None, "due": None}
    held = client.put(f"/api/v1/items/{number}/sla", json={"policy_id": policy_id}).json()
    wait = {"X-Min-Position": str(live.app.head())}

    # The item's document: the SLA in brief (as of a moment before it: none).
    doc = client.get(f"/api/v1/tickets/{number}", headers=wait).json()
    due = held["metrics"]["first_response"]["due_at"]
    assert doc["sla"] == {
        "policy": {"id": policy_id, "name": "Standard"}, "state": "on_track",
        "next_due": held["next_due"], "due": due,
    }  # fmt: skip
    then = client.get(f"/api/v1/tickets/{number}", params={"as_of": doc["created_at"]}).json()
    assert then["sla"]["policy"] is None
    now = client.get(f"/api/v1/tickets/{number}", params={"as_of": "2999-01-01T00:00:00Z"})
    assert now.json()["sla"] == doc["sla"]

    # The SLA view, grouped by policy and state; the flat list's policy filter.
    view = client.get("/api/v1/views/sla", headers=wait)
    assert view.status_code == 200, view.text
    [group] = view.json()["groups"]
    assert (group["policy"], group["state"], group["count"]) == (
        {"id": policy_id, "name": "Standard"}, "on_track", 1,
    )  # fmt: skip
    assert [(i["number"], i["sla_due"], i["sla_policy_id"]) for i in group["items"]] == [
        (number, due, policy_id)
    ]
    flat = client.get("/api/v1/views/flat", params={"sla_policy": policy_id}, headers=wait)
    assert [i["number"] for i in flat.json()["items"]] == [number]
    other = client.get("/api/v1/views/sla", params={"state": "breached"}, headers=wait)
    assert other.json() == {"groups": []}
    assert client.get("/api/v1/views/sla", params={"state": "late"}).status_code == 422
    outsider = {"Authorization": f"Bearer {user_token(live, 'o@example.com')}"}
    assert client.get("/api/v1/views/sla", headers=outsider).json() == {"groups": []}

    # The compliance report: nothing decided yet; answered, then counted as met.
    path = "/api/v1/reports/sla-compliance"
    empty = client.get(path, headers=wait).json()
    assert (empty["rows"], empty["totals"]) == ([], {"met": 0, "breached": 0, "compliance": None})
    assert (empty["period"], empty["time_zone"]) == ("month", "UTC")
    reply = {"body": "On it", "visibility": "customer"}
    assert client.post(f"/api/v1/tickets/{number}/messages", json=reply).status_code == 201
    ItemSlaService(live.app).evaluate(item_id(number), "replied")  # as the workers do
    params = {"period": "week", "time_zone": "Europe/Paris", "policy": policy_id}
    found = client.get(path, params=params, headers={"X-Min-Position": str(live.app.head())})
    assert found.status_code == 200, found.text
    rows = found.json()["rows"]
    assert [(r["policy"]["name"], r["priority"], r["metric"], r["met"]) for r in rows] == [
        ("Standard", "normal", "first_response", 1)
    ]
    assert found.json()["totals"]["compliance"] == 1.0

    # Bad parameters name what is wrong; staff who do not see every project may not read it.
    for params, name in (
        ({"time_zone": "Mars/Base"}, "time_zone"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-12-01"}, "from"),
        ({"period": "year"}, "period"),
    ):
        bad = client.get(path, params=params)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.json()["errors"][0]["location"] == ["query", name], (params, bad.text)
    assert client.get(path, headers=outsider).status_code == 403
