"""What changed between two dates, over HTTP on both backends: every item created, changed,
moved, finished, reopened or converted in the range, each field before and after, its
cause; by project, customer, folder and saved view; scoped to the caller; paged; and as a
CSV or XLSX report."""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.test_saved_views import after, member, saved, ticket

PROBLEM = "application/problem+json"
TODAY = datetime.now(UTC).date().isoformat()


def changes(client: TestClient, live: bootstrap.Container, **params: Any) -> Any:
    params = {"from": TODAY, "to": TODAY, **params}
    headers = params.pop("headers", None)
    response = client.get("/api/v1/changes", params=params, headers=after(live, headers))
    assert response.status_code == 200, response.text
    return response.json()


def test_each_change_lists_its_fields_before_and_after_its_kind_and_its_cause(
    client: TestClient, live: bootstrap.Container
) -> None:
    me = client.get("/api/v1/me").json()["id"]
    other = client.post("/api/v1/projects", json={"name": "Other"}).json()["id"]
    number = ticket(client, "Printer jammed", priority="low")
    client.patch(f"/api/v1/tickets/{number}", json={"priority": "high", "title": "Printer 3"})
    client.put(f"/api/v1/tickets/{number}/assignees/{me}")
    client.patch(f"/api/v1/tickets/{number}", json={"project_id": other})
    client.patch(f"/api/v1/tickets/{number}", json={"status": "Resolved"})
    client.patch(f"/api/v1/tickets/{number}", json={"status": "Open"})
    found = changes(client, live)
    assert found["next_cursor"] is None
    listed = [(c["change"], c["type"], c["fields"]) for c in found["items"]]
    created, *rest = listed
    assert created[0:2] == ("created", "Ticket.Opened")
    assert {"field": "priority", "before": None, "after": "low"} in created[2]
    assert rest[0:2] == [
        ("changed", "Ticket.Retitled",
         [{"field": "title", "before": "Printer jammed", "after": "Printer 3"}]),
        ("changed", "Ticket.Reprioritised",
         [{"field": "priority", "before": "low", "after": "high"}]),
    ]  # fmt: skip
    assert rest[2] == (
        "changed", "Ticket.UserAssigned", [{"field": "assignees", "before": [], "after": [me]}]
    )  # fmt: skip
    moved = rest[3]
    assert moved[0:2] == ("moved", "Ticket.Moved")
    assert (moved[2][0]["field"], moved[2][0]["after"]) == ("project_id", other)
    assert [(c[0], c[2][0]["after"]) for c in rest[4:]] == [
        ("finished", "Resolved"),
        ("reopened", "Open"),
    ]
    first = found["items"][0]
    assert first["by"] == {"actor": f"user:{me}", "cause": "user"}
    assert first["item"]["title"] == "Printer jammed"
    assert found["items"][-1]["item"]["title"] == "Printer 3"
    # A message changes no tracked field: it is not a change
    posted = client.post(
        f"/api/v1/tickets/{number}/messages", json={"body": "noted", "visibility": "internal"}
    )
    assert posted.status_code == 201, posted.text
    assert len(changes(client, live)["items"]) == len(found["items"])


