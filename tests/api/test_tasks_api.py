"""The task API through the real app, on SQLite and PostgreSQL: plan, dependencies and
rescheduling, subtasks, conversion from a ticket with redirects, recurrence rules."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token

PROBLEM = "application/problem+json"

NO_SLA = {
    "policy": None,
    "state": None,
    "next_due": None,
    "due": None,
}  # an item held to no SLA policy


LAST: dict[str, str] = {}


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Replace the fuser")
    response = client.post("/api/v1/tasks", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/v1/tasks/{response.json()['number']}"
    LAST["position"] = response.headers["X-Log-Position"]
    return response.json()  # type: ignore[no-any-return]


def read(client: TestClient, path: str, position: str | None = None) -> Any:
    headers = {"X-Min-Position": position} if position else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_task_has_a_plan_in_working_days(client: TestClient) -> None:
    # 2026-12-04 is a Friday: 3 working days end on Tuesday.
    task = create(client, start="2026-12-04", duration_days=3, points=5, work_hours=12)
    assert task["kind"] == "task"
    assert task["status"] == "Not started"
    assert task["planned"] == {"start": "2026-12-04", "finish": "2026-12-08", "duration_days": 3}
    assert task["constraint"] == {"kind": "as_soon_as_possible", "on": None}
    assert (task["points"], task["work_hours"], task["percent_complete"]) == (5, 12, 0)
    response = client.patch(
        f"/api/v1/tasks/{task['number']}",
        json={"percent_complete": 40, "actual_start": "2026-12-04", "status": "in progress"},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["percent_complete"] == 40
    assert changed["actual"] == {"start": "2026-12-04", "finish": None}
    assert changed["status"] == "In progress"
    again = read(client, f"/api/v1/tasks/{task['number']}", response.headers["X-Log-Position"])
    assert again == {**changed, "sla": NO_SLA}  # the read adds the SLA


def test_bad_plans_are_refused_and_append_nothing(client: TestClient) -> None:
    task = create(client, start="2026-12-01", duration_days=2)
    path = f"/api/v1/tasks/{task['number']}"
    for body, field in (
        ({"start": "2026-12-10", "finish": "2026-12-01"}, "finish"),
        ({"constraint": "whenever"}, "constraint"),
        ({"constraint": "must_start_on"}, "constraint_date"),
        ({"percent_complete": 101}, "percent_complete"),
    ):
        response = client.patch(path, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == PROBLEM
        assert field in response.text
    assert read(client, path, LAST["position"])["version"] == task["version"]


def test_successors_move_with_their_predecessor(client: TestClient) -> None:
    design = create(client, title="Design", start="2026-12-01", duration_days=3)  # Tue-Thu
    build = create(client, title="Build", start="2026-12-01", duration_days=2)
    test = create(client, title="Test", start="2026-12-01", duration_days=1)
    linked = client.post(
        f"/api/v1/tasks/{build['number']}/dependencies",
        json={"predecessor": design["number"], "kind": "finish_to_start", "lag_days": 1},
    )
    assert linked.status_code == 201, linked.text
    # Design finishes Thu 3rd; the next working day is Fri 4th, plus 1 day of lag: Mon 7th.
    assert linked.json()["planned"]["start"] == "2026-12-07"
    assert linked.json()["predecessors"] == [
        {"number": design["number"], "kind": "finish_to_start", "lag_days": 1}
    ]
    client.post(
        f"/api/v1/tasks/{test['number']}/dependencies", json={"predecessor": build["number"]}
    )
    # Dragging the design bar a week later moves both successors in the same write.
    dragged = client.post(
        f"/api/v1/tasks/{design['number']}/reschedule", json={"start": "2026-12-08"}
    )
    assert dragged.status_code == 200, dragged.text
    assert dragged.json()["constraint"] == {"kind": "start_no_earlier_than", "on": "2026-12-08"}
    position = dragged.headers["X-Log-Position"]
    assert read(client, f"/api/v1/tasks/{build['number']}", position)["planned"] == {
        "start": "2026-12-14",
        "finish": "2026-12-15",
        "duration_days": 2,
    }
    assert read(client, f"/api/v1/tasks/{test['number']}", position)["planned"]["start"] == (
        "2026-12-16"
    )
    history = read(client, f"/api/v1/tasks/{test['number']}/history", position)
    moved = [e for e in history if e["type"] == "Task.Scheduled"]
    assert moved[-1]["changes"]["cause"] == "dependency"


def test_a_dependency_cycle_is_refused_naming_it(client: TestClient) -> None:
    a, b, c = (create(client, title=t, start="2026-12-01") for t in "abc")
    for successor, predecessor in ((b, a), (c, b)):
        response = client.post(
            f"/api/v1/tasks/{successor['number']}/dependencies",
            json={"predecessor": predecessor["number"]},
        )
        assert response.status_code == 201
        LAST["position"] = response.headers["X-Log-Position"]
    closing = client.post(
        f"/api/v1/tasks/{a['number']}/dependencies", json={"predecessor": c["number"]}
    )
    assert closing.status_code == 409
    assert closing.headers["content-type"] == PROBLEM
    assert f"#{a['number']}" in closing.json()["detail"]
    assert "cycle" in closing.json()["detail"]
    itself = client.post(
        f"/api/v1/tasks/{a['number']}/dependencies", json={"predecessor": a["number"]}
    )
    assert itself.status_code in (409, 422)
    assert read(client, f"/api/v1/tasks/{a['number']}", LAST["position"])["predecessors"] == []
    removed = client.delete(f"/api/v1/tasks/{c['number']}/dependencies/{b['number']}")
    assert removed.status_code == 200
    assert removed.json()["predecessors"] == []
    by_query = client.delete(
        f"/api/v1/tasks/{b['number']}/dependencies", params={"predecessor": a["number"]}
    )
    assert by_query.status_code == 200
    assert by_query.json()["predecessors"] == []


def test_subtasks_are_one_level_deep(client: TestClient) -> None:
    parent = create(client, title="Parent")
    child = create(client, title="Child", parent=parent["number"])
    assert child["parent"] == parent["number"]
    position = LAST["position"]
    grandchild = client.post("/api/v1/tasks", json={"title": "Too deep", "parent": child["number"]})
    assert grandchild.status_code == 422
    assert "subtask" in grandchild.json()["detail"]
    assert read(client, f"/api/v1/tasks/{parent['number']}", position)["subtasks"] == [
        child["number"]
    ]
    released = client.patch(f"/api/v1/tasks/{child['number']}", json={"parent": 0})
    assert released.status_code == 200
    assert released.json()["parent"] is None


def test_conversion_carries_the_ticket_and_redirects_its_number(client: TestClient) -> None:
    opened = client.post(
        "/api/v1/tickets", json={"title": "Set up VPN", "requester_email": "ada@example.com"}
    ).json()
    old = opened["number"]
    posted = client.post(
        f"/api/v1/tickets/{old}/messages", json={"body": "Please hurry", "visibility": "customer"}
    )
    assert posted.status_code == 201
    me = client.get("/api/v1/me").json()["id"]
    client.put(f"/api/v1/tickets/{old}/assignees/{me}")
    converted = client.post(f"/api/v1/tickets/{old}/conversion")
    assert converted.status_code == 201, converted.text
    task = converted.json()
    new = task["number"]
    assert new != old
    assert converted.headers["Location"] == f"/api/v1/tasks/{new}"
    assert task["converted_from_ticket"] == old
    assert task["requester_email"] == "ada@example.com"
    assert task["assignees"] == [me]
    assert [m["body"] for m in task["messages"]] == ["Please hurry"]
    position = converted.headers["X-Log-Position"]
    assert read(client, f"/api/v1/tasks/{new}", position)["messages"] == task["messages"]
    # Every path under the old number answers 308 to the same path under the task.
    for method, path in (
        ("GET", f"/api/v1/tickets/{old}"),
        ("GET", f"/api/v1/tickets/{old}/history"),
        ("PATCH", f"/api/v1/tickets/{old}"),
        ("POST", f"/api/v1/tickets/{old}/messages"),
    ):
        body = {"body": "x", "visibility": "internal"} if path.endswith("messages") else {}
        response = client.request(
            method,
            path,
            json=body if method != "GET" else None,
            headers={"X-Min-Position": position},
            follow_redirects=False,
        )
        assert response.status_code == 308, (method, path, response.text)
        assert response.headers["Location"] == path.replace(f"/tickets/{old}", f"/tasks/{new}")
    again = client.post(f"/api/v1/tickets/{old}/conversion")
    assert again.status_code == 409
    # The task's history starts with the ticket's; views show the task once.
    history = read(client, f"/api/v1/tasks/{new}/history", position)
    types = [e["type"] for e in history]
    assert types[0] == "Ticket.Opened"
    assert "Ticket.ConvertedToTask" in types
    assert types.index("Ticket.ConvertedToTask") < types.index("Task.Planned")
    flat = read(client, "/api/v1/views/flat", position)["items"]
    numbers = [i["number"] for i in flat]
    assert new in numbers
    assert old not in numbers
    assert next(i for i in flat if i["number"] == new)["converted_from_ticket"] == old


def test_a_recurrence_is_checked_and_can_be_stopped(client: TestClient) -> None:
    task = create(client, start="2026-12-07")
    path = f"/api/v1/tasks/{task['number']}/recurrence"
    bad = client.put(path, json={"frequency": "weekly", "count": 3, "until": "2027-01-01"})
    assert bad.status_code == 422
    response = client.put(path, json={"frequency": "weekly", "weekdays": ["MO", "TH"], "count": 4})
    assert response.status_code == 200, response.text
    assert response.json()["recurrence"]["starts"] == "2026-12-07"
    assert response.json()["recurrence"]["weekdays"] == ["MO", "TH"]
    stopped = client.delete(path)
    assert stopped.status_code == 200
    assert stopped.json()["recurrence"] is None
    clone = client.post(
        f"/api/v1/tasks/{task['number']}/clone", json={"recurrence": {"frequency": "daily"}}
    )
    assert clone.status_code == 201, clone.text
    assert clone.json()["title"] == task["title"]
    assert clone.json()["recurrence"]["frequency"] == "daily"


def test_a_ticket_number_is_not_a_task_and_back(client: TestClient) -> None:
    ticket = client.post("/api/v1/tickets", json={"title": "t"}).json()
    task = create(client)
    fresh = {"X-Min-Position": LAST["position"]}
    assert client.get(f"/api/v1/tasks/{ticket['number']}", headers=fresh).status_code == 404
    assert client.get(f"/api/v1/tickets/{task['number']}", headers=fresh).status_code == 404
    patched = client.patch(f"/api/v1/tasks/{ticket['number']}", json={"title": "x"})
    assert patched.status_code == 404


def _member(client: TestClient, live: bootstrap.Container, email: str, project: str, role: str):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {user_token(live, email)}"}
    user_id = client.get("/api/v1/me", headers=headers).json()["id"]
    client.put(f"/api/v1/projects/{project}/members/{user_id}", json={"role": role})
    return headers


def test_linking_or_nesting_changes_the_other_task_too_so_needs_rights_on_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = client.post("/api/v1/projects", json={"name": "Shared"}).json()["id"]
    others = create(client, title="Not yours", project_id=project)  # The admin's task.
    standard = _member(client, live, "sam@example.com", project, "standard")
    mine = client.post(
        "/api/v1/tasks", json={"title": "Mine", "project_id": project}, headers=standard
    )
    assert mine.status_code == 201, mine.text
    path = f"/api/v1/tasks/{mine.json()['number']}"
    for response in (
        client.post(
            f"{path}/dependencies", json={"predecessor": others["number"]}, headers=standard
        ),
        client.patch(path, json={"parent": others["number"]}, headers=standard),
        client.post(
            "/api/v1/tasks",
            json={"title": "Child", "project_id": project, "parent": others["number"]},
            headers=standard,
        ),
    ):
        assert response.status_code == 403, response.text
    position = mine.headers["X-Log-Position"]
    assert read(client, f"/api/v1/tasks/{others['number']}", position)["version"] == 1


def test_an_outsider_learns_nothing_from_if_match_or_links(
    client: TestClient, live: bootstrap.Container
) -> None:
    hidden = client.post("/api/v1/projects", json={"name": "Hidden"}).json()["id"]
    secret = create(client, title="Secret", project_id=hidden)
    open_project = client.post("/api/v1/projects", json={"name": "Open"}).json()["id"]
    outsider = _member(client, live, "olga@example.com", open_project, "manager")
    own = client.post(
        "/api/v1/tasks", json={"title": "Own", "project_id": open_project}, headers=outsider
    ).json()
    stale = client.patch(
        f"/api/v1/tasks/{secret['number']}",
        json={"title": "x"},
        headers={**outsider, "If-Match": '"99"'},
    )
    assert stale.status_code == 404
    assert "etag" not in stale.headers
    unlinked = client.delete(
        f"/api/v1/tasks/{own['number']}/dependencies/{secret['number']}", headers=outsider
    )
    missing = client.delete(f"/api/v1/tasks/{own['number']}/dependencies/99999", headers=outsider)
    assert unlinked.status_code == missing.status_code == 404


def test_a_patch_keeps_what_it_does_not_name(client: TestClient) -> None:
    task = create(client, start="2026-12-07", duration_days=5)  # Mon 7th to Fri 11th.
    path = f"/api/v1/tasks/{task['number']}"
    moved = client.patch(path, json={"start": "2026-12-14"}).json()
    assert moved["planned"] == {"start": "2026-12-14", "finish": "2026-12-18", "duration_days": 5}
    longer = client.patch(path, json={"duration_days": 6}).json()
    assert longer["planned"] == {"start": "2026-12-14", "finish": "2026-12-21", "duration_days": 6}
    shorter = client.patch(path, json={"finish": "2026-12-15"}).json()
    assert shorter["planned"]["duration_days"] == 2
    # A dragged task (start no earlier than the 21st) typed back to the 16th goes there.
    client.post(f"{path}/reschedule", json={"start": "2026-12-21"})
    typed = client.patch(path, json={"start": "2026-12-16"}).json()
    assert typed["planned"]["start"] == "2026-12-16"
    assert typed["constraint"] == {"kind": "start_no_earlier_than", "on": "2026-12-16"}
    unscheduled = client.patch(path, json={"start": None}).json()
    assert unscheduled["planned"] == {"start": None, "finish": None, "duration_days": None}


def test_dates_out_of_range_are_422_not_500(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tasks", json={"title": "Far", "start": "9999-12-30", "duration_days": 5}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert "start" in response.json()["detail"]


def test_a_board_move_of_a_converted_ticket_is_a_conflict_naming_its_task(
    client: TestClient,
) -> None:
    number = client.post("/api/v1/tickets", json={"title": "t"}).json()["number"]
    task = client.post(f"/api/v1/tickets/{number}/conversion").json()["number"]
    moved = client.post(
        "/api/v1/views/status-board/moves", json={"number": number, "status": "Open"}
    )
    assert moved.status_code == 409
    assert moved.json()["task_number"] == task
    assert "location" not in moved.headers
