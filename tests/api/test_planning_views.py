"""The planning views over HTTP: Gantt (JSON, SVG, baselines), status board, calendar."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token

VIEWS = "/api/v1/views"
SVG = "{http://www.w3.org/2000/svg}"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Planner:
    """Writes through the API as one caller and reads back at the newest log position."""

    def __init__(self, client: TestClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}
        self.position = "0"

    def write(self, method: str, url: str, expect: int = 200, /, **body: Any) -> Any:
        response = self.client.request(method, url, json=body, headers=self.headers)
        self.position = response.headers.get("X-Log-Position", self.position)
        return ok(response, expect)

    def project(self, name: str) -> str:
        return str(self.write("POST", "/api/v1/projects", 201, name=name)["id"])

    def task(self, title: str, project: str, **plan: Any) -> int:
        created = self.write("POST", "/api/v1/tasks", 201, title=title, project_id=project, **plan)
        return int(created["number"])

    def read(self, path: str, **params: Any) -> Any:
        return self.client.get(
            VIEWS + path, params=params, headers={**self.headers, "X-Min-Position": self.position}
        )


def site(p: Planner) -> tuple[str, dict[str, int]]:
    """Dig (3 days) → Build (2 days) → Handover (milestone); Paint (1 day) beside them."""
    project = p.project("Site")
    n = {
        "dig": p.task("Dig", project, start="2026-03-02", duration_days=3),
        "build": p.task("Build", project, start="2026-03-05", duration_days=2),
        "paint": p.task("Paint", project, start="2026-03-02", duration_days=1),
        "handover": p.task("Handover", project, start="2026-03-09", milestone=True),
    }
    p.write("POST", f"/api/v1/tasks/{n['build']}/dependencies", 201, predecessor=n["dig"])
    p.write("POST", f"/api/v1/tasks/{n['handover']}/dependencies", 201, predecessor=n["build"])
    p.write("PATCH", f"/api/v1/tasks/{n['build']}", percent_complete=40)
    return project, n


def test_the_gantt_shows_tasks_dependencies_slack_and_the_critical_path(
    client: TestClient,
) -> None:
    p = Planner(client)
    project, n = site(p)
    chart = ok(p.read("/gantt", project=project))
    tasks = {t["number"]: t for t in chart["tasks"]}
    assert chart["project_id"] == project
    assert chart["critical_path"] == [n["dig"], n["build"], n["handover"]]
    assert [(d["predecessor"], d["successor"]) for d in chart["dependencies"]] == [
        (n["dig"], n["build"]),
        (n["build"], n["handover"]),
    ]
    assert tasks[n["paint"]]["critical"] is False
    assert tasks[n["paint"]]["slack_days"] == 5
    assert tasks[n["build"]]["percent_complete"] == 40
    assert tasks[n["build"]]["planned"] == {"start": "2026-03-05", "finish": "2026-03-06"}
    assert tasks[n["handover"]]["milestone"] is True
    assert chart["finish"] == "2026-03-09"


def test_a_baseline_shows_the_plan_as_it_was_before_it_changed(client: TestClient) -> None:
    p = Planner(client)
    project, n = site(p)
    other = p.project("Elsewhere")
    n["fence"] = p.task("Fence", project, start="2026-03-03", duration_days=1)
    moment = datetime.now(UTC)
    p.write("PATCH", f"/api/v1/tasks/{n['paint']}", start="2026-03-16", duration_days=2)
    p.task("Snagging", project, start="2026-03-10", duration_days=1)
    p.write("PATCH", f"/api/v1/tasks/{n['fence']}", project_id=other)
    now = {t["number"]: t for t in ok(p.read("/gantt", project=project))["tasks"]}
    then_chart = ok(p.read("/gantt", project=project, as_of=moment.isoformat()))
    then = {t["number"]: t for t in then_chart["tasks"]}
    assert now[n["paint"]]["planned"] == {"start": "2026-03-16", "finish": "2026-03-17"}
    assert then[n["paint"]]["planned"] == {"start": "2026-03-02", "finish": "2026-03-02"}
    # Created since: not in the baseline. Moved away since: still in it.
    assert sorted(then) == sorted(n.values())
    assert n["fence"] not in now
    assert then_chart["critical_path"] == [n["dig"], n["build"], n["handover"]]
    assert then_chart["as_of"] is not None
    naive = p.read("/gantt", project=project, as_of="2026-03-01T10:00:00")
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["location"] == ["query", "as_of"]


def test_a_baseline_leaves_out_tasks_now_where_the_caller_cannot_see(
    client: TestClient, live: bootstrap.Container
) -> None:
    p = Planner(client)
    project = p.project("Here")
    hidden = p.project("Elsewhere")
    headers = {"Authorization": f"Bearer {user_token(live, 'lena@example.com')}"}
    lena = ok(client.get("/api/v1/me", headers=headers))["id"]
    p.write("PUT", f"/api/v1/projects/{project}/members/{lena}", role="standard")
    stays = p.task("Stays", project, start="2026-03-02", duration_days=1)
    leaves = p.task("Leaves", project, start="2026-03-02", duration_days=1)
    moment = datetime.now(UTC)
    p.write("PATCH", f"/api/v1/tasks/{leaves}", project_id=hidden)
    member = Planner(client, headers)
    member.position = p.position
    theirs = ok(member.read("/gantt", project=project, as_of=moment.isoformat()))
    assert [t["number"] for t in theirs["tasks"]] == [stays]
    mine = ok(p.read("/gantt", project=project, as_of=moment.isoformat()))
    assert sorted(t["number"] for t in mine["tasks"]) == [stays, leaves]


def test_the_gantt_svg_is_well_formed_and_shows_titles_as_text(client: TestClient) -> None:
    p = Planner(client)
    project, n = site(p)
    hostile = '<script>alert("x")</script> & co'
    p.write("PATCH", f"/api/v1/tasks/{n['paint']}", title=hostile)
    response = p.read("/gantt.svg", project=project)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "<script" not in response.text
    root = ET.fromstring(response.content)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    assert not list(root.iter(f"{SVG}script"))
    assert not list(root.iter("script"))
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert f"#{n['paint']} {hostile}" in labels
    tasks = [g for g in root.iter(f"{SVG}g") if "task" in g.get("class", "")]
    assert len(tasks) == 4
    assert sum("critical" in g.get("class", "") for g in tasks) == 3
    assert len(list(root.iter(f"{SVG}polygon"))) == 1  # the milestone's diamond
    assert len([e for e in root.iter(f"{SVG}path") if e.get("class") == "link"]) == 2
    assert [e for e in root.iter(f"{SVG}rect") if e.get("class") == "progress"]


def test_moving_a_card_records_a_status_change_and_shows_on_the_board(
    client: TestClient, live: bootstrap.Container
) -> None:
    p = Planner(client)
    project, n = site(p)
    moved = client.post(f"{VIEWS}/status-board/moves", json={"number": n["dig"], "status": "done"})
    card = ok(moved)
    assert (card["number"], card["status"], card["kind"]) == (n["dig"], "Done", "task")
    p.position = moved.headers["X-Log-Position"]
    board = ok(p.read("/status-board", project=project))
    columns = {c["status"]: [card["number"] for card in c["cards"]] for c in board["columns"]}
    assert columns == {
        "Not started": [n["build"], n["paint"], n["handover"]],
        "In progress": [],
        "On hold": [],
        "Done": [n["dig"]],
    }
    history = ok(
        client.get(f"/api/v1/tasks/{n['dig']}/history", headers={"X-Min-Position": p.position})
    )
    assert history[-1]["type"] == "Ticket.StatusChanged"
    assert history[-1]["changes"] == {"status": "Done", "state": "finished"}
    unknown = client.post(f"{VIEWS}/status-board/moves", json={"number": n["dig"], "status": "Zzz"})
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert live.runner.verify("status_board") == []
    assert live.runner.verify("gantt") == []


def test_a_converted_ticket_leaves_the_ticket_board_and_its_task_shows(
    client: TestClient,
) -> None:
    p = Planner(client)
    project = p.project("Desk")
    keep = int(p.write("POST", "/api/v1/tickets", 201, title="Keep", project_id=project)["number"])
    going = int(p.write("POST", "/api/v1/tickets", 201, title="Plan", project_id=project)["number"])
    task = int(p.write("POST", f"/api/v1/tickets/{going}/conversion", 201)["number"])
    tickets = ok(p.read("/status-board", project=project, kind="ticket"))
    tasks = ok(p.read("/status-board", project=project))
    assert [card["number"] for card in tickets["columns"][0]["cards"]] == [keep]
    assert [card["number"] for card in tasks["columns"][0]["cards"]] == [task]
    chart = ok(p.read("/gantt", project=project))
    assert [(t["number"], t["converted_from_ticket"]) for t in chart["tasks"]] == [(task, going)]


def test_a_board_column_pages_and_names_its_parameters_when_wrong(client: TestClient) -> None:
    p = Planner(client)
    project = p.project("Big")
    for i in range(5):
        p.task(f"T{i}", project)
    first = ok(p.read("/status-board", project=project, limit=2, status="not started"))
    assert [c["status"] for c in first["columns"]] == ["Not started"]
    assert first["columns"][0]["count"] == 5
    numbers = [card["number"] for card in first["columns"][0]["cards"]]
    cursor = first["columns"][0]["next_cursor"]
    while cursor:
        page = ok(p.read("/status-board", project=project, limit=2, cursor=cursor))
        numbers += [card["number"] for card in page["columns"][0]["cards"]]
        cursor = page["columns"][0]["next_cursor"]
    assert numbers == sorted(numbers)
    assert len(numbers) == 5
    for params, name in (
        ({"status": "Sleeping"}, "status"),
        ({"cursor": "nope"}, "cursor"),
        ({"kind": "epic"}, "kind"),
        ({"limit": 0}, "limit"),
    ):
        bad = p.read("/status-board", project=project, **params)
        assert bad.status_code == 422, params
        assert bad.json()["errors"][0]["location"][-1] == name


def test_the_calendar_lists_a_months_tasks_and_refuses_a_bad_month(client: TestClient) -> None:
    p = Planner(client)
    project, n = site(p)
    april = p.task("Inspect", project, start="2026-03-31", duration_days=2)
    p.write("PATCH", f"/api/v1/tasks/{n['dig']}", actual_start="2026-04-01")
    month = ok(p.read("/calendar", month="2026-04"))
    assert month["month"] == "2026-04"
    assert len(month["days"]) == 30
    assert month["days"][3] == {"date": "2026-04-04", "working_day": False}
    assert [i["number"] for i in month["items"]] == [n["dig"], april]
    assert month["items"][1]["planned"] == {"start": "2026-03-31", "finish": "2026-04-01"}
    march = ok(p.read("/calendar", month="2026-03", project=project))
    assert len(march["items"]) == 5
    for bad in ("2026-13", "april", "2026-4"):
        response = p.read("/calendar", month=bad)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["location"] == ["query", "month"]


def test_the_calendar_shows_a_tickets_resolution_target_beside_the_tasks(
    client: TestClient,
) -> None:
    p = Planner(client)
    project, _n = site(p)
    policy = p.write(
        "POST", "/api/v1/sla-policies", 201,
        name="Fast", targets={"urgent": {"resolution": 60 * 24 * 3}},
    )  # fmt: skip
    ticket = p.write("POST", "/api/v1/tickets", 201, title="Leak", project_id=project,
                     priority="urgent")  # fmt: skip
    plain = p.write("POST", "/api/v1/tickets", 201, title="No target", project_id=project)
    held = p.write("PUT", f"/api/v1/items/{ticket['number']}/sla", policy_id=policy["id"])
    opened = ticket["created_at"][:10]
    due = held["metrics"]["resolution"]["due_at"][:10]
    month = opened[:7]
    items = ok(p.read("/calendar", month=month))["items"]
    tickets = [i for i in items if i["kind"] == "ticket"]
    assert tickets == [
        {
            "kind": "ticket",
            "number": ticket["number"],
            "title": "Leak",
            "project_id": project,
            "planned": {"start": opened, "finish": due},
            "actual": {"start": opened, "finish": None},
            "milestone": False,
        }
    ]  # the ticket held to no resolution target has no dates
    assert plain["number"] not in [i["number"] for i in items]
    assert ok(p.read("/calendar", month=month, kind="task"))["items"] == [
        i for i in items if i["kind"] == "task"
    ]
    march = ok(p.read("/calendar", month="2026-03", kind="ticket"))["items"]
    assert march == ([] if month != "2026-03" else tickets)
    # Tickets and tasks page together by first day then number.
    p.task("Mend", project, start=opened, duration_days=1)
    items = ok(p.read("/calendar", month=month))["items"]
    assert sorted(i["kind"] for i in items) == ["task", "ticket"]
    paged, cursor = [], None
    while True:
        page = ok(
            p.read("/calendar", month=month, limit=1, **({"cursor": cursor} if cursor else {}))
        )
        paged += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert paged == items
    assert p.read("/calendar", month=month, kind="story").status_code == 422
    # Unresolved, it stays on the calendar in the months after its target; held to no
    # policy, it has no dates.
    later = (date.fromisoformat(due) + timedelta(days=40)).isoformat()[:7]
    assert [i["number"] for i in ok(p.read("/calendar", month=later, kind="ticket"))["items"]] == [
        ticket["number"]
    ]
    p.write("PUT", f"/api/v1/items/{ticket['number']}/sla", policy_id=None)
    assert ok(p.read("/calendar", month=month, kind="ticket"))["items"] == []


def test_the_ics_feed_has_one_all_day_event_per_planned_task(client: TestClient) -> None:
    p = Planner(client)
    project, n = site(p)
    p.task("Someday", project)  # no dates: no event
    response = p.read("/calendar.ics", project=project)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    feed = icalendar.Calendar.from_ical(response.content)
    events = {str(e["SUMMARY"]): e for e in feed.walk("VEVENT")}
    assert sorted(events) == ["#1 Dig", "#2 Build", "#3 Paint", "#4 Handover"]
    build = events[f"#{n['build']} Build"]
    assert build.decoded("DTSTART") == date(2026, 3, 5)
    assert build.decoded("DTEND") == date(2026, 3, 7)  # exclusive: the day after Friday
    task = ok(client.get(f"/api/v1/tasks/{n['build']}"))
    assert str(build["UID"]) == task["id"]
    assert build.decoded("DTSTAMP").tzinfo is not None
    again = p.read("/calendar.ics", project=project)
    assert again.content == response.content  # DTSTAMP comes from the task, not the clock


def test_outsiders_get_404_and_tickets_only_users_403(
    client: TestClient, live: bootstrap.Container
) -> None:
    p = Planner(client)
    project, n = site(p)
    outsider = Planner(client, {"Authorization": f"Bearer {user_token(live, 'out@example.com')}"})
    outsider.position = p.position
    for path, params in (
        ("/gantt", {"project": project}),
        ("/gantt.svg", {"project": project}),
        ("/status-board", {"project": project}),
        ("/calendar", {"month": "2026-03", "project": project}),
        ("/calendar.ics", {"project": project}),
    ):
        response = outsider.read(path, **params)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert ok(outsider.read("/calendar", month="2026-03"))["items"] == []
    feed = icalendar.Calendar.from_ical(outsider.read("/calendar.ics").content)
    assert feed.walk("VEVENT") == []
    moved = client.post(
        f"{VIEWS}/status-board/moves",
        json={"number": n["dig"], "status": "Done"},
        headers=outsider.headers,
    )
    assert moved.status_code == 404
    unknown = p.read("/gantt", project="00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404

    member_token = user_token(live, "member@example.com")
    member = Planner(client, {"Authorization": f"Bearer {member_token}"})
    member_id = ok(client.get("/api/v1/me", headers=member.headers))["id"]
    p.write("PUT", f"/api/v1/projects/{project}/members/{member_id}", role="standard")
    member.position = p.position
    assert len(ok(member.read("/gantt", project=project))["tasks"]) == 4
    p.write("PATCH", f"/api/v1/users/{member_id}", apps="tickets")
    member.position = p.position
    for path, params in (
        ("/gantt", {"project": project}),
        ("/calendar", {"month": "2026-03", "kind": "task"}),
        ("/calendar.ics", {}),
        ("/status-board", {"project": project, "kind": "task"}),
    ):
        assert member.read(path, **params).status_code == 403, path
    # With no kind named, the calendar shows what the caller's apps show: tickets only.
    assert ok(member.read("/calendar", month="2026-03"))["items"] == []
    assert ok(member.read("/status-board", project=project, kind="ticket"))["kind"] == "ticket"


def test_the_status_board_as_of_a_moment_shows_the_cards_as_they_were_then(
    client: TestClient,
) -> None:
    import time
    from datetime import UTC, datetime

    p = Planner(client)
    project = p.project("Desk")
    keep = int(p.write("POST", "/api/v1/tickets", 201, title="Keep", project_id=project)["number"])
    going = int(p.write("POST", "/api/v1/tickets", 201, title="Plan", project_id=project)["number"])
    time.sleep(0.05)
    before = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    p.write("PATCH", f"/api/v1/tickets/{keep}", 200, status="Open")
    p.write("POST", f"/api/v1/tickets/{going}/conversion", 201)
    later = int(
        p.write("POST", "/api/v1/tickets", 201, title="Later", project_id=project)["number"]
    )

    def columns(board: dict[str, Any]) -> dict[str, list[int]]:
        return {c["status"]: [card["number"] for card in c["cards"]] for c in board["columns"]}

    now = columns(ok(p.read("/status-board", project=project, kind="ticket")))
    assert (now["New"], now["Open"]) == ([later], [keep])
    then = ok(p.read("/status-board", project=project, kind="ticket", as_of=before))
    assert then["as_of"].startswith(before[:19])
    assert columns(then)["New"] == [keep, going]
    assert columns(then)["Open"] == []
    assert ok(p.read("/status-board", project=project, kind="ticket")).get("as_of") is None


def test_the_board_as_of_a_moment_has_the_cards_moved_out_of_the_project_since(
    client: TestClient,
) -> None:
    import time
    from datetime import UTC, datetime

    p = Planner(client)
    desk, other = p.project("Desk"), p.project("Other")
    moved = int(p.write("POST", "/api/v1/tickets", 201, title="Moved", project_id=desk)["number"])
    time.sleep(0.05)
    before = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    p.write("PATCH", f"/api/v1/tickets/{moved}", 200, project_id=other)
    now = ok(p.read("/status-board", project=desk, kind="ticket"))
    assert all(not c["cards"] for c in now["columns"])
    then = ok(p.read("/status-board", project=desk, kind="ticket", as_of=before))
    assert [card["number"] for card in then["columns"][0]["cards"]] == [moved]
