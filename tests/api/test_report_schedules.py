"""Report schedules over HTTP, on both backends: set up, read, listed, changed and deleted
by their owner (an admin too, with the admin scope); hidden from other staff; a saved
report one may not see cannot be scheduled; a bad address, format or schedule is refused
naming it, with nothing recorded."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from commands.models import IssueToken
from domain.user import Scope
from ledgerdesk import bootstrap
from tests.api.seeded_desk import after, ok
from tests.factories import SYSTEM, user_token

BASE = "/api/v1/reports/schedules"
MONTHLY = {"every": "month", "day": 31, "time": "07:30", "time_zone": "America/New_York"}


def saved_report(client: TestClient, headers: dict[str, str] | None = None) -> str:
    made = client.post(
        "/api/v1/reports/saved",
        json={"name": "Tickets", "definition": {"template": "tickets"}},
        headers=headers,
    )
    return str(ok(made, 201)["id"])


def body(report: str) -> dict[str, Any]:
    return {"report_id": report, "recipients": ["Client@Agency.example"], "schedule": MONTHLY}


def test_a_schedule_is_set_up_read_changed_and_deleted_by_its_owner(
    client: TestClient, live: bootstrap.Container
) -> None:
    report = saved_report(client)
    made = client.post(BASE, json=body(report))
    assert made.status_code == 201, made.text
    schedule = made.json()
    assert made.headers["Location"] == f"{BASE}/{schedule['id']}"
    assert schedule["recipients"] == ["client@agency.example"]
    assert (schedule["format"], schedule["active"]) == ("pdf", True)
    assert schedule["schedule"] == MONTHLY
    # The next 31st (or a month's last day) at 07:30 in New York, as UTC
    assert schedule["next_run_at"].endswith(":30:00.000000Z")
    read = ok(client.get(f"{BASE}/{schedule['id']}", headers=after(live)))
    assert read == {**schedule, "created_at": read["created_at"], "updated_at": read["updated_at"]}
    listed = ok(client.get(BASE, headers=after(live)))["items"]
    assert [s["id"] for s in listed] == [schedule["id"]]

    weekly = {"every": "week", "weekday": "Friday", "time": "17:00"}
    changed = client.patch(
        f"{BASE}/{schedule['id']}",
        json={"schedule": weekly, "format": "xlsx", "recipients": ["a@b.example", "A@b.example"]},
        headers={"If-Match": f'"{schedule["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["schedule"] == {**weekly, "weekday": "friday", "time_zone": "UTC"}
    assert (changed.json()["format"], changed.json()["recipients"]) == ("xlsx", ["a@b.example"])
    stale = client.patch(
        f"{BASE}/{schedule['id']}",
        json={"active": False},
        headers={"If-Match": f'"{schedule["version"]}"'},
    )
    assert stale.status_code == 412
    off = ok(client.patch(f"{BASE}/{schedule['id']}", json={"active": False}))
    assert (off["active"], off["next_run_at"]) == (False, None)
    assert ok(client.get(f"{BASE}/{schedule['id']}/runs", headers=after(live)))["items"] == []

    assert client.delete(f"{BASE}/{schedule['id']}").status_code == 204
    gone = client.get(f"{BASE}/{schedule['id']}", headers=after(live))
    assert gone.status_code == 404
    assert gone.json()["detail"] == f"no report schedule {schedule['id']}"
    assert ok(client.get(BASE, headers=after(live)))["items"] == []


def test_other_staff_neither_see_nor_change_a_schedule(
    client: TestClient, live: bootstrap.Container
) -> None:
    ann = {"Authorization": f"Bearer {user_token(live, 'ann@example.com')}"}
    hers = saved_report(client, ann)
    theirs = ok(client.post(BASE, json=body(hers), headers=ann), 201)
    bo = {"Authorization": f"Bearer {user_token(live, 'bo@example.com')}"}
    path = f"{BASE}/{theirs['id']}"
    assert client.get(path, headers=after(live, bo)).status_code == 404
    assert client.get(f"{path}/runs", headers=after(live, bo)).status_code == 404
    assert client.patch(path, json={"active": False}, headers=bo).status_code == 404
    assert client.delete(path, headers=bo).status_code == 404
    assert ok(client.get(BASE, headers=after(live, bo)))["items"] == []
    # Bo may not see Ann's private report: he cannot schedule it
    refused = client.post(BASE, json=body(hers), headers=bo)
    assert refused.status_code == 404
    assert refused.json()["detail"] == f"no saved report {hers}"

    # An admin sees everyone's (all=true) and may change them
    everyone = ok(client.get(BASE, params={"all": "true"}, headers=after(live)))["items"]
    assert [s["id"] for s in everyone] == [theirs["id"]]
    assert ok(client.get(BASE, headers=after(live)))["items"] == []
    paused = ok(client.patch(path, json={"active": False}))
    assert (paused["active"], paused["owner_id"]) == (False, theirs["owner_id"])
    # ... with the admin scope: a token without it changes only the admin's own
    me = client.get("/api/v1/me").json()["email"]
    _, token = live.accounts.issue_token(
        IssueToken(email=me, scopes=[Scope.READ, Scope.WRITE]), SYSTEM
    )
    narrow = {"Authorization": f"Bearer {token}"}
    assert client.patch(path, json={"active": True}, headers=narrow).status_code == 403
    assert client.delete(path, headers=narrow).status_code == 403


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"recipients": ["not an address"]}, "recipients[0]", "not a mail address"),
        ({"recipients": []}, "recipients", "at least 1"),
        ({"format": "docx"}, "format", "format is one of pdf, csv, xlsx"),
        ({"schedule": {"every": "day"}}, "schedule.every", "every is week or month"),
        (
            {"schedule": {"every": "week", "weekday": "funday", "time": "08:00"}},
            "schedule.weekday",
            "weekday is one of monday",
        ),
        (
            {"schedule": {"every": "month", "day": 32, "time": "08:00"}},
            "schedule.day",
            "day is 1 to 31",
        ),
        (
            {"schedule": {"every": "month", "day": 1, "time": "25:00"}},
            "schedule.time",
            "time is HH:MM",
        ),
        (
            {"schedule": {"every": "month", "day": 1, "time": "08:00", "time_zone": "Mars/Base"}},
            "schedule.time_zone",
            "unknown time zone 'Mars/Base'",
        ),
        (
            {"schedule": {"every": "month", "weekday": "monday", "time": "08:00"}},
            "schedule.weekday",
            "a monthly schedule takes no 'weekday'",
        ),
        ({"report_id": "not-an-id"}, "report_id", "UUID"),
        ({"recipients": ["a@b."]}, "recipients[0]", "not a mail address"),
        (
            {"recipients": ["x@agency.example", "Support@ledgerdesk.local"]},
            "recipients[1]",
            "support@ledgerdesk.local is one of ledgerdesk's own addresses",
        ),
    ],
)
def test_a_bad_schedule_is_refused_naming_what_is_wrong(
    client: TestClient, live: bootstrap.Container, changes: dict[str, Any], where: str, says: str
) -> None:
    report = saved_report(client)
    head = live.app.head()
    refused = client.post(BASE, json={**body(report), **changes})
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["location"][-1] == where, error
    assert says in error["message"], error
    assert live.app.head() == head  # Nothing recorded


def test_a_change_to_null_is_refused(client: TestClient, live: bootstrap.Container) -> None:
    made = ok(client.post(BASE, json=body(saved_report(client))), 201)
    for name in ("active", "recipients", "schedule", "format"):
        refused = client.patch(f"{BASE}/{made['id']}", json={name: None})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["location"] == ["body", name]
