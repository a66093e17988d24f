"""/api/v1/automations: admins create, edit, enable, disable, order and delete rules (each an
event), the shipped rules listed until they do; a bad rule is 422 naming the part and writes
nothing; the dry run lists the items a rule's conditions hold for now."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from domain.workflow.automations import AUTOMATIONS_ID, SHIPPED_RULES
from ledgerdesk import bootstrap
from tests.factories import user_token

URGENT = {
    "name": "Urgent to the top",
    "item_type": "ticket",
    "trigger": {"type": "field_changed", "field": "priority", "to": "urgent"},
    "conditions": {
        "match": "any",
        "rules": [{"field": "text", "operator": "contains", "value": "fire"}],
    },
    "actions": [{"type": "internal_message", "body": "#{{ item.number }} is urgent"}],
}


def rule_events(c: bootstrap.Container) -> list[str]:
    return [type(e).__name__ for e in c.app.events.get(AUTOMATIONS_ID)]


def test_rules_are_managed_each_change_an_event(
    client: TestClient, live: bootstrap.Container
) -> None:
    listed = client.get("/api/v1/automations")
    assert listed.status_code == 200, listed.text
    assert {r["id"] for r in listed.json()["items"]} == {r["id"] for r in SHIPPED_RULES}
    assert rule_events(live) == []  # Shipped: nothing written until admins change something.

    made = client.post("/api/v1/automations", json=URGENT)
    assert made.status_code == 201, made.text
    rule = made.json()
    assert made.headers["Location"] == f"/api/v1/automations/{rule['id']}"
    of_tickets = [r for r in SHIPPED_RULES if r["item_type"] == "ticket"]
    assert (rule["position"], rule["enabled"]) == (len(of_tickets), True)
    assert rule["since"] > ""
    assert rule_events(live) == ["Started", *["Defined"] * (len(SHIPPED_RULES) + 1)]

    disabled = client.post(f"/api/v1/automations/{rule['id']}/disable")
    assert disabled.json()["enabled"] is False
    enabled = client.post(f"/api/v1/automations/{rule['id']}/enable")
    assert enabled.json()["enabled"] is True
    assert enabled.json()["since"] > rule["since"]  # Acts from when it was enabled again.

    moved = client.patch(f"/api/v1/automations/{rule['id']}", json={"position": 0, "name": "First"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["position"], moved.json()["name"]) == (0, "First")
    first = client.get("/api/v1/automations", params={"item_type": "ticket"}).json()["items"][0]
    assert first["id"] == rule["id"]

    # A change that changes nothing writes nothing.
    before = rule_events(live)
    assert (
        client.patch(f"/api/v1/automations/{rule['id']}", json={"name": "First"}).status_code == 200
    )
    assert rule_events(live) == before

    assert client.delete(f"/api/v1/automations/{rule['id']}").status_code == 204
    assert client.get(f"/api/v1/automations/{rule['id']}").status_code == 404
    assert rule_events(live)[-1] == "Deleted"


def test_a_bad_rule_is_a_problem_naming_the_part_and_writes_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"trigger": {"type": "nope"}}, "trigger.type"),
        ({"trigger": {"type": "field_changed", "field": "colour"}}, "trigger.field"),
        ({"trigger": {"type": "time_elapsed", "hours": 0, "since": "created"}}, "trigger.hours"),
        (
            {
                "conditions": {
                    "match": "all",
                    "rules": [{"field": "priority", "operator": "contains", "value": "x"}],
                }
            },
            "conditions.rules[0].operator",
        ),
        ({"actions": []}, "actions"),
        ({"actions": [{"type": "set_status", "status": "Nope"}]}, "actions[0].status"),
        ({"actions": [{"type": "reply", "body": "{{ item.nope }}"}]}, "actions[0].body"),
        (
            {"actions": [{"type": "convert_to_task"}, {"type": "set_priority", "priority": "low"}]},
            "actions[0].type",
        ),
        (
            {
                "actions": [
                    {"type": "send_email", "to": ["not an address"], "subject": "s", "body": "b"}
                ]
            },
            "actions[0].to[0]",
        ),
    ]
    for change, where in cases:
        answer = client.post("/api/v1/automations", json={**URGENT, **change})
        assert answer.status_code == 422, (change, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert where in answer.text, (where, answer.text)
    unknown = client.post("/api/v1/automations", json={**URGENT, "item_type": "nope"})
    assert unknown.status_code == 422
    assert "item_type" in unknown.text
    assert rule_events(live) == []


def test_only_admins_manage_rules(client: TestClient, live: bootstrap.Container) -> None:
    staff = {"Authorization": f"Bearer {user_token(live, 'agent@example.com')}"}
    assert client.get("/api/v1/automations", headers=staff).status_code == 403
    assert client.post("/api/v1/automations", json=URGENT, headers=staff).status_code == 403
    assert rule_events(live) == []


def test_the_dry_run_lists_the_items_a_rule_matches_now(client: TestClient) -> None:
    fire = client.post("/api/v1/tickets", json={"title": "Printer on fire"}).json()["number"]
    client.post("/api/v1/tickets", json={"title": "Paper jam"})
    rule = client.post("/api/v1/automations", json=URGENT).json()
    answer = client.post(f"/api/v1/automations/{rule['id']}/dry-run")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [(i["number"], i["status"]) for i in found["items"]] == [(fire, "New")]
    assert (found["examined"], found["complete"]) == (2, True)
    assert (
        client.post("/api/v1/automations/00000000-0000-4000-8000-000000000000/dry-run").status_code
        == 404
    )
