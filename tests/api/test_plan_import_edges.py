"""MS Project plans at their edges, over HTTP on both backends: later versions of a plan
(broken down under a subtask, linked to a task moved away, closing a cycle through a link
made by hand), files that are wrong (a UID twice, a calendar exception past 9999, thousands
of recurring exceptions, a huge lag), hidden projects, what a folder summary cannot keep,
and the export (notes, a name in any script, an empty folder)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.seeded_desk import after, ok
from tests.factories import user_token

BASE = "/api/v1/imports/msproject"
NS = "http://schemas.microsoft.com/project"


def task(
    uid: int,
    level: int,
    name: str,
    start: str = "2026-03-02",
    finish: str = "2026-03-02",
    preds: tuple[int, ...] = (),
    **more: Any,
) -> str:
    links = "".join(
        f"<PredecessorLink><PredecessorUID>{p}</PredecessorUID><Type>1</Type></PredecessorLink>"
        for p in preds
    )
    extra = "".join(f"<{k}>{v}</{k}>" for k, v in more.items())
    return (
        f"<Task><UID>{uid}</UID><ID>{uid}</ID><Name>{name}</Name><OutlineLevel>{level}</OutlineLevel>"
        f"<Start>{start}T08:00:00</Start><Finish>{finish}T17:00:00</Finish>{extra}{links}</Task>"
    )


def plan(*tasks: str, body: str = "", resources: str = "", name: str = "P") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Project xmlns="{NS}"><Name>{name}</Name>{body}'
        f"<Tasks>{''.join(tasks)}</Tasks>{resources}</Project>"
    ).encode()


def send(
    client: TestClient,
    data: bytes,
    project: str | None = None,
    dry_run: str | None = None,
    **kw: Any,
) -> Any:
    form = {"project": project} if project else None
    params = {"dry_run": dry_run} if dry_run else None
    return client.post(
        BASE, files={"file": ("plan.xml", data, "application/xml")}, data=form, params=params, **kw
    )


def chart(client: TestClient, live: bootstrap.Container, project_id: str) -> dict[str, Any]:
    return ok(
        client.get("/api/v1/views/gantt", params={"project": project_id}, headers=after(live))
    )


def test_a_later_version_that_breaks_a_subtask_down_imports_with_a_warning(
    client: TestClient, live: bootstrap.Container
) -> None:
    v1 = plan(task(1, 1, "Phase"), task(2, 2, "Build"), task(3, 2, "Test"))
    first = ok(send(client, v1, "Evolving"), 201)
    assert first["created"]["subtasks"] == 2
    # v2: "Build" is broken down into two steps (the everyday edit in MS Project).
    v2 = plan(
        task(1, 1, "Phase"),
        task(2, 2, "Build"),
        task(4, 3, "Frame"),
        task(5, 3, "Roof"),
        task(3, 2, "Test"),
    )
    second = ok(send(client, v2, "Evolving"), 201)
    assert second["created"]["tasks"] == 2
    said = {(w["task_uid"], w["message"].split(":")[0]) for w in second["warnings"]}
    assert (4, f"it is not a subtask of #{2} 'Build' (imported before)") in said or any(
        uid == 4 and "is not a subtask of" in m for uid, m in said
    ), second["warnings"]


def test_a_later_version_cannot_close_a_cycle_through_a_link_made_by_hand(
    client: TestClient, live: bootstrap.Container
) -> None:
    v1 = plan(task(1, 1, "A"), task(2, 1, "B"))
    first = ok(send(client, v1, "Cyclic"), 201)
    bars = {t["title"]: t["number"] for t in chart(client, live, first["project_id"])["tasks"]}
    a, b = bars["A"], bars["B"]
    ok(client.post(f"/api/v1/tasks/{b}/dependencies", json={"predecessor": a}), 201)  # A -> B
    # v2 adds C and D: B -> C -> D -> A. No cycle in the file, but one with the hand link.
    v2 = plan(
        task(1, 1, "A", preds=(4,)),
        task(2, 1, "B"),
        task(3, 1, "C", preds=(2,)),
        task(4, 1, "D", preds=(3,)),
    )
    second = ok(send(client, v2, "Cyclic"), 201)
    assert any("closes a cycle" in w["message"] for w in second["warnings"]), second
    gantt = client.get(
        "/api/v1/views/gantt", params={"project": first["project_id"]}, headers=after(live)
    )
    assert gantt.status_code == 200, gantt.text
    assert len(gantt.json()["dependencies"]) == 3


def test_a_file_with_a_uid_twice_writes_nothing_and_names_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    data = plan(
        task(1, 1, "Folder"), task(2, 2, "Parent"), task(3, 3, "Leaf"), task(1, 1, "Same UID again")
    )
    head = live.app.head()
    answer = send(client, data)
    assert answer.status_code == 422, answer.text
    assert "UID 1" in answer.json()["detail"]
    assert live.app.head() == head


def test_a_plan_whose_links_go_round_writes_nothing_and_names_the_cycle(
    client: TestClient, live: bootstrap.Container
) -> None:
    data = plan(task(1, 1, "A", preds=(2,)), task(2, 1, "B", preds=(1,)))
    head = live.app.head()
    answer = send(client, data)
    assert answer.status_code == 422, answer.text
    assert "'B' → 'A' → 'B' (task UIDs 2, 1, 2)" in answer.json()["detail"]
    assert live.app.head() == head


def _calendar(exceptions: str) -> str:
    return (
        "<CalendarUID>1</CalendarUID><Calendars><Calendar><UID>1</UID><Name>Standard</Name>"
        f"<IsBaseCalendar>1</IsBaseCalendar><Exceptions>{exceptions}</Exceptions></Calendar>"
        "</Calendars>"
    )


def test_a_calendar_exception_running_past_9999_ends_there(
    client: TestClient, live: bootstrap.Container
) -> None:
    exception = (
        "<Exception><EnteredByOccurrences>1</EnteredByOccurrences><TimePeriod>"
        "<FromDate>9999-06-01T00:00:00</FromDate></TimePeriod>"
        "<Occurrences>12</Occurrences><Name>Monthly</Name><Type>4</Type><Period>1</Period>"
        "<MonthDay>1</MonthDay><DayWorking>0</DayWorking></Exception>"
    )
    answer = ok(send(client, plan(task(1, 1, "A"), body=_calendar(exception)), dry_run="true"))
    # Read up to 9999-12 (no year 10000), and kept only up to 9000, where plans end.
    assert answer["calendar"]["holidays"] == []
    assert answer["warnings"] == []


def test_thousands_of_recurring_exceptions_are_read_up_to_a_bound(
    client: TestClient, live: bootstrap.Container
) -> None:
    one = (
        "<Exception><TimePeriod><FromDate>2000-01-01T00:00:00</FromDate>"
        "<ToDate>2100-01-01T23:59:00</ToDate></TimePeriod><Occurrences>5000</Occurrences>"
        "<Type>1</Type><Period>2</Period><DayWorking>0</DayWorking></Exception>"
    )
    answer = ok(send(client, plan(task(1, 1, "A"), body=_calendar(one * 2000)), dry_run="true"))
    # 20,000 days read of 10 million (the same 5,000 four times, and said so): every other
    # day from 2000-01-01, the weekdays of them holidays.
    every_other = (date(2000, 1, 1) + timedelta(days=2 * n) for n in range(5000))
    assert answer["calendar"]["holidays"] == [
        day.isoformat() for day in every_other if day.weekday() < 5
    ]
    assert [w["message"] for w in answer["warnings"]] == [
        "the project calendar 'Standard' has more exceptions than are read (20,000 days): the"
        " later ones are not kept"
    ]


def test_a_member_cannot_tell_a_hidden_project_from_none(
    client: TestClient, live: bootstrap.Container
) -> None:
    secret = ok(client.post("/api/v1/projects", json={"name": "Secret plans"}), 201)
    member = {"Authorization": f"Bearer {user_token(live, 'bob@example.com')}"}
    data = plan(task(1, 1, "A"))
    by_id = send(client, data, secret["id"], headers=after(live, member))
    none = send(client, data, "00000000-0000-4000-8000-000000000001", headers=after(live, member))
    assert (by_id.status_code, none.status_code) == (404, 404), (by_id.text, none.text)
    assert by_id.json()["detail"] == f"no project {secret['id']}"
    # By name, a hidden project is no project: the member (who may not make projects) is
    # told so as for any name.
    by_name = send(client, data, "Secret plans", headers=after(live, member))
    unknown = send(client, data, "No such plans", headers=after(live, member))
    assert by_name.status_code == unknown.status_code == 403
    assert by_name.json()["detail"] == unknown.json()["detail"]


def test_what_a_task_or_a_folder_summary_cannot_keep_is_warned(
    client: TestClient, live: bootstrap.Container
) -> None:
    me = ok(client.get("/api/v1/me"))
    resources = (
        f"<Resources><Resource><UID>1</UID><Name>Me</Name><EmailAddress>{me['email']}"
        "</EmailAddress></Resource></Resources><Assignments><Assignment><UID>1</UID>"
        "<TaskUID>1</TaskUID><ResourceUID>1</ResourceUID></Assignment></Assignments>"
    )
    data = plan(
        task(
            1,
            1,
            "Phase",
            Notes="Budget 10k",
            ConstraintType=7,
            ConstraintDate="2026-03-20T17:00:00",
        ),
        task(2, 2, "Parent"),
        task(3, 3, "Leaf", PercentComplete=150),
        resources=resources,
    )
    answer = ok(send(client, data, dry_run="true"))
    said = {(w["task_uid"], w["message"]) for w in answer["warnings"]}
    assert (
        1,
        "its notes, its constraint (finish_no_later_than), its assignments are not"
        " kept: it became a folder (summary task)",
    ) in said
    assert (3, "its percent complete 150 is not 0 to 100: here 100") in said


def test_a_huge_lag_is_not_kept_and_warned(client: TestClient, live: bootstrap.Container) -> None:
    link = (
        "<PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type>"
        "<LinkLag>1000000000000000</LinkLag><LagFormat>7</LagFormat></PredecessorLink>"
    )
    data = plan(task(1, 1, "A"), task(2, 1, "B").replace("</Task>", link + "</Task>"))
    answer = ok(send(client, data, "Lagging"), 201)
    assert answer["created"]["links"] == 0
    assert any(
        w["task_uid"] == 2 and "past the 10,000 a lag may be" in w["message"]
        for w in answer["warnings"]
    )
    gantt = client.get(
        "/api/v1/views/gantt", params={"project": answer["project_id"]}, headers=after(live)
    )
    assert gantt.status_code == 200, gantt.text


def test_plans_of_other_names_into_one_project_are_kept_apart(
    client: TestClient, live: bootstrap.Container
) -> None:
    first = ok(send(client, plan(task(1, 1, "Design"), task(2, 1, "Build"), name="One"),
                    "Shared"), 201)  # fmt: skip
    other = plan(task(1, 1, "Order"), task(2, 1, "Ship"), task(3, 1, "Invoice", preds=(1,)),
                 name="Two")  # fmt: skip
    second = ok(send(client, other, "Shared"), 201)
    assert second["created"]["tasks"] == 3
    titles = sorted(t["title"] for t in chart(client, live, first["project_id"])["tasks"])
    assert titles == ["Build", "Design", "Invoice", "Order", "Ship"]
    # A third plan of the first one's name, without GUIDs, is taken for a later version of
    # it — and each task whose name is not the one imported under its UID is warned.
    third = ok(send(client, plan(task(1, 1, "Paint"), name="One"), "Shared"), 201)
    assert third["created"]["tasks"] == 0
    assert any(
        w["task_uid"] == 1 and "imported before as" in w["message"] and "'Design'" in w["message"]
        for w in third["warnings"]
    ), third


def test_tasks_with_guids_are_their_own_whatever_the_plans_name(
    client: TestClient, live: bootstrap.Container
) -> None:
    first = ok(send(client, plan(task(1, 1, "Design", GUID="aaaaaaaa-0000-0000-0000-000000000001")),
                    "Guided"), 201)  # fmt: skip
    other = ok(send(client, plan(task(1, 1, "Order", GUID="bbbbbbbb-0000-0000-0000-000000000001")),
                    "Guided"), 201)  # fmt: skip
    assert (first["created"]["tasks"], other["created"]["tasks"]) == (1, 1)


def test_a_later_version_linking_to_a_task_moved_away_is_warned(
    client: TestClient, live: bootstrap.Container
) -> None:
    first = ok(send(client, plan(task(1, 1, "A"), task(2, 1, "B")), "Moving"), 201)
    elsewhere = ok(client.post("/api/v1/projects", json={"name": "Elsewhere"}), 201)
    bars = {t["title"]: t["number"] for t in chart(client, live, first["project_id"])["tasks"]}
    ok(client.patch(f"/api/v1/tasks/{bars['B']}", json={"project_id": elsewhere["id"]}))
    v2 = plan(task(1, 1, "A"), task(2, 1, "B"), task(3, 1, "C", preds=(2,)))
    answer = ok(send(client, v2, "Moving", headers=after(live)), 201)
    assert any(w["task_uid"] == 3 and "same project" in w["message"] for w in answer["warnings"])


def test_the_export_keeps_notes_any_name_and_empty_folders(
    client: TestClient, live: bootstrap.Container
) -> None:
    done = ok(send(client, plan(task(1, 1, "A", Notes="Bring the laser")), "Noted"), 201)
    exported = client.get(f"/api/v1/projects/{done['project_id']}/export.xml",
                          headers=after(live))  # fmt: skip
    assert exported.status_code == 200
    assert b"Bring the laser" in exported.content
    assert b"<CurrencyCode>" in exported.content

    project = ok(client.post("/api/v1/projects", json={"name": "Przeprowadzka Łódź"}), 201)
    ok(client.post("/api/v1/folders", json={"project_id": project["id"], "name": "Later"}), 201)
    ok(client.post("/api/v1/tasks", json={"project_id": project["id"], "title": "Only task"}), 201)
    exported = client.get(f"/api/v1/projects/{project['id']}/export.xml", headers=after(live))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-disposition"] == (
        'attachment; filename="Przeprowadzka---d-.xml";'
        " filename*=UTF-8''Przeprowadzka%20%C5%81%C3%B3d%C5%BA.xml"
    )
    again = ok(send(client, exported.content, "Foldered again"), 201)
    assert (again["created"]["tasks"], again["created"]["folders"]) == (1, 1)
