"""Importing tickets and tasks from CSV over HTTP, on both backends: every column lands
where it says (project by path, folder, team, assignees, status, dates, points, the
original creation time as the reported date), written by the import; a dry run writes
nothing; the same file again makes nothing twice; a file with any problem writes nothing
and names each problem by row and column; a spreadsheet's export (BOM, `;`, CRLF) and a
file with its own header names (mapped) import too."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

import commands.imports.items
from commands.imports.csv_files import ImportRejectedError
from commands.imports.items import ImportStoppedError, ItemImportService
from commands.models import Context
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.item_places import Places
from tests.api.seeded_desk import after, ok
from tests.factories import SYSTEM, register, user_token

BASE = "/api/v1/imports/items"
HEADER = (
    "external_id,kind,title,description,status,priority,requester_email,assignees,team,"
    "project,folder,created_at,start,finish,points"
)


def send(client: TestClient, text: str, **params: Any) -> Any:
    data = {"mapping": params.pop("mapping")} if "mapping" in params else None
    headers = params.pop("headers", None)
    files = {"file": ("items.csv", text.encode(), "text/csv")}
    return client.post(BASE, files=files, data=data, params=params, headers=headers)


@pytest.fixture
def places(client: TestClient) -> dict[str, str]:
    """Acme's Site project with a Design folder; an Office project; a Crew team; Ann."""
    acme = ok(client.post("/api/v1/customers", json={"name": "Acme"}), 201)["id"]
    site = ok(client.post("/api/v1/projects", json={"name": "Site", "customer_ids": [acme]}), 201)
    office = ok(client.post("/api/v1/projects", json={"name": "Office"}), 201)
    folder = {"project_id": site["id"], "name": "Design"}
    design = ok(client.post("/api/v1/folders", json=folder), 201)
    crew = ok(client.post("/api/v1/teams", json={"name": "Crew"}), 201)
    me = ok(client.get("/api/v1/me"))
    return {
        "site": site["id"], "office": office["id"], "design": design["id"],
        "crew": crew["id"], "me": me["id"], "email": me["email"],
    }  # fmt: skip


def rows(places: dict[str, str]) -> str:
    return "\n".join(
        [
            HEADER,
            f"OLD-1,ticket,Roof leaks,It drips,Open,urgent,ada@acme.example,{places['email']},"
            "Crew,Acme/Site,Design,2019-03-04T10:30:00Z,,,",
            "OLD-2,task,Paint the hall,,,low,,,,Office,,2020-01-02,2026-12-01,2026-12-04,3",
            ",ticket,No id here,,,,,,,,,,,,",
        ]
    )


