"""A project's own working days, over HTTP on both backends: setting and reading the
calendar (and who may), tasks planned and moved by it, the Gantt's slack and finish counted
in it, and MS Project plans that bring their calendar and take it back out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.seeded_desk import after, ok
from tests.api.test_plan_import_edges import plan, send, task
from tests.factories import user_token

NS = {"p": "http://schemas.microsoft.com/project"}
WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday"]
# December 2026: Monday 21st to Thursday 31st; the 24th and 25th off, Saturday 26th worked.
CHRISTMAS = {"working_weekdays": WEEK, "holidays": ["2026-12-25", "2026-12-24"],
             "extra_days": ["2026-12-26"]}  # fmt: skip


def calendar_of(client: TestClient, live: bootstrap.Container, project: str) -> Any:
    return ok(client.get(f"/api/v1/projects/{project}/calendar", headers=after(live)))


def new_task(client: TestClient, project: str, title: str, **plan_: Any) -> dict[str, Any]:
    body = {"title": title, "project_id": project, **plan_}
    return ok(client.post("/api/v1/tasks", json=body), 201)  # type: ignore[no-any-return]


def gantt(client: TestClient, live: bootstrap.Container, project: str) -> Any:
    return ok(client.get("/api/v1/views/gantt", params={"project": project}, headers=after(live)))


def planned(client: TestClient, live: bootstrap.Container, number: int) -> tuple[str, str]:
    found = ok(client.get(f"/api/v1/tasks/{number}", headers=after(live)))["planned"]
    return found["start"], found["finish"]


def test_a_project_works_monday_to_friday_until_its_managers_set_its_days(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Works"}), 201)["id"]
    assert calendar_of(client, live, project) == {
        "project_id": project, "standard": True, "working_weekdays": WEEK, "holidays": [],
        "extra_days": [],
    }  # fmt: skip
    # A manager sets it (days in any order; names in any case)
    put = client.put(
        f"/api/v1/projects/{project}/calendar",
        json={**CHRISTMAS, "working_weekdays": ["Friday", *WEEK[:4]]},
    )
    answer = ok(put)
    assert answer["holidays"] == ["2026-12-24", "2026-12-25"]
    assert answer["standard"] is False
    assert put.headers["ETag"]
    assert put.headers["X-Log-Position"]
    assert calendar_of(client, live, project) == answer
    # The project's own document moves to the same version: its ETag still writes
    read = client.get(f"/api/v1/projects/{project}", headers=after(live))
    assert read.headers["ETag"] == put.headers["ETag"]
    renamed = client.patch(
        f"/api/v1/projects/{project}", json={"name": "Works (days)"},
        headers={"If-Match": read.headers["ETag"]},
    )  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    # The month's calendar of the project marks its days
    month = ok(client.get("/api/v1/views/calendar", params={"month": "2026-12", "project": project},
                          headers=after(live)))["days"]  # fmt: skip
    working = {day["date"]: day["working_day"] for day in month}
    assert (working["2026-12-24"], working["2026-12-26"], working["2026-12-27"]) == (
        False, True, False,
    )  # fmt: skip
    every = ok(client.get("/api/v1/views/calendar", params={"month": "2026-12"},
                          headers=after(live)))["days"]  # fmt: skip
    assert {day["date"]: day["working_day"] for day in every}["2026-12-24"] is True
    # The same again records nothing
    head = live.app.head()
    ok(client.put(f"/api/v1/projects/{project}/calendar", json=CHRISTMAS))
    assert live.app.head() == head
    # A stale version is refused
    stale = client.put(
        f"/api/v1/projects/{project}/calendar", json={"working_weekdays": WEEK},
        headers={"If-Match": '"1"'},
    )  # fmt: skip
    assert stale.status_code == 412, stale.text


def test_a_bad_calendar_is_refused_naming_what_is_wrong_and_writes_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Strict"}), 201)["id"]
    url = f"/api/v1/projects/{project}/calendar"
    head = live.app.head()
    for body, said in [
        ({"working_weekdays": ["mon"]}, "'mon' is not a weekday"),
        ({"working_weekdays": []}, "working_weekdays"),
        ({"working_weekdays": WEEK, "holidays": ["2026-12-26"]}, "2026-12-26 is a saturday"),
        ({"working_weekdays": WEEK, "extra_days": ["2026-12-24"]}, "already a working weekday"),
        ({"working_weekdays": WEEK, "holidays": ["2026-13-01"]}, "holidays"),
    ]:
        answer = client.put(url, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert said in answer.text, (body, answer.text)
    assert live.app.head() == head
    missing = client.put(
        "/api/v1/projects/00000000-0000-4000-8000-000000000001/calendar", json=CHRISTMAS
    )
    assert missing.status_code == 404, missing.text


def test_only_the_projects_managers_set_its_calendar_and_only_members_read_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Shared"}), 201)["id"]
    member = {"Authorization": f"Bearer {user_token(live, 'member@example.com')}"}
    outsider = {"Authorization": f"Bearer {user_token(live, 'outsider@example.com')}"}
    member_id = ok(client.get("/api/v1/me", headers=member))["id"]
    url = f"/api/v1/projects/{project}"
    ok(client.put(f"{url}/members/{member_id}", json={"role": "lead"}))
    refused = client.put(f"{url}/calendar", json=CHRISTMAS, headers=member)
    assert refused.status_code == 403, refused.text
    assert "managers" in refused.json()["detail"]
    assert client.get(f"{url}/calendar", headers=after(live, member)).status_code == 200
    hidden = client.get(f"{url}/calendar", headers=after(live, outsider))
    assert hidden.status_code == 403, hidden.text


def test_tasks_are_planned_and_moved_in_the_projects_working_days(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Holidays"}), 201)["id"]
    before = new_task(client, project, "Planned before", start="2026-12-23", duration_days=3)
    assert (before["planned"]["start"], before["planned"]["finish"]) == (
        "2026-12-23", "2026-12-25",
    )  # fmt: skip
    ok(client.put(f"/api/v1/projects/{project}/calendar", json=CHRISTMAS))
    # Dates planned before stay as they are
    assert planned(client, live, before["number"]) == ("2026-12-23", "2026-12-25")
    # Three days from Wednesday 23rd: the 23rd, (24th, 25th off) Saturday 26th, Monday 28th
    dig = new_task(client, project, "Dig", start="2026-12-23", duration_days=3)
    assert (dig["planned"]["start"], dig["planned"]["finish"]) == ("2026-12-23", "2026-12-28")
    # A start on a holiday moves to the next working day
    build = new_task(client, project, "Build", start="2026-12-24", duration_days=2)
    assert (build["planned"]["start"], build["planned"]["finish"]) == (
        "2026-12-26", "2026-12-28",
    )  # fmt: skip
    # A link moves the successor by the project's days: the working day after the 28th
    linked = f"/api/v1/tasks/{build['number']}/dependencies"
    ok(client.post(linked, json={"predecessor": dig["number"]}), 201)
    assert planned(client, live, build["number"]) == ("2026-12-29", "2026-12-30")
    # Dragging the predecessor back moves the successor with it
    ok(client.post(f"/api/v1/tasks/{dig['number']}/reschedule", json={"start": "2026-12-22"}))
    assert planned(client, live, dig["number"]) == ("2026-12-22", "2026-12-26")
    assert planned(client, live, build["number"]) == ("2026-12-28", "2026-12-29")
    # A changed plan of the task planned before now counts the project's days
    ok(client.patch(f"/api/v1/tasks/{before['number']}", json={"duration_days": 2}))
    assert planned(client, live, before["number"]) == ("2026-12-23", "2026-12-26")
    # The Gantt counts slack and the finish in them too
    chart = gantt(client, live, project)
    assert chart["finish"] == "2026-12-29"
    slack = {t["title"]: t["slack_days"] for t in chart["tasks"]}
    # The finish is Tuesday 29th; "Planned before" ends on Saturday 26th: Monday 28th and
    # Tuesday 29th are its slack.
    assert slack == {"Planned before": 2, "Dig": 0, "Build": 0}
    assert chart["critical_path"] == [dig["number"], build["number"]]
    # Back to the standard calendar: the Gantt counts Monday to Friday again
    ok(client.put(f"/api/v1/projects/{project}/calendar", json={"working_weekdays": WEEK}))
    assert calendar_of(client, live, project)["standard"] is True
    again = gantt(client, live, project)
    # (Friday 25th works again: Dig ends on Thursday 24th, Build may take Friday 25th and
    # Monday 28th, and the plan ends a day earlier; the dates planned stay until changed)
    assert again["finish"] == "2026-12-28"
    assert {t["title"]: t["slack_days"] for t in again["tasks"]} == {
        "Planned before": 2, "Dig": 0, "Build": 0,
    }  # fmt: skip
    assert planned(client, live, build["number"]) == ("2026-12-28", "2026-12-29")


def test_a_plan_brings_its_calendar_and_the_export_takes_it_back_out(
    client: TestClient, live: bootstrap.Container
) -> None:
    # A four-day week (Monday to Thursday), Thursday 24th off, Friday 25th worked
    weekdays = "".join(
        f"<WeekDay><DayType>{n}</DayType><DayWorking>{int(2 <= n <= 5)}</DayWorking></WeekDay>"
        for n in range(1, 8)
    )
    exceptions = "".join(
        f"<Exception><TimePeriod><FromDate>{day}T00:00:00</FromDate><ToDate>{day}T23:59:00"
        f"</ToDate></TimePeriod><Occurrences>1</Occurrences><Type>1</Type>"
        f"<DayWorking>{working}</DayWorking></Exception>"
        for day, working in (("2026-12-24", 0), ("2026-12-25", 1))
    )
    body = (
        "<CalendarUID>1</CalendarUID><Calendars><Calendar><UID>1</UID><Name>Four days</Name>"
        f"<IsBaseCalendar>1</IsBaseCalendar><WeekDays>{weekdays}</WeekDays>"
        f"<Exceptions>{exceptions}</Exceptions></Calendar></Calendars>"
    )
    # Wednesday 23rd to Monday 28th: the 23rd, 25th and 28th, three days
    data = plan(
        task(1, 1, "Pour", start="2026-12-23", finish="2026-12-28", Duration="PT24H0M0S"),
        task(2, 1, "Cure", start="2026-12-29", finish="2026-12-29", preds=(1,)),
        body=body,
        name="Four days",
    )
    dry = ok(send(client, data, dry_run="true"))
    four_days = {"working_weekdays": WEEK[:4], "holidays": ["2026-12-24"],
                 "extra_days": ["2026-12-25"]}  # fmt: skip
    assert dry["calendar"] == four_days
    assert dry["warnings"] == [], dry
    done = ok(send(client, data), 201)
    assert done["calendar"] == four_days
    assert done["warnings"] == [], done
    project = done["project_id"]
    assert calendar_of(client, live, project) == {
        "project_id": project, "standard": False, **four_days,
    }  # fmt: skip
    numbers = {t["title"]: t["number"] for t in gantt(client, live, project)["tasks"]}
    assert planned(client, live, numbers["Pour"]) == ("2026-12-23", "2026-12-28")
    # The export writes the calendar: four working weekdays, the two exceptions
    exported = client.get(f"/api/v1/projects/{project}/export.xml", headers=after(live))
    assert exported.status_code == 200, exported.text
    root = ET.fromstring(exported.content)
    calendar = root.find("p:Calendars/p:Calendar", NS)
    assert calendar is not None
    working = [
        int(day.findtext("p:DayType", namespaces=NS) or 0)
        for day in calendar.iterfind("p:WeekDays/p:WeekDay", NS)
        if day.findtext("p:DayWorking", namespaces=NS) == "1"
    ]
    assert sorted(working) == [2, 3, 4, 5]  # Monday to Thursday (1 is Sunday)
    said = [
        (e.findtext("p:TimePeriod/p:FromDate", namespaces=NS)[:10],  # type: ignore[index]
         e.findtext("p:DayWorking", namespaces=NS))
        for e in calendar.iterfind("p:Exceptions/p:Exception", NS)
    ]  # fmt: skip
    assert said == [("2026-12-24", "0"), ("2026-12-25", "1")]
    # And importing the export into a new project gives the same calendar and dates
    back = ok(send(client, exported.content, "Four days again"), 201)
    assert back["calendar"] == four_days
    assert back["warnings"] == [], back
    again = {
        t["title"]: (t["planned"]["start"], t["planned"]["finish"], t["duration_days"])
        for t in gantt(client, live, back["project_id"])["tasks"]
    }
    assert again == {"Pour": ("2026-12-23", "2026-12-28", 3),
                     "Cure": ("2026-12-29", "2026-12-29", 1)}  # fmt: skip


def test_a_project_with_its_own_calendar_keeps_it_when_a_plan_brings_another(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Own days"}), 201)["id"]
    ok(client.put(f"/api/v1/projects/{project}/calendar", json=CHRISTMAS))
    body = (
        "<CalendarUID>1</CalendarUID><Calendars><Calendar><UID>1</UID><Name>Standard</Name>"
        "<IsBaseCalendar>1</IsBaseCalendar></Calendar></Calendars>"
    )
    data = plan(
        task(1, 1, "A", start="2026-12-23", finish="2026-12-28"),
        # Five days of the file's week; the 24th and 25th are off here
        task(2, 1, "B", start="2026-12-21", finish="2026-12-25", Duration="PT40H0M0S"),
        body=body,
    )
    done = ok(send(client, data, project), 201)
    assert done["calendar"] == {**CHRISTMAS, "holidays": ["2026-12-24", "2026-12-25"]}
    # The days are counted, and warned, as they are stored: in the project's calendar
    assert [(w["task"], w["message"]) for w in done["warnings"]] == [
        ("B", "2026-12-21 to 2026-12-25 falls on a day off: here 2026-12-21 to 2026-12-23"),
        ("B", "it lasts 5 working days in the file: here 3 (the working days from 2026-12-21"
              " to 2026-12-23)"),
        ("", "the project keeps its own calendar, which is not the file's: the plan's"
               " durations are counted in its working days"),
    ]  # fmt: skip
    assert calendar_of(client, live, project)["holidays"] == ["2026-12-24", "2026-12-25"]
    # The same file again: nothing more, and the same answer
    again = ok(send(client, data, project), 201)
    assert again["created"]["tasks"] == 0
    assert again["warnings"] == done["warnings"]
    stored = {
        t["title"]: (t["planned"]["start"], t["planned"]["finish"], t["duration_days"])
        for t in gantt(client, live, project)["tasks"]
    }
    assert stored == {"A": ("2026-12-23", "2026-12-28", 3), "B": ("2026-12-21", "2026-12-23", 3)}


def test_an_importer_who_does_not_manage_the_project_leaves_its_calendar(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Not mine"}), 201)["id"]
    member = {"Authorization": f"Bearer {user_token(live, 'planner@example.com')}"}
    member_id = ok(client.get("/api/v1/me", headers=member))["id"]
    ok(client.put(f"/api/v1/projects/{project}/members/{member_id}", json={"role": "lead"}))
    body = (
        "<CalendarUID>1</CalendarUID><Calendars><Calendar><UID>1</UID><Name>Six</Name>"
        "<IsBaseCalendar>1</IsBaseCalendar><WeekDays><WeekDay><DayType>7</DayType>"
        "<DayWorking>1</DayWorking></WeekDay></WeekDays></Calendar></Calendars>"
    )
    # Monday 2nd to Saturday 7th March: six days of the file's week
    data = plan(
        task(1, 1, "A", start="2026-03-02", finish="2026-03-07", Duration="PT48H0M0S"), body=body
    )
    done = ok(send(client, data, project, headers=after(live, member)), 201)
    assert done["calendar"]["working_weekdays"] == WEEK
    assert [w["message"] for w in done["warnings"]] == [
        "2026-03-02 to 2026-03-07 falls on a day off: here 2026-03-02 to 2026-03-06",
        "it lasts 6 working days in the file: here 5 (the working days from 2026-03-02 to"
        " 2026-03-06)",
        "the file's calendar is not kept (only the project's managers may set its calendar):"
        " the plan's durations are counted Monday to Friday",
    ]
    assert calendar_of(client, live, project)["standard"] is True
    [only] = gantt(client, live, project)["tasks"]
    assert (only["planned"]["start"], only["planned"]["finish"]) == ("2026-03-02", "2026-03-06")


def test_a_finish_on_a_day_off_ends_on_the_working_day_before(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Weekends"}), 201)["id"]
    bar = new_task(client, project, "Bar", start="2026-03-02", finish="2026-03-08")  # Sunday
    assert (bar["planned"]["start"], bar["planned"]["finish"], bar["planned"]["duration_days"]) == (
        "2026-03-02", "2026-03-06", 5,
    )  # fmt: skip
    # Dragged by a calendar day with its finish: Tuesday to Saturday is Tuesday to Friday
    moved = f"/api/v1/tasks/{bar['number']}/reschedule"
    ok(client.post(moved, json={"start": "2026-03-03", "finish": "2026-03-07"}))
    assert planned(client, live, bar["number"]) == ("2026-03-03", "2026-03-06")
    # Dragged by its start alone, it keeps its days
    ok(client.post(moved, json={"start": "2026-03-04"}))
    assert planned(client, live, bar["number"]) == ("2026-03-04", "2026-03-09")
    # A span of days off only is refused, naming it
    refused = client.patch(
        f"/api/v1/tasks/{bar['number']}", json={"start": "2026-03-07", "finish": "2026-03-08"}
    )
    assert refused.status_code == 422, refused.text
    assert "2026-03-07 to 2026-03-08 holds no working day" in refused.text
