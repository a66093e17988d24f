"""A write's answer is folded on from what was last folded (ADR 0004): whatever it starts
from — this process's memory, the `ticket_detail` view's row, or nothing — it is exactly the
full fold of the item's events at the version the write left, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.answers import Answers, FoldMemory
from commands.models import CommandResult
from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from projections.portal import customer_document
from projections.status_board import card_of
from projections.ticket_detail import fold
from tests.api.test_portal_api import as_customer, session
from tests.factories import admin_token

MESSAGES = "/api/v1/tickets/{n}/messages"

NO_SLA = {
    "policy": None,
    "state": None,
    "next_due": None,
    "due": None,
}  # an item held to no SLA policy


@contextmanager
def another_process(live: bootstrap.Container) -> Iterator[TestClient]:
    """A second app on the same store and views: its answers remember nothing of the first's."""
    with TestClient(live.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {admin_token(live, 'second@example.com')}"
        yield http


def answers_of(http: TestClient) -> Answers:
    found: Answers = http.app.state.services.answers  # type: ignore[attr-defined]
    return found


def full(live: bootstrap.Container, number: int, version: int) -> dict[str, Any]:
    doc = fold(live.commands.item_events_at(number, version))
    assert doc is not None
    return doc


def written(response: Any, status: int = 200) -> tuple[dict[str, Any], int]:
    assert response.status_code == status, response.text
    return response.json(), int(response.headers["ETag"].strip('"'))


def caught_up(
    http: TestClient, live: bootstrap.Container, number: int, kind: str = "ticket"
) -> None:
    """Wait until the views have every write so far (the item's row is then its latest)."""
    head = str(live.app.head())
    assert http.get(f"/api/v1/{kind}s/{number}", headers={"X-Min-Position": head}).is_success


def test_answers_fold_on_from_memory_and_equal_the_full_fold_and_the_read(
    client: TestClient, live: bootstrap.Container
) -> None:
    opened, version = written(client.post("/api/v1/tickets", json={"title": "Jam"}), 201)
    number = opened["number"]
    assert opened == full(live, number, version)
    memory = answers_of(client).items
    patches: list[dict[str, str]] = []
    for i, (priority, status) in enumerate([("high", "Open"), ("low", "Waiting on customer")] * 2):
        patches += [{"title": f"Jam {i}"}, {"priority": priority}, {"status": status}]
    for i, patch in enumerate(patches):
        hits = memory.hits
        doc, version = written(client.patch(f"/api/v1/tickets/{number}", json=patch))
        assert memory.hits == hits + 1, f"write {i} folded from scratch"
        assert doc == full(live, number, version)
    doc, version = written(
        client.post(MESSAGES.format(n=number), json={"body": "On it", "visibility": "customer"}),
        201,
    )
    assert doc == full(live, number, version)
    assert [m["body"] for m in doc["messages"]] == ["On it"]
    caught_up(client, live, number)
    # The read adds the SLA in brief (measured after writes: no write answers with it).
    assert client.get(f"/api/v1/tickets/{number}").json() == {**doc, "sla": NO_SLA}


def test_a_write_between_two_answers_by_another_process_is_in_the_next_answer(
    client: TestClient, live: bootstrap.Container
) -> None:
    doc, _ = written(client.post("/api/v1/tickets", json={"title": "Jam"}), 201)
    number = doc["number"]
    with another_process(live) as other:
        # The other process writes after this one remembered version 1
        written(other.patch(f"/api/v1/tickets/{number}", json={"priority": "urgent"}))
        doc, version = written(client.patch(f"/api/v1/tickets/{number}", json={"title": "New"}))
    assert (doc["priority"], doc["title"], version) == ("urgent", "New", 3)
    assert doc == full(live, number, version)


def test_an_answer_with_nothing_remembered_starts_from_the_views_row(
    client: TestClient, live: bootstrap.Container
) -> None:
    doc, _ = written(client.post("/api/v1/tickets", json={"title": "Jam"}), 201)
    number = doc["number"]
    messages = Answers.whole_up_to + 3  # Enough events to look for the item's view row
    for i in range(messages):
        client.post(MESSAGES.format(n=number), json={"body": f"m{i}", "visibility": "internal"})
    caught_up(client, live, number)
    with another_process(live) as other:
        answers = answers_of(other)
        doc, version = written(other.patch(f"/api/v1/tickets/{number}", json={"title": "New"}))
        assert (answers.seeded, answers.items.hits) == (1, 0)
    assert doc == full(live, number, version)
    assert len(doc["messages"]) == messages


def test_an_answer_for_a_version_the_view_has_passed_is_folded_whole(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Answers, "whole_up_to", 0)
    doc, first = written(client.post("/api/v1/tickets", json={"title": "Jam"}), 201)
    number = doc["number"]
    written(client.patch(f"/api/v1/tickets/{number}", json={"title": "Later"}))
    caught_up(client, live, number)
    fresh = Answers(live.commands, live.views)
    # "As the write at version 1 left it", though the view's row is at version 2
    assert fresh.item(number, first) == full(live, number, first)
    assert fresh.item(number, first)["title"] == "Jam"
    assert fresh.seeded == 0


def test_a_converted_tasks_answers_fold_on_from_its_tickets_history(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Answers, "whole_up_to", 0)  # Even a short item starts from its row
    doc, _ = written(client.post("/api/v1/tickets", json={"title": "Jam"}), 201)
    ticket = doc["number"]
    client.post(MESSAGES.format(n=ticket), json={"body": "Seen", "visibility": "customer"})
    task_doc, version = written(client.post(f"/api/v1/tickets/{ticket}/conversion"), 201)
    task = task_doc["number"]
    assert task_doc == full(live, task, version)
    doc, version = written(client.patch(f"/api/v1/tasks/{task}", json={"title": "Fix"}))
    assert doc == full(live, task, version)
    caught_up(client, live, task, "task")
    with another_process(live) as other:
        doc, version = written(other.patch(f"/api/v1/tasks/{task}", json={"priority": "low"}))
        assert answers_of(other).seeded == 1
    assert doc == full(live, task, version)
    assert doc["converted_from_ticket"] == ticket
    assert [m["body"] for m in doc["messages"]] == ["Seen"]


def test_a_customers_answers_fold_on_and_show_the_staff_writes_between(
    client: TestClient, live: bootstrap.Container
) -> None:
    token = session(client, "ada@acme.example")
    body = {"title": "Printer jammed", "requester_email": "ada@acme.example"}
    number = client.post("/api/v1/tickets", json=body).json()["number"]
    reply = f"/api/v1/portal/tickets/{number}/messages"
    customer = as_customer(token)
    first = client.post(reply, json={"body": "Hello"}, headers=customer)
    assert first.status_code == 201, first.text
    client.post(MESSAGES.format(n=number), json={"body": "Hi Ada", "visibility": "customer"})
    client.post(MESSAGES.format(n=number), json={"body": "secret", "visibility": "internal"})
    second = client.post(reply, json={"body": "Thanks"}, headers=customer)
    assert second.status_code == 201, second.text
    assert answers_of(client).customer.hits == 1
    version = int(live.app.repository.get(item_id(number)).version)
    whole = customer_document(
        live.commands.customer_ticket_events_after(number, item_id(number), version)
    )
    assert second.json() == whole
    assert [m["body"] for m in second.json()["messages"]] == ["Hello", "Hi Ada", "Thanks"]


def test_a_moved_cards_answer_folds_on_and_equals_its_full_fold(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Jam"}).json()["number"]
    moves = "/api/v1/views/status-board/moves"
    assert client.post(moves, json={"number": number, "status": "Open"}).is_success
    client.patch(f"/api/v1/tickets/{number}", json={"title": "Jam, again"})
    moved = client.post(moves, json={"number": number, "status": "Waiting on customer"})
    assert moved.status_code == 200, moved.text
    assert answers_of(client).cards.hits == 1
    card = card_of(live.commands.stream(item_id(number)))
    assert card is not None
    assert moved.json() == card.shown()
    assert moved.json()["title"] == "Jam, again"


def test_the_memory_hands_out_copies_keeps_the_latest_and_forgets_the_least_used() -> None:
    memory: FoldMemory[dict[str, Any], bytes] = FoldMemory(
        orjson.dumps, orjson.loads, len, budget=50
    )
    a, b, c = (item_id(n) for n in (1, 2, 3))
    memory.remember(a, 2, {"v": 2, "xs": [1]})
    got = memory.recall(a, 5)
    assert got == (2, {"v": 2, "xs": [1]})
    got[1]["xs"].append(99)  # An answer changing its copy changes nothing remembered
    assert memory.recall(a, 5) == (2, {"v": 2, "xs": [1]})
    assert memory.recall(a, 1) is None  # Later than asked for: cannot fold back
    memory.remember(a, 1, {"v": 1})  # An older state never replaces a newer one
    assert memory.recall(a, 9) == (2, {"v": 2, "xs": [1]})
    memory.remember(b, 1, {"v": "b" * 10})
    memory.recall(a, 9)  # a is now the most recently used
    memory.remember(c, 1, {"v": "c" * 10})  # over budget: b goes, not a
    assert memory.recall(b, 9) is None
    assert memory.recall(a, 9) is not None
    assert memory.recall(c, 9) is not None
    memory.remember(b, 1, {"v": "x" * 100})  # heavier than the whole budget: not kept
    assert memory.recall(b, 9) is None


def test_a_result_for_a_converted_ticket_names_the_task(
    client: TestClient, live: bootstrap.Container
) -> None:
    """The customer's answer after conversion folds on under the task's id and version."""
    token = session(client, "bob@acme.example")
    body = {"title": "Broken", "requester_email": "bob@acme.example"}
    number = client.post("/api/v1/tickets", json=body).json()["number"]
    task = client.post(f"/api/v1/tickets/{number}/conversion").json()["number"]
    reply = f"/api/v1/portal/tickets/{number}/messages"
    for text in ("One", "Two"):
        answered = client.post(reply, json={"body": text}, headers=as_customer(token))
        assert answered.status_code == 201, answered.text
    aggregate = live.app.repository.get(item_id(task))
    result = CommandResult(
        id=aggregate.id, number=number, version=aggregate.version, position=live.app.head()
    )
    whole = customer_document(
        live.commands.customer_ticket_events_after(number, aggregate.id, aggregate.version)
    )
    assert answered.json() == whole == Answers(live.commands, live.views).customer_ticket(result)
    assert [m["body"] for m in whole["messages"]][-2:] == ["One", "Two"]  # type: ignore[index]


def test_a_view_row_of_another_schema_is_not_a_start(
    client: TestClient, live: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live generation written by another version of the code (its document may lack
    fields) is never folded on from: the answer folds the stream whole."""
    monkeypatch.setattr(Answers, "whole_up_to", 0)
    doc, _ = written(client.post("/api/v1/tickets", json={"title": "Jam"}), 201)
    number = doc["number"]
    written(client.patch(f"/api/v1/tickets/{number}", json={"title": "Later"}))
    caught_up(client, live, number)
    with live.views.write() as tx:
        tx.execute(
            "UPDATE projection_tracking SET schema_version = schema_version - 1"
            " WHERE view = 'ticket_detail' AND is_current = 1"
        )
    fresh = Answers(live.commands, live.views)
    assert fresh.item(number, 2) == full(live, number, 2)
    assert fresh.seeded == 0
