"""Read-your-writes scenarios: a write, then at once a read by the same caller that sends no
X-Min-Position. Run in-process (tests/api) and across server processes (tests/e2e), where
`write` and `read` are clients of two different API processes."""

from __future__ import annotations

from typing import Any

import httpx

# Each write is read at once: a view that lagged even once in this many would show.
REPEAT = 30


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def assert_fresh(response: httpx.Response) -> None:
    assert "X-Min-Position" not in response.request.headers
    assert response.headers["X-View-Fresh"] == "true", response.headers


def open_ticket(write: httpx.Client, title: str = "Printer jammed") -> int:
    return int(ok(write.post("/api/v1/tickets", json={"title": title}), 201)["number"])


def a_new_task_is_at_its_location_at_once(write: httpx.Client, read: httpx.Client) -> None:
    for n in range(REPEAT):
        created = write.post("/api/v1/tasks", json={"title": f"Task {n}"})
        task = ok(created, 201)
        got = read.get(created.headers["Location"])
        assert got.status_code == 200, (n, got.text)
        assert got.json()["version"] == task["version"]
        assert_fresh(got)


def a_converted_ticket_redirects_at_once(write: httpx.Client, read: httpx.Client) -> None:
    for n in range(REPEAT // 3):
        number = open_ticket(write, f"Ticket {n}")
        converted = write.post(f"/api/v1/tickets/{number}/conversion")
        ok(converted, 201)
        got = read.get(f"/api/v1/tickets/{number}", follow_redirects=False)
        assert got.status_code == 308, (n, got.text)
        assert got.headers["Location"] == converted.headers["Location"]


def logged_time_shows_on_the_ticket_at_once(write: httpx.Client, read: httpx.Client) -> None:
    for n in range(REPEAT // 3):
        number = open_ticket(write, f"Ticket {n}")
        entry = {"item": number, "date": "2026-12-01", "minutes": 30 + n}
        ok(write.post("/api/v1/timesheets", json=entry), 201)
        got = read.get(f"/api/v1/tickets/{number}")
        ticket = ok(got)
        assert (ticket["status"], ticket["logged_minutes"]) == ("Open", 30 + n), n
        assert_fresh(got)


def imported_time_is_listed_at_once(write: httpx.Client, read: httpx.Client, email: str) -> None:
    for n in range(REPEAT // 3):
        number = open_ticket(write, f"Ticket {n}")
        rows = [f"{number},{email},2026-12-01,1.5", f"{number},{email},2026-12-02,0:{10 + n}"]
        csv = "\n".join(["item,user_email,date,hours", *rows]) + "\n"
        imported = write.post(
            "/api/v1/timesheets/import", files={"file": ("time.csv", csv.encode(), "text/csv")}
        )
        answer = ok(imported)
        assert (answer["rows"], answer["imported"]) == (2, 2)
        got = read.get("/api/v1/timesheets", params={"item": number})
        assert sorted(e["minutes"] for e in ok(got)["items"]) == [10 + n, 90], n
        assert_fresh(got)
