"""Time through the real app, on SQLite and PostgreSQL: timers, timesheet entries,
approval, corrections, and what logged time does to its item."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.factories import user_token

PROBLEM = "application/problem+json"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def member(
    client: TestClient, live: bootstrap.Container, email: str, project: str, role: str
) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {user_token(live, email)}"}
    user_id = ok(client.get("/api/v1/me", headers=headers))["id"]
    ok(client.put(f"/api/v1/projects/{project}/members/{user_id}", json={"role": role}))
    return headers


def task(client: TestClient, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Build the shed")
    return ok(client.post("/api/v1/tasks", json=body), 201)  # type: ignore[no-any-return]


def test_logged_time_moves_the_item_on_and_drives_progress(client: TestClient) -> None:
    shed = task(client, start="2026-12-01", duration_days=3, work_hours=10)
    logged = client.post(
        "/api/v1/timesheets",
        json={"item": shed["number"], "date": "2026-12-02", "hours": "2.5", "activity": "Build"},
    )
    entry = ok(logged, 201)
    assert logged.headers["Location"] == f"/api/v1/timesheets/{entry['id']}"
    assert (entry["minutes"], entry["hours"], entry["state"]) == (150, 2.5, "submitted")
    position = logged.headers["X-Log-Position"]
    after = ok(client.get(f"/api/v1/tasks/{shed['number']}", headers={"X-Min-Position": position}))
    # The first time logged: in progress; 2.5 of 10 planned hours: 25 %; actual start.
    assert after["status"] == "In progress"
    assert after["percent_complete"] == 25
    assert after["actual"] == {"start": "2026-12-02", "finish": None}
    assert after["logged_minutes"] == 150
    # Another entry, then the task is done: the actual finish is the last day logged.
    more = {"item": shed["number"], "date": "2026-12-04", "minutes": 90}
    ok(client.post("/api/v1/timesheets", json=more), 201)
    done = ok(client.patch(f"/api/v1/tasks/{shed['number']}", json={"status": "Done"}))
    assert done["percent_complete"] == 40
    assert done["actual"] == {"start": "2026-12-02", "finish": "2026-12-04"}
    # Percent set by hand wins from then on.
    ok(client.patch(f"/api/v1/tasks/{shed['number']}", json={"percent_complete": 90}))
    withdrawn = client.delete(f"/api/v1/timesheets/{entry['id']}")
    assert ok(withdrawn)["state"] == "withdrawn"
    final = ok(
        client.get(
            f"/api/v1/tasks/{shed['number']}",
            headers={"X-Min-Position": withdrawn.headers["X-Log-Position"]},
        )
    )
    assert (final["percent_complete"], final["logged_minutes"]) == (90, 90)
    assert final["actual"] == {"start": "2026-12-04", "finish": "2026-12-04"}


def test_a_ticket_with_time_converts_into_a_task_that_keeps_it(client: TestClient) -> None:
    number = ok(client.post("/api/v1/tickets", json={"title": "VPN"}), 201)["number"]
    logged = client.post(
        "/api/v1/timesheets", json={"item": number, "date": "2026-12-01", "minutes": 30}
    )
    entry = ok(logged, 201)
    wait = {"X-Min-Position": logged.headers["X-Log-Position"]}
    opened = ok(client.get(f"/api/v1/tickets/{number}", headers=wait))
    assert opened["status"] == "Open"  # The first in-progress status of tickets.
    converted = ok(client.post(f"/api/v1/tickets/{number}/conversion"), 201)
    assert converted["logged_minutes"] == 30
    assert converted["logged"] == {entry["id"]: 30}
    # Time logged under the old number goes to the task.
    more = ok(
        client.post(
            "/api/v1/timesheets", json={"item": number, "date": "2026-12-02", "minutes": 15}
        ),
        201,
    )
    assert more["item"] == converted["number"]
    edited = ok(client.patch(f"/api/v1/timesheets/{entry['id']}", json={"minutes": 45}))
    assert edited["minutes"] == 45
    position = client.get(f"/api/v1/timesheets/{entry['id']}").headers["ETag"]
    assert position == f'"{edited["version"]}"'


def test_approval_locks_and_a_correction_adjusts(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Billable"}), 201)["id"]
    standard = member(client, live, "sam@example.com", project, "standard")
    lead = member(client, live, "lea@example.com", project, "lead")
    outsider = {"Authorization": f"Bearer {user_token(live, 'otto@example.com')}"}
    number = task(client, project_id=project)["number"]
    entry = ok(
        client.post(
            "/api/v1/timesheets",
            json={"item": number, "date": "2026-12-01", "hours": "1.25", "notes": "Setup"},
            headers=standard,
        ),
        201,
    )
    path = f"/api/v1/timesheets/{entry['id']}"
    # Only managers and leads approve; outsiders do not learn the entry exists.
    assert client.post(f"{path}/approval", headers=standard).status_code == 403
    assert client.get(path, headers=outsider).status_code == 404
    assert client.get(path, headers=lead).status_code == 200
    rejected = ok(client.post(f"{path}/rejection", json={"reason": "Wrong day"}, headers=lead))
    assert rejected["state"] == "rejected"
    ok(client.patch(path, json={"date": "2026-12-02"}, headers=standard))
    assert client.patch(path, json={"date": "2026-12-02"}, headers=lead).status_code == 403
    assert ok(client.post(f"{path}/submission", headers=standard))["state"] == "submitted"
    approved = ok(client.post(f"{path}/approval", headers=lead))
    assert approved["state"] == "approved"
    locked = client.patch(path, json={"minutes": 10}, headers=standard)
    assert locked.status_code == 409
    assert locked.headers["content-type"] == PROBLEM
    assert client.delete(path, headers=standard).status_code == 409
    less = {"minutes": -15, "notes": "Overlogged"}
    correction = ok(client.post(f"{path}/corrections", json=less, headers=standard), 201)
    assert (correction["corrects"], correction["minutes"]) == (entry["id"], -15)
    assert correction["state"] == "submitted"


def test_bad_time_is_refused_and_appends_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = task(client)["number"]
    head = live.app.head()
    for body, field in (
        ({"item": number, "date": "2026-12-01"}, "minutes"),
        ({"item": number, "date": "2026-12-01", "hours": "25"}, "hours"),
        ({"item": number, "date": "2026-12-01", "hours": "1", "minutes": 60}, "hours"),
        ({"item": 99999, "date": "2026-12-01", "minutes": 5}, "99999"),
        (
            {
                "item": number,
                "date": "2026-12-01",
                "started_at": "2026-12-01T10:00:00Z",
                "finished_at": "2026-12-01T09:00:00Z",
            },
            "finished_at",
        ),
    ):
        response = client.post("/api/v1/timesheets", json=body)
        assert response.status_code in (404, 422), (body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert field in response.text
    assert live.app.head() == head


def test_one_timer_runs_at_a_time_and_stopping_logs_the_time(client: TestClient) -> None:
    first, second = task(client)["number"], task(client, title="Paint")["number"]
    timers = ok(client.post(f"/api/v1/items/{first}/timer/start"))
    assert [(t["item"], t["state"]) for t in timers] == [(first, "running")]
    timers = ok(client.post(f"/api/v1/items/{second}/timer/start"))
    assert [(t["item"], t["state"]) for t in timers] == [(first, "paused"), (second, "running")]
    assert client.post(f"/api/v1/items/{second}/timer/start").status_code == 409
    listed = ok(client.get("/api/v1/me/timers"))
    assert [(t["item"], t["state"]) for t in listed] == [(first, "paused"), (second, "running")]
    timers = ok(client.post(f"/api/v1/items/{first}/timer/resume"))
    assert [(t["item"], t["state"]) for t in timers] == [(first, "running"), (second, "paused")]
    stopped = client.post(
        f"/api/v1/items/{first}/timer/stop", json={"keep_for_review": True, "activity": "Sawing"}
    )
    entry = ok(stopped, 201)
    assert (entry["item"], entry["source"], entry["state"]) == (first, "timer", "draft")
    assert entry["minutes"] >= 1
    assert [t["item"] for t in ok(client.get("/api/v1/me/timers"))] == [second]
    assert client.post(f"/api/v1/items/{first}/timer/pause").status_code == 404
    submitted = ok(client.post(f"/api/v1/timesheets/{entry['id']}/submission"))
    assert submitted["state"] == "submitted"


def _csv(*lines: str) -> dict[str, Any]:
    return {"file": ("time.csv", ("\n".join(lines) + "\n").encode(), "text/csv")}


def test_a_csv_imports_all_or_nothing_and_only_once(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Imported"}), 201)["id"]
    member(client, live, "ivy@example.com", project, "standard")
    number = task(client, project_id=project, work_hours=4)["number"]
    header = "item,user_email,date,hours,billable,activity,notes"
    good = [
        f"{number},ivy@example.com,2026-12-01,1.5,true,Build,first",
        f"#{number},IVY@example.com,2026-12-02,0:45,no,Build,",
        f"{number},ivy@example.com,2026-12-02,0:45,no,Build,",  # The same again: two entries.
    ]
    head = live.app.head()
    bad = client.post(
        "/api/v1/timesheets/import",
        files=_csv(
            header,
            *good,
            f"{number},nobody@example.com,2026-12-01,1,true,,",
            f"{number},ivy@example.com,01/12/2026,1,maybe,,",
            "99999,ivy@example.com,2026-12-01,abc,true,,",
        ),
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    found = {(e["row"], e["column"]) for e in bad.json()["errors"]}
    assert found == {(5, "user_email"), (6, "date"), (6, "billable"), (7, "hours")}
    assert live.app.head() == head  # Nothing was written.
    imported = client.post("/api/v1/timesheets/import", files=_csv(header, *good))
    first = ok(imported)
    assert (first["rows"], first["imported"]) == (3, 3)
    again = ok(client.post("/api/v1/timesheets/import", files=_csv(header, *good)))
    # The same file is the same import: found completed, nothing added.
    assert again == {"rows": 3, "imported": 0, "import_id": first["import_id"]}
    wait = {"X-Min-Position": imported.headers["X-Log-Position"]}
    after = ok(client.get(f"/api/v1/tasks/{number}", headers=wait))
    assert after["logged_minutes"] == 90 + 45 + 45
    assert after["percent_complete"] == 75
    unknown_item = client.post(
        "/api/v1/timesheets/import",
        files=_csv(header, "99999,ivy@example.com,2026-12-01,1,true,,"),
    )
    assert unknown_item.status_code == 422
    assert unknown_item.json()["errors"][0]["column"] == "item"


def test_an_import_needs_rights_on_each_row(client: TestClient, live: bootstrap.Container) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Guarded"}), 201)["id"]
    standard = member(client, live, "sue@example.com", project, "standard")
    member(client, live, "tom@example.com", project, "standard")
    number = task(client, project_id=project)["number"]
    header = "item,user_email,date,hours"
    own = client.post(
        "/api/v1/timesheets/import",
        files=_csv(header, f"{number},sue@example.com,2026-12-01,1"),
        headers=standard,
    )
    assert ok(own)["imported"] == 1
    others = client.post(
        "/api/v1/timesheets/import",
        files=_csv(header, f"{number},tom@example.com,2026-12-01,1"),
        headers=standard,
    )
    assert others.status_code == 422
    assert others.json()["errors"][0]["message"] == "you may log only your own time here"
    missing = client.post(
        "/api/v1/timesheets/import", files=_csv("item,date,hours", f"{number},2026-12-01,1")
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["column"] == "user_email"


def test_corrections_keep_an_entry_between_nothing_and_a_day(
    client: TestClient, live: bootstrap.Container
) -> None:
    shed = task(client, work_hours=1)
    entry = ok(
        client.post(
            "/api/v1/timesheets", json={"item": shed["number"], "date": "2026-12-01", "minutes": 30}
        ),
        201,
    )
    path = f"/api/v1/timesheets/{entry['id']}"
    ok(client.post(f"{path}/approval"))
    ok(client.post(f"{path}/corrections", json={"minutes": -20}), 201)
    head = live.app.head()
    too_far = client.post(f"{path}/corrections", json={"minutes": -20})
    assert too_far.status_code == 422
    assert "0 to 1440" in too_far.json()["detail"]
    assert live.app.head() == head
    done = client.post(f"{path}/corrections", json={"minutes": -10})
    ok(done, 201)
    wait = {"X-Min-Position": done.headers["X-Log-Position"]}
    after = ok(client.get(f"/api/v1/tasks/{shed['number']}", headers=wait))
    assert (after["logged_minutes"], after["percent_complete"]) == (0, 0)


def test_import_reveals_nothing_and_checks_whose_time_it_is(
    client: TestClient, live: bootstrap.Container
) -> None:
    hidden = ok(client.post("/api/v1/projects", json={"name": "Hidden"}), 201)["id"]
    secret = task(client, project_id=hidden)["number"]
    shared = ok(client.post("/api/v1/projects", json={"name": "Shared"}), 201)["id"]
    lead = member(client, live, "lead@example.com", shared, "lead")
    member(client, live, "reader@example.com", shared, "restricted")
    user_token(live, "stranger@example.com")  # Staff, but not in the project.
    number = task(client, project_id=shared)["number"]
    header = "item,user_email,date,hours"
    answer = client.post(
        "/api/v1/timesheets/import",
        files=_csv(
            header,
            f"{secret},lead@example.com,2026-12-01,1",
            "99999,lead@example.com,2026-12-01,1",
            f"{number},reader@example.com,2026-12-01,1",
            f"{number},stranger@example.com,2026-12-01,1",
            "²,lead@example.com,2026-12-01,1e999999",
        ),
        headers=lead,
    )
    assert answer.status_code == 422
    errors = {(e["row"], e["column"]): e["message"] for e in answer.json()["errors"]}
    # A hidden item and a missing one read the same.
    assert errors[(2, "item")] == errors[(3, "item")].replace("99999", str(secret))
    assert "may not log time" in errors[(4, "user_email")]
    assert "may not log time" in errors[(5, "user_email")]
    assert {(6, "item"), (6, "hours")} <= set(errors)


def test_someone_no_longer_in_the_project_cannot_change_their_time_and_can_drop_a_timer(
    client: TestClient, live: bootstrap.Container
) -> None:
    project = ok(client.post("/api/v1/projects", json={"name": "Leaving"}), 201)["id"]
    headers = member(client, live, "lee@example.com", project, "standard")
    number = task(client, project_id=project)["number"]
    entry = ok(
        client.post(
            "/api/v1/timesheets",
            json={"item": number, "date": "2026-12-01", "minutes": 30},
            headers=headers,
        ),
        201,
    )
    ok(client.post(f"/api/v1/items/{number}/timer/start", headers=headers))
    user_id = ok(client.get("/api/v1/me", headers=headers))["id"]
    ok(client.delete(f"/api/v1/projects/{project}/members/{user_id}"))
    edited = client.patch(
        f"/api/v1/timesheets/{entry['id']}", json={"minutes": 600}, headers=headers
    )
    assert edited.status_code in (403, 404)
    assert client.post(
        f"/api/v1/items/{number}/timer/stop", json={}, headers=headers
    ).status_code in (
        403,
        404,
    )
    assert ok(client.delete(f"/api/v1/items/{number}/timer", headers=headers)) == []
    assert ok(client.delete(f"/api/v1/timesheets/{entry['id']}", headers=headers))["state"] == (
        "withdrawn"
    )


def test_a_timer_on_a_ticket_survives_its_conversion(client: TestClient) -> None:
    number = ok(client.post("/api/v1/tickets", json={"title": "Timed"}), 201)["number"]
    ok(client.post(f"/api/v1/items/{number}/timer/start"))
    converted = ok(client.post(f"/api/v1/tickets/{number}/conversion"), 201)["number"]
    entry = ok(client.post(f"/api/v1/items/{number}/timer/stop", json={}), 201)
    assert entry["item"] == converted
    assert ok(client.get("/api/v1/me/timers")) == []


def test_one_end_of_a_span_moves_alone(client: TestClient) -> None:
    number = task(client)["number"]
    entry = ok(
        client.post(
            "/api/v1/timesheets",
            json={
                "item": number,
                "date": "2026-12-01",
                "started_at": "2026-12-01T09:00:00Z",
                "finished_at": "2026-12-01T10:00:00Z",
            },
        ),
        201,
    )
    later = ok(
        client.patch(
            f"/api/v1/timesheets/{entry['id']}", json={"finished_at": "2026-12-01T10:30:00Z"}
        )
    )
    assert later["minutes"] == 90
    mixed = client.post(
        "/api/v1/timesheets",
        json={
            "item": number,
            "date": "2026-12-01",
            "started_at": "2026-12-01T09:00:00",
            "finished_at": "2026-12-01T10:00:00Z",
        },
    )
    assert mixed.status_code == 422
