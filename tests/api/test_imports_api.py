"""Timesheet imports through the real app, on SQLite and PostgreSQL: batches stay invisible
until the import completes, an interrupted import resumes, other writes go on meanwhile."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from commands.imports import staging
from ledgerdesk import bootstrap
from tests.api.test_timesheets_api import _csv, ok, task

HEADER = "item,user_email,date,hours,notes"


def rows(number: int, count: int, start: int = 0) -> list[str]:
    return [
        f"{number},admin@example.com,2026-12-{1 + n % 28:02d},0:{10 + n % 50},row {n}"
        for n in range(start, start + count)
    ]


def minutes(lines: list[str]) -> int:
    return sum(int(line.split(",")[3].split(":")[1]) for line in lines)


def seen(client: TestClient, live: bootstrap.Container, number: int) -> dict[str, Any]:
    """What every view shows of the item's time, once the views have caught up."""
    wait = {"X-Min-Position": str(live.app.head())}
    listed = ok(client.get("/api/v1/timesheets", params={"limit": 200}, headers=wait))
    report = ok(client.get("/api/v1/reports/timesheets", headers=wait))
    item = ok(client.get(f"/api/v1/tasks/{number}", headers=wait))
    return {
        "listed": len(listed["items"]),
        "reported": (report["totals"]["entries"], report["totals"]["minutes"]),
        "logged": item["logged_minutes"],
        "status": item["status"],
    }


def interrupt_after_first_batch(live: bootstrap.Container) -> None:
    """The process starts shutting down once the import's first batch is committed (once:
    clearing `stopping` afterwards lets the next import run)."""
    fired: list[int] = []

    def shut_down(position: int) -> None:
        if not fired:
            fired.append(position)
            live.stopping.set()

    live.app.on_commit(shut_down)


def test_an_interrupted_import_shows_nothing_and_its_rerun_shows_every_row_once(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an import written two rows a batch, and a shutdown after its first batch
    monkeypatch.setattr(staging, "BATCH_UNITS", 2)
    number = task(client, work_hours=1)["number"]
    before = seen(client, live, number)
    lines = rows(number, 5)
    interrupt_after_first_batch(live)
    # When the import runs
    stopped = client.post("/api/v1/timesheets/import", files=_csv(HEADER, *lines))
    # Then it stops with a resumable answer, and no view shows any of it
    assert stopped.status_code == 503, stopped.text
    assert stopped.headers["Retry-After"]
    assert (
        seen(client, live, number)
        == before
        == {
            "listed": 0,
            "reported": (0, 0),
            "logged": 0,
            "status": "Not started",
        }
    )
    live.stopping.clear()
    # When the same file is sent again
    again = ok(client.post("/api/v1/timesheets/import", files=_csv(HEADER, *lines)))
    # Then every row shows exactly once, with its effects on the item
    assert (again["imported"], again["import_id"]) == (5, stopped.json()["import_id"])
    assert seen(client, live, number) == {
        "listed": 5,
        "reported": (5, minutes(lines)),
        "logged": minutes(lines),
        "status": "In progress",
    }
    once_more = ok(client.post("/api/v1/timesheets/import", files=_csv(HEADER, *lines)))
    assert once_more["imported"] == 0


def test_a_staged_entry_is_not_there_for_reads_or_writes(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "BATCH_UNITS", 1)
    number = task(client)["number"]
    interrupt_after_first_batch(live)
    assert (
        client.post("/api/v1/timesheets/import", files=_csv(HEADER, *rows(number, 2))).status_code
        == 503
    )
    staged = _staged_entry_ids(live)
    assert len(staged) == 1
    path = f"/api/v1/timesheets/{staged[0]}"
    assert client.get(path).status_code == 404
    assert client.post(f"{path}/approval").status_code == 404
    assert client.patch(path, json={"minutes": 5}).status_code == 404


def _staged_entry_ids(live: bootstrap.Container) -> list[str]:
    notifications = live.app.recorder.select_notifications(start=1, limit=10_000)
    return [
        str(n.originator_id) for n in notifications if n.topic == "ledgerdesk:TimesheetEntry.Logged"
    ]


def test_another_file_takes_over_rows_an_unfinished_import_staged(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given file A (rows 0-3) interrupted after its first batch (rows 0 and 1 staged)
    monkeypatch.setattr(staging, "BATCH_UNITS", 2)
    number = task(client, work_hours=10)["number"]
    file_a = rows(number, 4)
    interrupt_after_first_batch(live)
    stopped = client.post("/api/v1/timesheets/import", files=_csv(HEADER, *file_a))
    assert stopped.status_code == 503
    live.stopping.clear()
    # When file B, with rows 1 and 2 of A and a row of its own, is imported
    file_b = [file_a[1], file_a[2], *rows(number, 1, start=10)]
    b = ok(client.post("/api/v1/timesheets/import", files=_csv(HEADER, *file_b)))
    # Then B shows its three rows (taking row 1 over from A), and nothing of A's row 0
    assert b["imported"] == 3
    assert seen(client, live, number)["reported"] == (3, minutes(file_b))
    # When A is sent again, it shows what B did not: every row once in all
    a = ok(client.post("/api/v1/timesheets/import", files=_csv(HEADER, *file_a)))
    assert (a["imported"], a["import_id"]) == (2, stopped.json()["import_id"])
    everything = [file_a[0], *file_b, file_a[3]]
    shown = seen(client, live, number)
    assert shown["reported"] == (5, minutes(everything))
    assert shown["logged"] == minutes(everything)


def test_control_characters_in_a_value_are_reported_by_row_and_column(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = task(client)["number"]
    head = live.app.head()
    answer = client.post(
        "/api/v1/timesheets/import",
        files=_csv(
            HEADER,
            f"{number},admin@example.com,2026-12-01,1,fine",
            f"{number},admin@example.com,2026-12-01,1,bell\x07",
            f"{number},admin@example.com,2026-12-01,1,nul\x00here",
        ),
    )
    assert answer.status_code == 422
    found = {(e["row"], e["column"]) for e in answer.json()["errors"]}
    assert found == {(3, "notes"), (4, "notes")}
    assert "U+0007" in answer.json()["errors"][0]["message"]
    assert live.app.head() == head


def test_dates_and_hours_are_read_strictly_and_each_problem_named_by_row(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = task(client)["number"]
    head = live.app.head()
    answer = client.post(
        "/api/v1/timesheets/import",
        files=_csv(
            HEADER,
            f"{number},admin@example.com,2026-12-01,1,fine",
            f"{number},admin@example.com,0001-01-01,1,out of range",
            f"{number},admin@example.com,9999-12-31,1,out of range",
            f"{number},admin@example.com,20260109,1,not YYYY-MM-DD",
            f"{number},admin@example.com,2026-12-01,1e1,an exponent",
            f"{number},admin@example.com,2026-12-01,\u0663,another script's digit",
        ),
    )
    assert answer.status_code == 422, answer.text
    found = {(e["row"], e["column"]) for e in answer.json()["errors"]}
    assert found == {(3, "date"), (4, "date"), (5, "date"), (6, "hours"), (7, "hours")}
    assert live.app.head() == head
