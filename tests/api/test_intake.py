"""Item types and web forms through the API, on both backends: the shipped types, admins'
own with custom fields and a place for their items, retiring and resetting, forms that
offer a type; tickets carry their type and fields, and the flat view filters by type."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from domain.project import INBOX_ID
from ledgerdesk import bootstrap
from tests.factories import user_token

OUTAGE = {
    "key": "outage",
    "name": "Outage",
    "fields": [
        {"key": "title", "required": True},
        {"key": "description", "required": True},
        {"key": "priority"},
        {"key": "region", "label": "Region", "type": "choice", "choices": ["EU", "US"],
         "required": True},
        {"key": "since", "label": "Down since", "type": "text"},
    ],
}  # fmt: skip


def test_the_shipped_types_are_listed_and_admins_define_their_own(
    client: TestClient, live: bootstrap.Container
) -> None:
    keys = {t["key"] for t in client.get("/api/v1/item-types").json()["items"]}
    assert keys == {"ticket", "feedback", "feature_request", "bug_report", "task"}
    project = client.post("/api/v1/projects", json={"name": "Operations"}).json()["id"]
    made = client.post("/api/v1/item-types", json={**OUTAGE, "project_id": project})
    assert made.status_code == 201, made.text
    assert "X-Log-Position" in made.headers
    body = made.json()
    assert (body["kind"], body["customer_visible"], body["builtin"]) == ("ticket", True, False)
    assert body["fields"][3] == {
        "key": "region", "required": True, "label": "Region", "type": "choice",
        "choices": ["EU", "US"],
    }  # fmt: skip
    assert client.post("/api/v1/item-types", json=OUTAGE).status_code == 409
    # A ticket of the type goes where the type puts its items, with its fields
    opened = client.post(
        "/api/v1/tickets",
        json={"title": "Site down", "item_type": "outage", "fields": {"region": "EU"}},
    )
    assert opened.status_code == 201, opened.text
    wait = {"X-Min-Position": str(live.app.head())}
    ticket = client.get(f"/api/v1/tickets/{opened.json()['number']}", headers=wait).json()
    assert (ticket["item_type"], ticket["fields"], ticket["project_id"]) == (
        "outage", {"region": "EU"}, project,
    )  # fmt: skip
    plain = client.post("/api/v1/tickets", json={"title": "Printer"}).json()["number"]
    outages = client.get("/api/v1/views/flat", params={"item_type": "outage"}, headers=wait)
    assert [i["number"] for i in outages.json()["items"]] == [opened.json()["number"]]
    tickets = client.get(
        "/api/v1/views/flat",
        params={"item_type": "ticket"},
        headers={"X-Min-Position": str(live.app.head())},
    ).json()["items"]
    assert [(i["number"], i["item_type"]) for i in tickets] == [(plain, "ticket")]


def test_bad_definitions_and_values_are_refused_naming_what_is_wrong(client: TestClient) -> None:
    def problem(path: str, body: dict[str, object], method: str = "post") -> str:
        answer = getattr(client, method)(path, json=body)
        assert answer.status_code == 422, answer.text
        return str(answer.json()["detail"])

    assert "fields[1].choices" in problem(
        "/api/v1/item-types",
        {"key": "x", "name": "X", "fields": [{"key": "title"},
         {"key": "c", "label": "C", "type": "choice", "choices": []}]},
    )  # fmt: skip
    assert "fields[0].label" in problem(
        "/api/v1/item-types", {"key": "y", "name": "Y", "fields": [{"key": "c", "type": "text"}]}
    )
    client.post("/api/v1/item-types", json=OUTAGE)
    assert "fields.region" in problem(
        "/api/v1/tickets", {"title": "T", "item_type": "outage", "fields": {"region": "Mars"}}
    )
    assert "fields.colour" in problem(
        "/api/v1/tickets", {"title": "T", "item_type": "outage", "fields": {"colour": "red"}}
    )
    assert "item_type" in problem("/api/v1/tickets", {"title": "T", "item_type": "task"})
    missing = client.post("/api/v1/tickets", json={"title": "T", "item_type": "nothing"})
    assert missing.status_code == 404
    assert "customer_visible" in problem(
        "/api/v1/item-types/task", {"customer_visible": True}, "patch"
    )


def test_types_are_retired_and_reset_and_only_admins_change_them(
    client: TestClient, live: bootstrap.Container
) -> None:
    assert client.delete("/api/v1/item-types/feedback").status_code == 204
    assert client.get("/api/v1/item-types/feedback").json()["retired"] is True
    refused = client.post("/api/v1/tickets", json={"title": "T", "item_type": "feedback"})
    assert refused.status_code == 422
    assert client.delete("/api/v1/item-types/ticket").status_code == 422
    renamed = client.patch("/api/v1/item-types/bug_report", json={"name": "Defect"})
    assert renamed.json()["name"] == "Defect"
    assert client.post("/api/v1/item-types/feedback/reset").json()["retired"] is False
    assert client.post("/api/v1/item-types/bug_report/reset").json()["name"] == "Bug report"
    member = {"Authorization": f"Bearer {user_token(live, 'bob@example.com')}"}
    assert client.get("/api/v1/item-types", headers=member).status_code == 200
    assert (
        client.patch("/api/v1/item-types/ticket", json={"name": "X"}, headers=member).status_code
        == 403
    )


def test_forms_offer_a_type_customers_may_choose(client: TestClient) -> None:
    made = client.post(
        "/api/v1/forms",
        json={"key": "bugs", "name": "Report a bug", "item_type": "bug_report",
              "anonymous": True, "intro": "Tell us what broke."},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["url"].endswith("/forms/bugs")
    assert client.post("/api/v1/forms", json={"key": "bugs", "name": "Again"}).status_code == 409
    staff_only = client.post("/api/v1/forms", json={"key": "t", "name": "T", "item_type": "task"})
    assert staff_only.status_code == 422
    changed = client.patch("/api/v1/forms/bugs", json={"active": False})
    assert changed.json()["active"] is False
    assert [f["key"] for f in client.get("/api/v1/forms").json()["items"]] == ["bugs"]
    assert client.delete("/api/v1/forms/bugs").status_code == 204
    assert client.get("/api/v1/forms/bugs").status_code == 404


def test_customers_open_requests_of_the_types_they_may_choose_through_the_portal_api(
    client: TestClient, live: bootstrap.Container
) -> None:
    ada = client.post("/api/v1/contacts", json={"email": "ada@acme.example"}).json()["id"]
    invitation = client.post(f"/api/v1/contacts/{ada}/portal-invitations").json()["invitation"]
    session = client.post("/api/v1/portal/session", json={"invitation": invitation}).json()
    portal = {"Authorization": f"Bearer {session['access_token']}"}
    client.patch("/api/v1/item-types/feedback", json={"customer_visible": False})
    client.delete("/api/v1/item-types/feature_request")
    head = live.app.head()

    def opened(**body: object) -> Any:
        return client.post("/api/v1/portal/tickets", json={"title": "T", **body}, headers=portal)

    for refused in (
        opened(item_type="nothing"),  # unknown: the customer's value is wrong, not a page
        opened(item_type="feedback"),  # staff only
        opened(item_type="feature_request"),  # retired
        opened(item_type="task"),  # a type of tasks
        opened(item_type="bug_report", priority="whenever"),
    ):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert live.app.head() == head
    made = opened(item_type="bug_report", priority="high", description="Crash")
    assert made.status_code == 201, made.text
    ticket = client.get(
        f"/api/v1/tickets/{made.json()['number']}",
        headers={"X-Min-Position": str(live.app.head())},
    ).json()
    assert (ticket["item_type"], ticket["priority"], ticket["channel"]) == (
        "bug_report", "high", "portal",
    )  # fmt: skip


def test_review_findings_on_types_forms_and_placement(
    client: TestClient, live: bootstrap.Container
) -> None:
    # A custom field may not take a name the forms use themselves
    reserved = client.post(
        "/api/v1/item-types",
        json={
            "key": "z",
            "name": "Z",
            "fields": [{"key": "website", "label": "W", "type": "text"}],
        },
    )
    assert reserved.status_code == 422
    assert "fields[0].key" in reserved.json()["detail"]
    # A type of tasks is never customer-visible, when defined either
    task_type = {"key": "chore", "name": "Chore", "kind": "task", "customer_visible": True}
    assert client.post("/api/v1/item-types", json=task_type).status_code == 422
    # A form may not offer a retired type; a form whose type turned staff-only stays editable
    client.delete("/api/v1/item-types/feature_request")
    retired = {"key": "ideas", "name": "Ideas", "item_type": "feature_request"}
    assert client.post("/api/v1/forms", json=retired).status_code == 422
    client.post("/api/v1/forms", json={"key": "fb", "name": "FB", "item_type": "feedback"})
    client.patch("/api/v1/item-types/feedback", json={"customer_visible": False})
    assert client.patch("/api/v1/forms/fb", json={"active": False}).status_code == 200
    # Staff: a folder of the Inbox without project_id files the ticket there, as before
    folder = client.post(
        "/api/v1/folders", json={"project_id": str(INBOX_ID), "name": "Billing"}
    ).json()
    made = client.post("/api/v1/tickets", json={"title": "T", "folder_id": folder["id"]})
    assert made.status_code == 201, made.text
    ticket = client.get(
        f"/api/v1/tickets/{made.json()['number']}",
        headers={"X-Min-Position": str(live.app.head())},
    ).json()
    assert ticket["folder_id"] == folder["id"]