def test_a_file_of_tickets_and_tasks_is_imported_once(
    client: TestClient, live: bootstrap.Container, places: dict[str, str]
) -> None:
    text = rows(places)
    head = live.app.head()
    dry = send(client, text, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json() == {
        "rows": 3, "created": {"ticket": 2, "task": 1}, "existing": 0, "dry_run": True,
        "import_id": None,
    }  # fmt: skip
    assert live.app.head() == head  # A dry run writes nothing

    done = send(client, text)
    assert done.status_code == 201, done.text
    result = done.json()
    assert (result["rows"], result["created"], result["existing"]) == (
        3, {"ticket": 2, "task": 1}, 0,
    )  # fmt: skip
    listed = ok(client.get("/api/v1/views/flat", params={"sort": "number"}, headers=after(live)))
    numbers = {i["title"]: i["number"] for i in listed["items"]}
    roof = ok(client.get(f"/api/v1/tickets/{numbers['Roof leaks']}", headers=after(live)))
    assert (roof["status"], roof["priority"], roof["channel"]) == ("Open", "urgent", "import")
    assert (roof["project_id"], roof["folder_id"], roof["team_id"]) == (
        places["site"], places["design"], places["crew"],
    )  # fmt: skip
    assert roof["assignees"] == [places["me"]]
    assert roof["requester_email"] == "ada@acme.example"
    assert roof["reported_at"] == "2019-03-04T10:30:00.000000Z"
    assert roof["created_by"] == f"import:{result['import_id']}"
    paint = ok(client.get(f"/api/v1/tasks/{numbers['Paint the hall']}", headers=after(live)))
    assert (paint["project_id"], paint["points"], paint["priority"]) == (
        places["office"], 3.0, "low",
    )  # fmt: skip
    assert paint["planned"]["start"] == "2026-12-01"
    assert paint["planned"]["finish"] == "2026-12-04"
    assert paint["reported_at"] == "2020-01-02T00:00:00.000000Z"
    plain = ok(client.get(f"/api/v1/tickets/{numbers['No id here']}", headers=after(live)))
    assert plain["reported_at"] is None
    # History, not news: no mail, notification or automation (no default SLA policy) for
    # what the import wrote; its public events are published as any
    assert live.runner.wait_for(live.app.head(), ["outbox", "live"], 10)
    with live.views.read() as tx:
        asked = {
            r["purpose"]
            for r in tx.all(
                f"SELECT purpose FROM {current_tables(tx, 'outbox')['outbox_messages']}"
                " WHERE position > ?",
                (head,),
            )
        }
    assert asked & {"mail.assignment", "workflow.run_rules", "push.notify", "mail.notify"} == set()
    assert "webhooks.publish" in asked
    told = ok(client.get("/api/v1/me/notifications", headers=after(live)))["items"]
    assert told == []
    assert roof["sla"]["policy"] is None

    # The same file again: nothing more; a new file with the same external ids adds only
    # its new rows
    head = live.app.head()
    again = send(client, text)
    assert again.status_code == 201, again.text
    assert (again.json()["created"], again.json()["existing"]) == ({"ticket": 0, "task": 0}, 3)
    assert again.json()["import_id"] == result["import_id"]
    assert live.app.head() == head
    more = text.replace("Paint the hall", "Paint the hall again") + "\nOLD-3,task,Sweep,,,,,,,,,,,,"
    added = send(client, more)
    assert added.json()["created"] == {"ticket": 0, "task": 1}
    assert added.json()["existing"] == 3


def test_a_spreadsheets_export_with_its_own_header_names_imports(
    client: TestClient, live: bootstrap.Container
) -> None:
    text = "\ufeffSubject;Type;Urgency\r\nLeak;ticket;high\r\nPlan;task;\r\n"
    mapping = '{"Subject": "title", "Type": "kind", "Urgency": "priority"}'
    done = send(client, text, mapping=mapping)
    assert done.status_code == 201, done.text
    assert done.json()["created"] == {"ticket": 1, "task": 1}
    refused = send(client, text, mapping="not json")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["location"] == ["body", "mapping"]
    # A problem names the file's own header, not the column it maps to
    bad = send(client, "Subject;Urgency\r\nLeak;huge\r\n", mapping=mapping)
    assert bad.status_code == 422
    [error] = bad.json()["errors"]
    assert (error["row"], error["column"]) == (2, "Urgency")


def test_a_file_with_any_problem_imports_nothing_and_names_each(
    client: TestClient, live: bootstrap.Container, places: dict[str, str]
) -> None:
    text = "\n".join(
        [
            HEADER,
            "A,ticket,Fine,,,,,,,Office,,,,,",
            "B,story,Bad kind,,,,,,,,,,,,",
            "C,ticket,,,,,,,,,,,,,",
            "D,ticket,Bad priority,,,huge,,,,,,,,,",
            "E,ticket,Nowhere,,,,,,,Mars/Base,,,,,",
            "F,ticket,No folder,,,,,,,Office,Attic,,,,",
            "G,ticket,No team,,,,,,Ghosts,,,,,,",
            "H,ticket,No status,,Parked,,,,,,,,,,",
            "I,ticket,No person,,,,,nobody@example.com,,,,,,,",
            "J,ticket,Future,,,,,,,,,2999-01-01,,,",
            "K,ticket,Dates,,,,,,,,,,2026-01-01,,",
            "L,task,Backwards,,,,,,,,,,2026-02-01,2026-01-01,",
            "M,task,Points,,,,,,,,,,,,lots",
        ]
    )
    head = live.app.head()
    refused = send(client, text)
    assert refused.status_code == 422, refused.text
    found = {(e["row"], e["column"]) for e in refused.json()["errors"]}
    assert found == {
        (3, "kind"), (4, "title"), (5, "priority"), (6, "project"), (7, "folder"),
        (8, "team"), (9, "status"), (10, "assignees"), (11, "created_at"), (12, "start"),
        (13, "finish"), (14, "points"),
    }  # fmt: skip
    assert live.app.head() == head

    # A project the importer may not see reads as not found; without a project, the
    # item would go to the Inbox, where Ann may not create items either
    ann = {"Authorization": f"Bearer {user_token(live, 'ann@example.com')}"}
    head = live.app.head()
    sneaking = f"{HEADER}\nA,ticket,Sneak,,,,,,,Acme/Site,,,,,\nB,ticket,Inbox,,,,,,,,,,,,"
    hidden = send(client, sneaking + "\nC,task,Inbox task,,,,,,,,,,,,", headers=ann)
    assert hidden.status_code == 422
    found = [(e["row"], e["column"], e["message"]) for e in hidden.json()["errors"]]
    assert found == [
        (2, "project", "no project 'Acme/Site' that you may see"),
        (3, "project", "you may not see the Inbox: name a project"),
        (4, "project", "you may not see the Inbox: name a project"),
    ]
    assert live.app.head() == head

    # One external id twice in a file; an external id imported as another kind before
    twice = send(client, f"{HEADER}\nX,ticket,One,,,,,,,,,,,,\nX,ticket,Two,,,,,,,,,,,,")
    assert twice.status_code == 422
    assert [(e["row"], e["column"]) for e in twice.json()["errors"]] == [(3, "external_id")]
    assert "also on row 2" in twice.text
    assert send(client, f"{HEADER}\nY,ticket,One,,,,,,,,,,,,").status_code == 201
    other = send(client, f"{HEADER}\nY,task,Now a task,,,,,,,,,,,,")
    assert other.status_code == 422
    [error] = other.json()["errors"]
    assert (error["row"], error["column"]) == (2, "kind")
    assert "'Y' was imported as ticket #" in error["message"]


def test_a_row_of_a_switched_off_app_is_a_problem(
    client: TestClient, live: bootstrap.Container
) -> None:
    assert (
        client.patch("/api/v1/admin/settings", json={"apps": {"tasks": False}}).status_code == 200
    )
    head = live.app.head()
    refused = send(client, "title,kind\nFine,ticket\nPlan,task\n")
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert (error["row"], error["column"]) == (3, "kind")
    assert "the tasks app is disabled" in error["message"]
    assert live.app.head() == head


def test_a_row_that_fails_when_written_stops_the_import_after_the_batches_before(
    live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = register(live, "boss@example.com", admin=True)
    ann = register(live, "ann@example.com")
    ctx = Context(actor=Actor.user(admin), correlation_id="import")
    monkeypatch.setattr(commands.imports.items, "BATCH_UNITS", 2)
    rows = [f"R{n},ticket,Row {n}," for n in range(5)]
    rows[3] = "R3,ticket,Row 3,ann@example.com"
    content = ("external_id,kind,title,assignees\n" + "\n".join(rows) + "\n").encode()
    reads: list[int] = []

    def source() -> Any:
        reads.append(1)
        if len(reads) == 2:  # Between the check and the write, Ann leaves
            leaving = live.app.repository.get(ann)
            leaving.deactivate(SYSTEM.actor, "test")
            live.app.save(leaving)
        return iter([content])

    service = ItemImportService(live.app, threading.Event())
    with pytest.raises(ImportStoppedError) as stopped:
        service.import_csv(source, ctx, Places())
    assert stopped.value.written == 2  # The first batch (rows 2 and 3); not row 4's batch
    [problem] = stopped.value.problems
    assert (problem.row, problem.column) == (5, "assignees")
    assert "no active staff user ann@example.com" in problem.message
    # Mended, the same rows again: the rest is written, the first two not twice
    mended = content.replace(b"ann@example.com", b"")
    done = service.import_csv(lambda: iter([mended]), ctx, Places())
    assert (done.created, done.existing) == ({"ticket": 3, "task": 0}, 2)


def test_problems_are_reported_a_thousand_at_a_time(live: bootstrap.Container) -> None:
    content = ("title,priority\n" + "T,huge\n" * 1_500).encode()
    service = ItemImportService(live.app, threading.Event())
    with pytest.raises(ImportRejectedError) as refused:
        service.import_csv(lambda: iter([content]), SYSTEM, Places())
    problems = refused.value.problems
    assert 1_000 < len(problems) < 1_500
    assert problems[-1].message == "and more: mend these first"