def test_the_range_and_the_scope_choose_the_changes_and_each_caller_sees_their_own(
    client: TestClient, live: bootstrap.Container
) -> None:
    ana_id, ana = member(client, live, "ana@example.com")
    acme = str(uuid.uuid4())
    ours = client.post("/api/v1/projects", json={"name": "Ours", "customer_ids": [acme]})
    ours_id = ours.json()["id"]
    theirs = client.post("/api/v1/projects", json={"name": "Theirs"}).json()["id"]
    client.put(f"/api/v1/projects/{ours_id}/members/{ana_id}", json={"role": "standard"})
    outer = client.post("/api/v1/folders", json={"project_id": ours_id, "name": "Outer"}).json()
    inner = client.post(
        "/api/v1/folders",
        json={"project_id": ours_id, "name": "Inner", "parent_id": outer["id"]},
    ).json()
    in_inner = ticket(client, "In inner", project_id=ours_id, folder_id=inner["id"])
    ticket(client, "In ours", project_id=ours_id)
    ticket(client, "In theirs", project_id=theirs, priority="urgent")

    def titles(**params: Any) -> list[str]:
        return [c["item"]["title"] for c in changes(client, live, **params)["items"]]

    assert titles() == ["In inner", "In ours", "In theirs"]
    assert titles(scope=f"project:{ours_id}") == ["In inner", "In ours"]
    assert titles(scope=f"customer:{acme}") == ["In inner", "In ours"]
    assert titles(scope=f"folder:{outer['id']}") == ["In inner"]
    assert titles(scope=f"customer:{uuid.uuid4()}") == []
    urgent = saved(
        client,
        {"name": "Urgent", "definition": {"filter": {"field": "priority", "op": "eq",
                                                      "value": "urgent"}}},
    )  # fmt: skip
    assert titles(scope=f"view:{urgent['id']}") == ["In theirs"]
    # Ana sees only the project she is in; the saved view is not hers to use
    assert titles(headers=ana) == ["In inner", "In ours"]
    refused = client.get(
        "/api/v1/changes",
        params={"from": TODAY, "to": TODAY, "scope": f"view:{urgent['id']}"},
        headers=ana,
    )
    assert refused.status_code == 404
    # A moved item's change is in the scope it left and the one it went to
    client.patch(f"/api/v1/tickets/{in_inner}", json={"project_id": theirs})
    assert titles(scope=f"project:{theirs}")[-1] == "In inner"
    assert titles(scope=f"project:{ours_id}")[-1] == "In inner"
    # Yesterday: nothing; a range ending before now: only what came before
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert titles(**{"from": yesterday, "to": yesterday}) == []
    time.sleep(0.01)
    cut = datetime.now(UTC)
    ticket(client, "Later")
    assert "Later" not in titles(to=cut.isoformat())
    assert titles(**{"from": cut.isoformat()}) == ["Later"]


