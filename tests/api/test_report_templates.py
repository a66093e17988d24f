"""Report templates over HTTP, on both backends: the catalogue, each template's exact
figures on a seeded desk (grouped and not, for an admin and, scoped, for a member), its
CSV, XLSX and branded PDF (text extracted and checked), and bad parameters refused naming
them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import openpyxl
import pypdf
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.seeded_desk import Desk, after, ok

BASE = "/api/v1/reports"


def run(client: TestClient, desk: Desk, template: str, **params: Any) -> Any:
    params.setdefault("from", desk.first.isoformat())
    params.setdefault("to", desk.today.isoformat())
    headers = after(desk.live, params.pop("headers", None))
    return client.get(f"{BASE}/{template}", params=params, headers=headers)


def test_the_catalogue_lists_every_template(client: TestClient) -> None:
    found = ok(client.get(BASE))["templates"]
    assert [t["key"] for t in found] == [
        "tickets", "response-times", "task-progress", "user-activity", "custom",
        "timesheets", "sla-compliance",
    ]  # fmt: skip
    tickets = found[0]
    assert tickets["path"] == f"{BASE}/tickets"
    assert tickets["group_by"] == ["customer", "project", "priority", "channel", "item_type"]
    assert tickets["formats"] == ["json", "csv", "xlsx", "pdf"]
    assert found[2]["periods"] == []  # a task is one row, whatever the period


def test_each_template_gives_exact_figures_for_whoever_runs_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    weeks = [(desk.first + timedelta(weeks=n)).isoformat() for n in range(3)]
    this_week, last_week = weeks[2], weeks[1]

    # Tickets: Leak, Noise, Door (Agency) and Vault (Secret) opened this week; Noise finished.
    report = ok(run(client, desk, "tickets"))
    assert (report["template"], report["period"], report["group_by"]) == ("tickets", "week", None)
    assert report["range"] == {"from": desk.first.isoformat(), "to": desk.today.isoformat()}
    assert report["columns"] == ["period", "created", "finished"]
    assert report["rows"] == [{"period": this_week, "created": 4, "finished": 1}]
    assert report["totals"] == {"created": 4, "finished": 1}
    assert report["chart"]["labels"] == weeks
    series = {s["name"]: s["values"] for s in report["chart"]["series"]}
    assert series == {"created": [0, 0, 4], "finished": [0, 0, 1]}
    by_project = ok(run(client, desk, "tickets", group_by="project"))["rows"]
    assert [(r["project_name"], r["created"], r["finished"]) for r in by_project] == [
        ("Agency", 3, 1), ("Secret", 1, 0),
    ]  # fmt: skip
    by_priority = ok(run(client, desk, "tickets", group_by="priority"))["rows"]
    assert [(r["priority"], r["created"], r["finished"]) for r in by_priority] == [
        ("low", 2, 0), ("normal", 1, 1), ("urgent", 1, 0),
    ]  # fmt: skip
    by_channel = ok(run(client, desk, "tickets", group_by="channel"))["rows"]
    assert [(r["channel"], r["created"]) for r in by_channel] == [("api", 4)]
    by_customer = ok(run(client, desk, "tickets", group_by="customer"))["rows"]
    assert [(r["customer"], r["customer_name"], r["created"]) for r in by_customer] == [
        (None, "(none)", 4)
    ]
    daily = ok(run(client, desk, "tickets", period="day", **{"from": desk.today.isoformat()}))
    assert daily["rows"] == [{"period": desk.today.isoformat(), "created": 4, "finished": 1}]
    hers = ok(run(client, desk, "tickets", headers=desk.ann_headers))
    assert hers["totals"] == {"created": 3, "finished": 1}  # not the secret project's

    # Response times: the urgent ticket's first response, answered this week.
    times = ok(run(client, desk, "response-times", group_by="priority"))
    [row] = times["rows"]
    assert (row["period"], row["priority"], row["first_response_count"]) == (
        this_week, "urgent", 1
    )  # fmt: skip
    assert row["first_response_median_minutes"] < 5
    assert (row["resolution_count"], row["resolution_median_minutes"]) == (0, None)
    assert times["totals"]["first_response_count"] == 1

    # Task progress: Plan (overdue) and Build (done today) touch the range; Ship does not.
    progress = ok(run(client, desk, "task-progress"))
    assert progress["period"] is None
    rows = {r["number"]: r for r in progress["rows"]}
    assert sorted(rows) == [desk.plan, desk.build]
    plan = rows[desk.plan]
    planned_finish = desk.first + timedelta(days=1)
    assert (plan["planned_start"], plan["planned_finish"]) == (
        desk.first.isoformat(), planned_finish.isoformat()
    )  # fmt: skip
    assert plan["finish_variance_days"] == (desk.today - planned_finish).days
    assert (plan["project_name"], plan["status"], plan["points"]) == ("Agency", "Not started", 5)
    build = rows[desk.build]
    task = ok(client.get(f"/api/v1/tasks/{desk.build}"))
    actual = task["actual"]["finish"]
    expected = (
        None
        if actual is None
        else (desk.today.fromisoformat(actual) - (desk.first + timedelta(days=2))).days
    )
    assert build["finish_variance_days"] == expected
    late = sum(1 for r in rows.values() if (r["finish_variance_days"] or 0) > 0)
    assert progress["totals"] == {"tasks": 2, "finished": 1, "late": late}
    per_project = ok(run(client, desk, "task-progress", group_by="project"))["rows"]
    assert [(r["project_name"], r["tasks"], r["finished"], r["late"]) for r in per_project] == [
        ("Agency", 2, 1, late)
    ]

    # User activity: what the admin did this week (and the half hour logged last week).
    activity = ok(run(client, desk, "user-activity"))
    mine = {r["period"]: r for r in activity["rows"] if r["user_id"] == desk.me["id"]}
    assert sorted(mine) == [last_week, this_week]
    assert mine[last_week]["hours_logged"] == 0.5
    assert mine[last_week]["created"] == 0
    now = mine[this_week]
    assert (now["created"], now["finished"], now["hours_logged"]) == (7, 2, 1.5)
    # Leak to Open, and three items assigned (Build's progress came with its finish).
    assert now["changed"] == 4
    assert now["user_name"] == desk.me["name"]


def test_a_report_exports_as_csv_xlsx_and_a_branded_pdf_with_its_chart(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    as_csv = run(client, desk, "tickets", group_by="project", format="csv")
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    name = f"tickets-{desk.first}-{desk.today}"
    assert f'filename="{name}.csv"' in as_csv.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(as_csv.text)))
    assert table[0] == ["period", "project", "project_name", "created", "finished"]
    assert [row[2:] for row in table[1:]] == [["Agency", "3", "1"], ["Secret", "1", "0"]]
    as_xlsx = run(client, desk, "tickets", group_by="project", format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[2]][2:] == ["Agency", 3, 1]

    settings = ok(client.get("/api/v1/mail/settings"))
    body = {k: settings[k] for k in ("acknowledge", "company_name", "colour", "button_colour")}
    ok(client.put("/api/v1/mail/settings", json={**body, "company_name": "Ärzte & Co"}))
    as_pdf = run(client, desk, "tickets", group_by="project", format="pdf")
    assert as_pdf.status_code == 200, as_pdf.text
    assert as_pdf.headers["content-type"] == "application/pdf"
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(as_pdf.content)).pages]
    company = "Ärzte & Co"
    for page in pages:
        assert company in page
        assert "Tickets created and finished" in page
    assert "by project" in pages[0]
    assert "created" in pages[0]
    assert "finished" in pages[0]
    assert "Agency" in pages[1]
    assert "Secret" in pages[1]
    assert "page 2 of 2" in pages[1]


def test_bad_parameters_are_refused_naming_them(client: TestClient) -> None:
    for path, params, where in (
        ("tickets", {"group_by": "colour"}, "group_by"),
        ("user-activity", {"group_by": "project"}, "group_by"),
        ("tickets", {"from": "2026-13-01"}, "from"),
        ("tickets", {"from": "2026-12-05", "to": "2026-12-01"}, "to"),
        ("tickets", {"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ("tickets", {"period": "year"}, "period"),
        ("tickets", {"format": "doc"}, "format"),
    ):
        answer = client.get(f"{BASE}/{path}", params=params)
        assert answer.status_code == 422, (path, params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["location"][-1] == where, answer.text
    unknown = client.get(f"{BASE}/burn-rate")
    assert unknown.status_code == 404
    assert "no report template 'burn-rate'" in unknown.json()["detail"]


def test_switched_off_apps_and_features_leave_their_reports_out(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    assert "hours_logged" in ok(run(client, desk, "user-activity"))["columns"]
    for group, name in (("apps", "timesheets"), ("features", "sla")):
        assert (
            client.patch("/api/v1/admin/settings", json={group: {name: False}}).status_code == 200
        )
    refused = run(client, desk, "response-times")
    assert refused.status_code == 404
    assert "SLA feature" in refused.json()["detail"]
    activity = ok(run(client, desk, "user-activity"))
    assert "hours_logged" not in activity["columns"]
    assert "hours_logged" not in activity["totals"]
    assert all("hours_logged" not in row for row in activity["rows"])


def test_a_saved_report_runs_as_it_says_for_whoever_may_see_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    days = (desk.today - desk.first).days + 1
    body = {
        "name": "Tickets by priority",
        "definition": {"template": "tickets", "group_by": "priority", "range": {"last_days": days}},
    }
    saved = ok(client.post(f"{BASE}/saved", json=body), 201)
    assert saved["definition"] == {
        "template": "tickets", "group_by": "priority", "period": "week",
        "range": {"last_days": days}, "project_id": None,
    }  # fmt: skip
    listed = ok(client.get(BASE, headers=after(live)))["saved"]
    assert [(r["id"], r["path"]) for r in listed] == [(saved["id"], f"{BASE}/{saved['id']}")]
    ran = ok(client.get(f"{BASE}/{saved['id']}"))
    template = ok(run(client, desk, "tickets", group_by="priority"))
    assert (ran["template"], ran["title"]) == ("tickets", "Tickets by priority")
    assert ran["report"] == {"id": saved["id"], "name": "Tickets by priority"}
    assert (ran["range"], ran["rows"], ran["totals"]) == (
        template["range"], template["rows"], template["totals"]
    )  # fmt: skip
    daily = ok(client.get(f"{BASE}/{saved['id']}", params={"period": "day"}))
    assert {r["period"] for r in daily["rows"]} == {desk.today.isoformat()}
    flat = ok(client.get(f"{BASE}/{saved['id']}", params={"group_by": ""}))
    assert (flat["group_by"], flat["columns"]) == (None, ["period", "created", "finished"])
    # One project's; the previous week (nothing was opened then).
    agency = {**body["definition"], "project_id": desk.project, "group_by": None}
    ok(client.patch(f"{BASE}/saved/{saved['id']}", json={"definition": agency}))
    assert ok(client.get(f"{BASE}/{saved['id']}"))["totals"] == {"created": 3, "finished": 1}
    last_week = {**agency, "range": {"previous": "week"}}
    ok(client.patch(f"{BASE}/saved/{saved['id']}", json={"definition": last_week}))
    previous = ok(client.get(f"{BASE}/{saved['id']}"))
    monday = desk.monday - timedelta(days=7)
    assert previous["range"] == {
        "from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()
    }  # fmt: skip
    assert previous["totals"] == {"created": 0, "finished": 0}
    as_pdf = client.get(f"{BASE}/{saved['id']}", params={"format": "pdf"})
    text = pypdf.PdfReader(io.BytesIO(as_pdf.content)).pages[0].extract_text()
    assert "Tickets by priority" in text

    # Private until shared; then run for the reader, within what they may see.
    mine = f"{BASE}/{saved['id']}"
    assert client.get(mine, headers=desk.ann_headers).status_code == 404
    everything = {**body["definition"], "range": {"last_days": days}}
    ok(client.patch(f"{BASE}/saved/{saved['id']}", json={"definition": everything,
       "sharing": {"users": [desk.ann["id"]]}}))  # fmt: skip
    hers = ok(client.get(mine, headers=after(live, desk.ann_headers)))
    assert hers["totals"] == {"created": 3, "finished": 1}
    assert client.patch(f"{BASE}/saved/{saved['id']}", json={"name": "X"},
                        headers=desk.ann_headers).status_code == 403  # fmt: skip

    # Bad definitions: 422 naming the part, nothing written; kinds never mix.
    head = live.app.head()
    for definition, where in (
        ({"template": "burn-rate"}, "definition.template"),
        ({"template": "user-activity", "group_by": "project"}, "definition.group_by"),
        ({"template": "tickets", "period": "year"}, "definition.period"),
        ({"template": "tickets", "range": {"last_days": 0}}, "definition.range.last_days"),
        ({"template": "tickets", "range": {"previous": "decade"}}, "definition.range"),
        ({"template": "tickets", "project_id": "x"}, "definition.project_id"),
        ({"template": "tickets", "format": "pdf"}, "definition.format"),
    ):
        refused = client.post(f"{BASE}/saved", json={"name": "Bad", "definition": definition})
        assert refused.status_code == 422, (definition, refused.text)
        assert where in refused.text, (where, refused.text)
    assert live.app.head() == head
    dashboard = ok(client.post("/api/v1/dashboards", json={"name": "D", "definition": {}}), 201)
    assert client.get(f"{BASE}/saved/{dashboard['id']}").status_code == 404
    assert client.get(f"{BASE}/{dashboard['id']}").status_code == 404
    assert client.get(f"/api/v1/dashboards/{saved['id']}").status_code == 404
    assert client.get(f"{BASE}/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.delete(f"{BASE}/saved/{saved['id']}").status_code == 204
    assert client.get(mine, headers=after(live)).status_code == 404


def test_a_saved_reports_range_in_days() -> None:
    from datetime import date

    from domain.views.report import checked_report, days_of

    week = checked_report({"template": "tickets", "range": {"previous": "week"}})
    assert days_of(week, date(2026, 12, 7)) == (date(2026, 11, 30), date(2026, 12, 6))
    assert days_of(week, date(2026, 12, 13)) == (date(2026, 11, 30), date(2026, 12, 6))
    month = checked_report({"template": "tickets", "range": {"previous": "month"}})
    assert days_of(month, date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    last = checked_report({"template": "tickets"})
    assert days_of(last, date(2026, 12, 7)) == (date(2026, 11, 8), date(2026, 12, 7))


def test_a_converted_ticket_keeps_its_channel_live_and_after_a_rebuild(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    ok(client.post(f"/api/v1/tickets/{desk.door}/conversion"), 201)

    def channels() -> list[tuple[str, int]]:
        rows = ok(run(client, desk, "tickets", group_by="channel"))["rows"]
        return [(r["channel"], r["created"]) for r in rows]

    assert channels() == [("api", 4)]
    live.runner.rebuild("flat")
    assert channels() == [("api", 4)]


def test_a_project_of_two_customers_counts_once_in_the_totals_and_hours_round_once(
    client: TestClient, live: bootstrap.Container
) -> None:
    desk = Desk(client, live)
    acme, globex = (
        ok(client.post("/api/v1/customers", json={"name": name}), 201)["id"]
        for name in ("Acme", "Globex")
    )
    shared = ok(
        client.post("/api/v1/projects", json={"name": "Both", "customer_ids": [acme, globex]}), 201
    )
    ok(client.post("/api/v1/tickets", json={"title": "Shared", "project_id": shared["id"]}), 201)
    report = ok(run(client, desk, "tickets", group_by="customer"))
    assert [(r["customer_name"], r["created"]) for r in report["rows"]] == [
        ("(none)", 4), ("Acme", 1), ("Globex", 1),
    ]  # fmt: skip
    assert report["totals"]["created"] == 5
    assert sum(report["chart"]["series"][0]["values"]) == 5
    # 100 minutes over seven days is 1.67 hours, as the time report says.
    for day in range(7):
        entry = {"item": desk.door, "date": (desk.first + timedelta(days=day)).isoformat(),
                 "minutes": 40 if day == 0 else 10}  # fmt: skip
        ok(client.post("/api/v1/timesheets", json=entry, headers=desk.ann_headers), 201)
    activity = ok(run(client, desk, "user-activity", headers=desk.ann_headers))
    hers = [r for r in activity["rows"] if r["user_id"] == desk.ann["id"]]
    # (Her first hours moved Door to in progress: a change of hers, this week.)
    assert [(r["period"], r["hours_logged"], r["changed"]) for r in hers] == [
        (desk.first.isoformat(), 1.67, 0), (desk.monday.isoformat(), 0, 1),
    ]  # fmt: skip
    assert activity["totals"]["hours_logged"] == 1.67
    # Another project's hours are not this project's.
    other = ok(client.post("/api/v1/projects", json={"name": "Other"}), 201)["id"]
    elsewhere = ok(client.post("/api/v1/tickets", json={"title": "E", "project_id": other}), 201)
    entry = {"item": elsewhere["number"], "date": desk.today.isoformat(), "minutes": 120}
    ok(client.post("/api/v1/timesheets", json=entry), 201)
    everything = ok(run(client, desk, "user-activity"))["totals"]["hours_logged"]
    agency = ok(run(client, desk, "user-activity", project=desk.project))["totals"]
    assert (everything, agency["hours_logged"]) == (1.67 + 2.0 + 2.0, 1.67 + 2.0)


def test_the_catalogue_leaves_out_what_is_switched_off(client: TestClient) -> None:
    report = {"name": "Times", "definition": {"template": "response-times"}}
    ok(client.post(f"{BASE}/saved", json=report), 201)
    assert len(ok(client.get(BASE))["saved"]) == 1
    for group, name in (("apps", "timesheets"), ("features", "sla")):
        assert (
            client.patch("/api/v1/admin/settings", json={group: {name: False}}).status_code == 200
        )
    found = ok(client.get(BASE))
    assert [t["key"] for t in found["templates"]] == [
        "tickets",
        "task-progress",
        "user-activity",
        "custom",
    ]
    assert found["saved"] == []
