"""Importing a Microsoft Project plan (MSPDI XML) over HTTP, and exporting a project as one,
on both backends: summary tasks become folders or parent tasks, each task keeps the file's
dates, duration, work, progress, milestone and constraint, links keep their kind and lag,
resources are matched to staff; what cannot be kept is a warning; the plan's dates are the
file's (nothing is rescheduled); the same file again adds nothing; a bad file writes
nothing and says what is wrong; and import -> export -> import gives the same plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.seeded_desk import after, ok

BASE = "/api/v1/imports/msproject"
NS = "http://schemas.microsoft.com/project"


def xml_task(
    uid: int, level: int, name: str, start: str, finish: str, days: float, **more: Any
) -> str:
    links = "".join(
        f"<PredecessorLink><PredecessorUID>{p}</PredecessorUID><Type>{kind}</Type>"
        f"<LinkLag>{lag}</LinkLag><LagFormat>{fmt}</LagFormat></PredecessorLink>"
        for p, kind, lag, fmt in more.pop("links", [])
    )
    extra = "".join(f"<{k}>{v}</{k}>" for k, v in more.items())
    hours = int(days * 8)
    return (
        f"<Task><UID>{uid}</UID><ID>{uid}</ID><Name>{name}</Name><OutlineLevel>{level}</OutlineLevel>"
        f"<Start>{start}T08:00:00</Start><Finish>{finish}T17:00:00</Finish>"
        f"<Duration>PT{hours}H0M0S</Duration>{extra}{links}</Task>"
    )


def plan_file(email: str) -> bytes:
    tasks = [
        "<Task><UID>0</UID><ID>0</ID><Name>Office move</Name><OutlineLevel>0</OutlineLevel>"
        "<Summary>1</Summary></Task>",
        xml_task(1, 1, "Preparation", "2026-03-02", "2026-03-13", 10, Summary=1),
        xml_task(2, 2, "Survey", "2026-03-02", "2026-03-04", 3, Summary=1),
        xml_task(
            3,
            3,
            "Measure rooms",
            "2026-03-02",
            "2026-03-03",
            2,
            Work="PT16H0M0S",
            PercentComplete=100,
            ActualStart="2026-03-02T08:00:00",
            ActualFinish="2026-03-03T17:00:00",
            Notes="Bring the laser",
        ),
        xml_task(
            4,
            3,
            "Draw plan",
            "2026-03-04",
            "2026-03-04",
            1,
            links=[(3, 1, 0, 7)],
            PercentComplete=50,
        ),
        xml_task(
            5,
            2,
            "Order crates",
            "2026-03-09",
            "2026-03-13",
            5,
            links=[(4, 1, 9600, 7)],
            ConstraintType=4,
            ConstraintDate="2026-03-09T08:00:00",
        ),  # fmt: skip  (FS + 2 days)
        xml_task(
            6,
            1,
            "Move day",
            "2026-03-16",
            "2026-03-16",
            0,
            links=[(5, 3, 50, 19)],
            Milestone=1,
            ConstraintType=2,
            ConstraintDate="2026-03-16T08:00:00",
        ),  # fmt: skip  (SS + 50 %)
        xml_task(
            7, 1, "Unpack", "2026-03-17", "2026-03-18", 2, links=[(1, 1, 0, 7)]
        ),  # fmt: skip  (from a summary that is a folder)
    ]
    resources = (
        "<Resources><Resource><UID>1</UID><ID>1</ID><Name>Someone</Name>"
        f"<EmailAddress>{email}</EmailAddress><Type>1</Type></Resource>"
        "<Resource><UID>2</UID><ID>2</ID><Name>Nobody Known</Name><Type>1</Type></Resource>"
        "</Resources>"
    )
    assignments = (
        "<Assignments>"
        "<Assignment><UID>1</UID><TaskUID>3</TaskUID><ResourceUID>1</ResourceUID></Assignment>"
        "<Assignment><UID>2</UID><TaskUID>4</TaskUID><ResourceUID>2</ResourceUID></Assignment>"
        "</Assignments>"
    )
    calendar = (
        "<Calendars><Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar>"
        "<WeekDays>"
        + "".join(
            f"<WeekDay><DayType>{d}</DayType><DayWorking>{int(1 < d < 7)}</DayWorking></WeekDay>"
            for d in range(1, 8)
        )
        + "</WeekDays></Calendar></Calendars>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Project xmlns="{NS}"><SaveVersion>14</SaveVersion>'
        "<Name>Office move.xml</Name><Title>Office move</Title><CalendarUID>1</CalendarUID>"
        "<MinutesPerDay>480</MinutesPerDay>"
        f"{calendar}<Tasks>{''.join(tasks)}</Tasks>{resources}{assignments}</Project>"
    ).encode()


def send(client: TestClient, data: bytes, **params: Any) -> Any:
    form = {"project": params.pop("project")} if "project" in params else None
    files = {"file": ("plan.xml", data, "application/xml")}
    return client.post(BASE, files=files, data=form, params=params)


def gantt(client: TestClient, live: bootstrap.Container, project_id: str) -> dict[str, Any]:
    return ok(
        client.get("/api/v1/views/gantt", params={"project": project_id}, headers=after(live))
    )


def test_a_plan_is_imported_as_the_file_has_it_once(
    client: TestClient, live: bootstrap.Container
) -> None:
    me = ok(client.get("/api/v1/me"))
    data = plan_file(me["email"])
    head = live.app.head()
    dry = send(client, data, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["created"] == {
        "tasks": 6, "subtasks": 2, "folders": 1, "links": 3, "assignments": 1,
    }  # fmt: skip
    assert live.app.head() == head  # A dry run writes nothing.

    done = send(client, data)
    assert done.status_code == 201, done.text
    result = done.json()
    assert result["project_created"] is True
    assert result["project_name"] == "Office move"
    assert result["created"] == dry.json()["created"]
    warnings = {(w["task_uid"], w["message"]) for w in result["warnings"]}
    assert (6, "its link from 'Order crates' lags 50% of 'Order crates''s duration:"
               " here 3 working days") in warnings  # fmt: skip
    assert any(uid == 7 and "became a folder" in m for uid, m in warnings)
    assert any(uid is None and "'Nobody Known' matches no active staff" in m for uid, m in warnings)

    chart = gantt(client, live, result["project_id"])
    tasks = {t["title"]: t for t in chart["tasks"]}
    assert set(tasks) == {
        "Survey",
        "Measure rooms",
        "Draw plan",
        "Order crates",
        "Move day",
        "Unpack",
    }
    survey, measure, draw = tasks["Survey"], tasks["Measure rooms"], tasks["Draw plan"]
    assert (measure["parent"], draw["parent"]) == (survey["number"], survey["number"])
    assert measure["planned"] == {"start": "2026-03-02", "finish": "2026-03-03"}
    assert (measure["percent_complete"], measure["work_hours"], measure["status"]) == (
        100, 16.0, "Done",
    )  # fmt: skip
    assert measure["actual"] == {"start": "2026-03-02", "finish": "2026-03-03"}
    assert measure["assignees"] == [me["id"]]
    crates = tasks["Order crates"]
    # The file's dates, not what the scheduler would make of them (the links and the
    # constraint would move nothing here, but nothing ran to check)
    assert crates["planned"] == {"start": "2026-03-09", "finish": "2026-03-13"}
    assert crates["constraint"] == {"kind": "start_no_earlier_than", "on": "2026-03-09"}
    move = tasks["Move day"]
    assert move["milestone"] is True
    assert move["constraint"] == {"kind": "must_start_on", "on": "2026-03-16"}
    links = {
        (k["predecessor"], k["successor"], k["kind"], k["lag_days"]) for k in chart["dependencies"]
    }
    assert links == {
        (measure["number"], draw["number"], "finish_to_start", 0),
        (draw["number"], crates["number"], "finish_to_start", 2),
        (crates["number"], move["number"], "start_to_start", 3),
    }
    item = ok(client.get(f"/api/v1/tasks/{measure['number']}", headers=after(live)))
    assert item["description"] == "Bring the laser"
    assert item["created_by"] == f"import:{result['import_id']}"
    folders = ok(client.get("/api/v1/folders", params={"project_id": result["project_id"]},
                            headers=after(live)))  # fmt: skip
    assert [f["name"] for f in folders["items"]] == ["Preparation"]
    preparation = folders["items"][0]["id"]
    for title in ("Survey", "Measure rooms", "Order crates"):
        placed = ok(client.get(f"/api/v1/tasks/{tasks[title]['number']}", headers=after(live)))
        assert placed["folder_id"] == preparation, title
    for title in ("Move day", "Unpack"):
        placed = ok(client.get(f"/api/v1/tasks/{tasks[title]['number']}", headers=after(live)))
        assert placed["folder_id"] is None, title

    # The same file again: nothing more.
    head = live.app.head()
    again = send(client, data)
    assert again.status_code == 201, again.text
    assert again.json()["created"]["tasks"] == 0
    assert again.json()["project_id"] == result["project_id"]
    assert live.app.head() == head
    # Into the project by name: the tasks made before are there; nothing more either.
    named = send(client, data, project="Office move")
    assert named.status_code == 201, named.text
    assert (named.json()["created"]["tasks"], named.json()["existing"]) == (0, 6)


def test_export_then_import_gives_the_same_plan(
    client: TestClient, live: bootstrap.Container
) -> None:
    me = ok(client.get("/api/v1/me"))
    first = ok(send(client, plan_file(me["email"])), 201)
    exported = client.get(f"/api/v1/projects/{first['project_id']}/export.xml", headers=after(live))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/xml")
    assert b"<Project" in exported.content
    second = ok(send(client, exported.content, project="Office move again"), 201)
    assert second["project_created"] is True
    assert second["created"] == {**first["created"], "links": 3}

    def shape(project_id: str) -> Any:
        chart = gantt(client, live, project_id)
        title = {t["number"]: t["title"] for t in chart["tasks"]}
        tasks = sorted(
            (t["title"], title.get(t["parent"]), t["planned"]["start"], t["planned"]["finish"],
             t["milestone"], t["constraint"]["kind"], t["constraint"]["on"],
             t["percent_complete"], t["work_hours"], tuple(t["assignees"]))
            for t in chart["tasks"]
        )  # fmt: skip
        links = sorted(
            (title[k["predecessor"]], title[k["successor"]], k["kind"], k["lag_days"])
            for k in chart["dependencies"]
        )
        return tasks, links

    assert shape(second["project_id"]) == shape(first["project_id"])


def test_a_file_that_is_not_a_plan_writes_nothing_and_says_why(
    client: TestClient, live: bootstrap.Container
) -> None:
    head = live.app.head()
    for data, said in [
        (b"not xml at all", "not"),
        (b"<Workbook/>", "Project"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "MPXJ"),  # not a plan
    ]:
        answer = send(client, data)
        assert answer.status_code in (415, 422), answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert said in answer.json()["detail"]
    assert live.app.head() == head


def test_a_plan_microsoft_project_saved_imports_with_its_links(
    client: TestClient, live: bootstrap.Container
) -> None:
    """The sample Project 2003 saved (tests/data/msproject): 16 tasks in pairs, each second
    linked to the first with every kind of link and lags of days and weeks."""
    data = (
        Path(__file__).parents[1] / "data/msproject/task-links-project2003-mspdi.xml"
    ).read_bytes()
    done = ok(send(client, data, project="Links sample"), 201)
    assert done["created"]["tasks"] == 16
    assert done["created"]["links"] == 8
    chart = gantt(client, live, done["project_id"])
    lags = sorted((k["kind"], k["lag_days"]) for k in chart["dependencies"])
    assert lags == sorted(
        [("finish_to_start", n) for n in (0, 1, 2, 5, 10)]
        + [("start_to_finish", 2), ("start_to_start", 2), ("finish_to_finish", 2)]
    )