def test_changes_page_by_cursor_and_bad_parameters_are_problems(
    client: TestClient, live: bootstrap.Container
) -> None:
    for n in range(5):
        ticket(client, f"T{n}")
    seen, cursor = [], None
    while True:
        page = changes(client, live, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [c["item"]["title"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"T{n}" for n in range(5)]
    for params, name in (
        ({"from": "yesterday", "to": TODAY}, "from"),
        ({"from": TODAY, "to": "2026-12-01T10:00"}, "to"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"from": TODAY, "to": TODAY, "scope": "team:x"}, "scope"),
        ({"from": TODAY, "to": TODAY, "scope": "project:nope"}, "scope"),
        ({"from": TODAY, "to": TODAY, "cursor": "nope"}, "cursor"),
        ({"from": TODAY, "to": TODAY, "format": "ods"}, "format"),
        ({"from": TODAY, "to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01T00:00:00+01:00", "to": TODAY}, "from"),
        ({"from": "0999-01-01", "to": TODAY}, "from"),
        ({"to": TODAY}, "from"),
    ):
        response = client.get("/api/v1/changes", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["location"][-1] == name, params


def test_changes_are_a_csv_or_xlsx_report_one_row_per_field(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = ticket(client, "=HYPERLINK(1)", priority="low")
    client.patch(f"/api/v1/tickets/{number}", json={"priority": "urgent", "status": "Open"})
    wait = after(live)
    exported = client.get(
        "/api/v1/changes", params={"from": TODAY, "to": TODAY, "format": "csv"}, headers=wait
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["title"] == "'=HYPERLINK(1)"  # neutralised: a spreadsheet shows it
    changed = [(r["type"], r["field"], r["before"], r["after"]) for r in rows[-3:]]
    assert changed == [
        ("Ticket.Reprioritised", "priority", "low", "urgent"),
        ("Ticket.StatusChanged", "status", "New", "Open"),
        ("Ticket.StatusChanged", "state", "not_started", "in_progress"),
    ]
    workbook = client.get(
        "/api/v1/changes", params={"from": TODAY, "to": TODAY, "format": "xlsx"}, headers=wait
    )
    assert workbook.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:4] == ["occurred_at", "number", "kind", "title"]
    assert len(cells) == len(rows) + 1


def test_a_converted_tickets_changes_are_shown_as_its_task_and_each_cause_is_named(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = ticket(client, "Build the report", priority="low")
    client.patch(f"/api/v1/tickets/{number}", json={"priority": "high"})
    converted = client.post(f"/api/v1/tickets/{number}/conversion", json={})
    assert converted.status_code == 201, converted.text
    task = converted.json()
    client.patch(f"/api/v1/tasks/{task['number']}", json={"title": "Build the reports"})
    found = changes(client, live)["items"]
    assert [(c["change"], c["kind"], c["number"]) for c in found] == [
        ("created", "ticket", number),
        ("changed", "ticket", number),
        ("converted", "task", task["number"]),
        ("changed", "task", task["number"]),
    ]
    assert {c["item"]["id"] for c in found} == {task["id"]}
    assert {c["item"]["number"] for c in found} == {task["number"]}
    became = {f["field"]: (f["before"], f["after"]) for f in found[2]["fields"]}
    assert became["number"] == (number, task["number"])
    assert became["kind"] == ("ticket", "task")
    assert became["status"] == ("New", "Not started")
    assert "priority" not in became  # (it stayed high)
    # A new task's progress is 0 before anything is logged: setting 0 changes nothing
    set_zero = client.patch(f"/api/v1/tasks/{task['number']}", json={"percent_complete": 0})
    assert set_zero.status_code == 200, set_zero.text
    assert len(changes(client, live)["items"]) == len(found)


def test_each_actor_is_read_as_its_cause() -> None:
    from domain.changes import cause_of

    assert [
        cause_of(actor)
        for actor in (
            "user:1", "customer:ada@example.com", "visitor:bo@example.com", "automation:r1",
            "system:mail", "import:42", "system:sla", "system:tests",
        )
    ] == [
        "user", "customer", "customer", "automation", "email", "import", "system", "system"
    ]  # fmt: skip


def test_a_ticket_from_an_email_and_time_from_an_import_name_their_cause(
    client: TestClient, live: bootstrap.Container
) -> None:
    from tests.api.test_timesheets_api import _csv

    mail = (
        b"From: Ada <ada@acme.example>\r\nTo: support@ledgerdesk.local\r\n"
        b"Subject: Printer on fire\r\nMessage-ID: <fire-1@acme.example>\r\n\r\nHelp.\r\n"
    )
    received = client.post(
        "/api/v1/mail/inbound", content=mail, headers={"Content-Type": "message/rfc822"}
    )
    assert received.status_code in (200, 201, 202), received.text
    shed = client.post("/api/v1/tasks", json={"title": "Build the shed"}).json()
    imported = client.post(
        "/api/v1/timesheets/import",
        files=_csv(
            "item,user_email,date,hours,notes",
            f"{shed['number']},admin@example.com,2026-12-01,1:00,x",
        ),
    )
    assert imported.status_code in (200, 201), imported.text
    found = changes(client, live)["items"]
    by_title = [(c["item"]["title"], c["change"], c["by"]["cause"]) for c in found]
    assert ("Printer on fire", "created", "email") in by_title
    assert ("Build the shed", "created", "user") in by_title
    started = [c for c in found if c["item"]["title"] == "Build the shed"][1:]
    assert started, found
    assert {c["by"]["cause"] for c in started} == {"import"}


def test_changes_print_as_a_pdf_under_the_companys_brand(
    client: TestClient, live: bootstrap.Container
) -> None:
    from PIL import Image
    from pypdf import PdfReader

    settings = client.get("/api/v1/mail/settings").json()
    body = {k: settings[k] for k in ("acknowledge", "company_name", "colour", "button_colour")}
    changed = client.put("/api/v1/mail/settings", json={**body, "company_name": "Ärzte & Co"})
    assert changed.status_code == 200, changed.text
    logo = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(logo, format="PNG")
    uploaded = client.put(
        "/api/v1/admin/branding/logo", files={"file": ("logo.png", logo.getvalue(), "image/png")}
    )
    assert uploaded.status_code == 200, uploaded.text
    for n in range(60):
        ticket(client, f"Drucker {n} kaputt")
    printed = client.get(
        "/api/v1/changes",
        params={"from": TODAY, "to": TODAY, "format": "pdf"},
        headers=after(live),
    )
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    assert f'filename="changes-{TODAY}-{TODAY}.pdf"' in printed.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(printed.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Ärzte & Co" in text
    assert "What changed" in text
    assert f"From {TODAY} to {TODAY}" in text
    assert "Drucker 0 kaputt" in text
    assert "Drucker 59 kaputt" in text
    pages = len(reader.pages)
    assert pages > 1  # 60 items, each created with several fields: one row per field
    assert f"page {pages} of {pages}" in reader.pages[-1].extract_text()
    assert len(reader.pages[0].images) == 1  # the logo
    # Nothing in the range: a page that says so
    empty = client.get(
        "/api/v1/changes",
        params={"from": "2020-01-01", "to": "2020-01-02", "format": "pdf"},
    )
    assert "Nothing to show" in PdfReader(io.BytesIO(empty.content)).pages[0].extract_text()
