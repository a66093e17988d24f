"""Imports as jobs, on both backends with the workers running: a large file (or any with
`job=true`) answers 202 with the job's Location; the job runs on a worker with its sender's
rights and ends `succeeded` with the result its route would have answered, or `failed` with
the problem (a file with a bad row writes nothing); only its sender or an admin sees it; a
job whose worker died runs again."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from commands.imports.jobs import ImportJobService
from commands.models import ChangeUser, Context
from domain.import_jobs import HOLD
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.base import current_tables
from projections.import_jobs import QUEUED_FOR, find_job, job_document, jobs_to_run
from projections.item_places import Places
from tests.api.seeded_desk import after, ok
from tests.api.test_plan_imports import plan_file
from tests.factories import SYSTEM, admin_token, register, user_token


@pytest.fixture
def working(settings: Settings) -> Iterator[bootstrap.Container]:
    """Workers running; files over 2 KB run as jobs."""
    fast = settings.model_copy(update={"tick_seconds": 0.2, "import_job_bytes": 2048})
    bootstrap.migrate(fast)
    built = bootstrap.build(fast)
    built.follow()
    built.work()
    yield built
    built.close()


@pytest.fixture
def admin(working: bootstrap.Container) -> Iterator[TestClient]:
    token = admin_token(working)
    with TestClient(working.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        yield http


def finished(client: TestClient, working: bootstrap.Container, location: str) -> dict[str, Any]:
    """The job once it has ended (its worker runs it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = ok(client.get(location, headers=after(working)))
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"the job did not finish: {job}")


def csv_file(rows: int, bad_row: int | None = None) -> bytes:
    lines = ["external_id,kind,title,priority"]
    for n in range(rows):
        priority = "huge" if n == bad_row else "normal"
        lines.append(f"JOB-{n},task,Imported task number {n} of a large file,{priority}")
    return ("\n".join(lines) + "\n").encode()


def test_a_large_file_is_imported_by_a_job_with_the_routes_result(
    admin: TestClient, working: bootstrap.Container
) -> None:
    data = csv_file(60)  # over 2 KB: a job
    sent = admin.post("/api/v1/imports/items", files={"file": ("big.csv", data, "text/csv")})
    assert sent.status_code == 202, sent.text
    location = sent.headers["location"]
    assert location == f"/api/v1/imports/{sent.json()['id']}"
    # (The in-process worker may take the job before the answer is read back: on a busy
    # machine the answer already says so.)
    assert sent.json()["state"] in ("queued", "running", "succeeded")
    assert sent.json()["file"] == {"name": "big.csv", "size": len(data)}
    job = finished(admin, working, location)
    assert job["state"] == "succeeded", job
    assert job["kind"] == "items"
    assert job["result"]["created"] == {"ticket": 0, "task": 60}
    assert job["result"]["rows"] == 60
    assert job["progress"] == {"stage": "done", "done": 60, "total": 60}
    assert job["problem"] is None
    listed = ok(admin.get("/api/v1/views/flat", params={"limit": 100}, headers=after(working)))
    assert sum(1 for i in listed["items"] if i["title"].startswith("Imported task")) == 60

    # The same file as a small one would be: the same import, found done.
    again = admin.post("/api/v1/imports/items", files={"file": ("big.csv", data, "text/csv")})
    again_job = finished(admin, working, again.headers["location"])
    assert again_job["result"]["created"] == {"ticket": 0, "task": 0}
    assert again_job["result"]["existing"] == 60


def test_a_job_with_a_bad_row_fails_with_the_problem_and_writes_nothing(
    admin: TestClient, working: bootstrap.Container
) -> None:
    sent = admin.post(
        "/api/v1/imports/items", files={"file": ("bad.csv", csv_file(60, bad_row=41), "text/csv")}
    )
    assert sent.status_code == 202, sent.text
    job = finished(admin, working, sent.headers["location"])
    assert job["state"] == "failed"
    problem = job["problem"]
    assert (problem["status"], problem["type"]) == (422, "/problems/validation-error")
    assert [(e["row"], e["column"]) for e in problem["errors"]] == [(43, "priority")]
    listed = ok(admin.get("/api/v1/views/flat", headers=after(working)))
    assert not [i for i in listed["items"] if i["title"].startswith("Imported task")]


def test_a_plan_can_be_asked_to_run_as_a_job_and_only_its_sender_sees_it(
    admin: TestClient, working: bootstrap.Container
) -> None:
    me = ok(admin.get("/api/v1/me"))
    sent = admin.post(
        "/api/v1/imports/msproject",
        files={"file": ("plan.xml", plan_file(me["email"]), "application/xml")},
        params={"job": "true"},
    )
    assert sent.status_code == 202, sent.text
    job = finished(admin, working, sent.headers["location"])
    assert job["state"] == "succeeded", job
    assert job["kind"] == "msproject"
    assert job["result"]["created"]["tasks"] == 6
    assert job["result"]["project_created"] is True

    with TestClient(working.http_app()) as other:
        other.headers["Authorization"] = f"Bearer {user_token(working, 'other@example.com')}"
        hidden = other.get(sent.headers["location"], headers=after(working))
        assert hidden.status_code == 404
    unknown = admin.get(f"/api/v1/imports/{UUID(int=7)}", headers=after(working))
    assert unknown.status_code == 404
    bad = admin.post(
        "/api/v1/imports/msproject",
        files={"file": ("plan.xml", plan_file(me["email"]), "application/xml")},
        data={"project": "No/Such"},
        params={"job": "true"},
    )
    assert bad.status_code == 422  # A bad project name fails at once, before any job.


def test_a_job_whose_worker_died_runs_again_after_its_hold(live: bootstrap.Container) -> None:
    """A job left running (its worker killed) is left alone while its hold lasts, then run
    again — and the tick asks for it. (No workers here: the test plays them.)"""
    admin = register(live, "boss@example.com", admin=True)
    ctx = Context(actor=Actor.user(admin), correlation_id="test")
    now = [datetime(2026, 12, 7, 9, tzinfo=UTC)]
    jobs = ImportJobService(
        live.app, live.commands.blobs, live.jobs.items, live.jobs.plans, clock=lambda: now[0]
    )
    queued = jobs.queue("items", io.BytesIO(csv_file(3)), "small.csv", {}, ctx, 10_000)
    assert jobs._start(queued.job_id) is not None  # A worker starts it, then dies.

    def places() -> Places:
        with live.views.read() as tx:
            return Places.read(tx)

    def due() -> list[str]:
        assert live.runner.wait_for(live.app.head(), ["import_jobs"], 10)
        with live.views.read() as tx:
            return jobs_to_run(tx, current_tables(tx, "import_jobs"), now[0])

    assert due() == []
    assert jobs.run_job(queued.job_id, places, lambda names: {}) == "nothing to run"
    now[0] += HOLD
    assert due() == [str(queued.job_id)]
    assert jobs.run_job(queued.job_id, places, lambda names: {}) == "succeeded"
    job = jobs.job(queued.job_id)
    assert (job.state, job.attempts) == ("succeeded", 2)
    assert due() == []
    assert jobs.run_job(queued.job_id, places, lambda names: {}) == "nothing to run"


NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


def _jobs(live: bootstrap.Container, now: list[datetime]) -> ImportJobService:
    return ImportJobService(
        live.app, live.commands.blobs, live.jobs.items, live.jobs.plans, clock=lambda: now[0]
    )


def _places(live: bootstrap.Container) -> Callable[[], Places]:
    def places() -> Places:
        with live.views.read() as tx:
            return Places.read(tx)

    return places


def _view(live: bootstrap.Container, job_id: Any) -> dict[str, Any]:
    assert live.runner.wait_for(live.app.head(), ["import_jobs"], 10)
    with live.views.read() as tx:
        row = find_job(tx, current_tables(tx, "import_jobs"), str(job_id))
    assert row is not None
    return job_document(row)


def _flat_titles(client: TestClient, live: bootstrap.Container, prefix: str) -> list[str]:
    listed = ok(client.get("/api/v1/views/flat", params={"limit": 100}, headers=after(live)))
    return [i["title"] for i in listed["items"] if i["title"].startswith(prefix)]


# A job runs with the rights of a sender who has since been deactivated.
def test_a_deactivated_senders_job_does_not_import(
    client: TestClient, live: bootstrap.Container
) -> None:
    boss = register(live, "boss@example.com", admin=True)
    now = [NOW]
    jobs = _jobs(live, now)
    ctx = Context(actor=Actor.user(boss), correlation_id="test")
    queued = jobs.queue("items", io.BytesIO(csv_file(3)), "f.csv", {}, ctx, 10_000)
    live.accounts.change_user(ChangeUser(user_id=boss, active=False), SYSTEM)

    outcome = jobs.run_job(queued.job_id, _places(live), lambda names: {})

    assert outcome.startswith("failed"), outcome
    problem = _view(live, queued.job_id)["problem"]
    assert (problem["status"], problem["detail"]) == (
        403, "the person who sent the file is deactivated",
    )  # fmt: skip
    assert _flat_titles(client, live, "Imported task") == []


# The 202 answer is not the document GET answers for the same (still queued) job.
def test_the_202_body_is_the_job_document_get_shows(
    client: TestClient, live: bootstrap.Container
) -> None:
    sent = client.post(
        "/api/v1/imports/items",
        files={"file": ("f.csv", csv_file(3), "text/csv")},
        params={"job": "true"},
    )
    assert sent.status_code == 202, sent.text
    got = ok(client.get(sent.headers["location"], headers=after(live)))
    assert got["state"] == "queued"  # (no workers here)
    assert sent.json()["created_at"] == got["created_at"]
    assert sent.json() == got


# A finished dry run (or a file imported before) shows the rows of its first
#    throttled progress record as done/total, not the file's rows.
def test_a_finished_dry_run_job_shows_every_row_done(live: bootstrap.Container) -> None:
    boss = register(live, "boss@example.com", admin=True)
    now = [NOW]  # A clock that stands still: every progress after the first is throttled.
    jobs = _jobs(live, now)
    ctx = Context(actor=Actor.user(boss), correlation_id="test")
    data = csv_file(2500)  # three batches of at most 1,000 rows
    queued = jobs.queue("items", io.BytesIO(data), "f.csv", {"dry_run": True}, ctx, 10**7)
    assert jobs.run_job(queued.job_id, _places(live), lambda names: {}) == "succeeded"
    job = _view(live, queued.job_id)
    assert job["result"]["rows"] == 2500
    assert job["progress"] == {"stage": "done", "done": 2500, "total": 2500}


# A plan the route refuses with 422 fails as a job with a 500 "error of ours".
def test_a_plan_job_refused_by_a_command_model_fails_with_the_routes_problem(
    client: TestClient, live: bootstrap.Container
) -> None:
    me = ok(client.get("/api/v1/me"))
    name = "N" * 201  # past CreateProject's 200 characters
    inline = client.post(
        "/api/v1/imports/msproject",
        files={"file": ("plan.xml", plan_file(me["email"]), "application/xml")},
        data={"project": name},
    )
    assert inline.status_code == 422, inline.text

    now = [NOW]
    jobs = _jobs(live, now)
    ctx = Context(actor=Actor.user(UUID(me["id"])), correlation_id="t")
    queued = jobs.queue(
        "msproject", io.BytesIO(plan_file(me["email"])), "plan.xml",
        {"project": name, "dry_run": False}, ctx, 10**7,
    )  # fmt: skip
    jobs.run_job(queued.job_id, _places(live), lambda names: {})
    problem = _view(live, queued.job_id)["problem"]
    assert problem["status"] == inline.json()["status"], problem
    assert problem["type"] == inline.json()["type"]


# A job whose run kills its worker (out of memory on a large plan, a JVM crash) is
#    started again every 15 minutes, for ever: nothing gives it up.
def test_a_job_that_keeps_killing_its_worker_is_given_up(live: bootstrap.Container) -> None:
    boss = register(live, "boss@example.com", admin=True)
    now = [NOW]
    jobs = _jobs(live, now)
    ctx = Context(actor=Actor.user(boss), correlation_id="test")
    queued = jobs.queue("items", io.BytesIO(csv_file(3)), "f.csv", {}, ctx, 10_000)
    for _ in range(10):
        if jobs._start(queued.job_id) is None:  # the worker dies in the run
            break
        now[0] += HOLD
    job = jobs.job(queued.job_id)
    assert (job.attempts, job.state) == (3, "failed"), job.attempts
    assert live.runner.wait_for(live.app.head(), ["import_jobs"], 10)
    with live.views.read() as tx:
        due = jobs_to_run(tx, current_tables(tx, "import_jobs"), now[0])
    assert str(queued.job_id) not in due


# A worker stopped mid-import (ImportInterruptedError: a deploy) leaves the job
#    "running" under a hold nobody holds: no worker takes it for 15 minutes.
def test_an_interrupted_job_is_due_again_at_once(live: bootstrap.Container) -> None:
    boss = register(live, "boss@example.com", admin=True)
    now = [NOW]
    jobs = _jobs(live, now)
    ctx = Context(actor=Actor.user(boss), correlation_id="test")
    queued = jobs.queue("items", io.BytesIO(csv_file(3)), "f.csv", {}, ctx, 10_000)
    jobs.items.stopping.set()
    try:
        outcome = jobs.run_job(queued.job_id, _places(live), lambda names: {})
    finally:
        jobs.items.stopping.clear()
    assert outcome.startswith("interrupted"), outcome
    assert live.runner.wait_for(live.app.head(), ["import_jobs"], 10)
    with live.views.read() as tx:
        due = jobs_to_run(tx, current_tables(tx, "import_jobs"), now[0])
    assert _view(live, queued.job_id)["state"] == "queued"
    assert due == []  # (The queue's own message comes first; the tick asks after a minute.)
    later = datetime.now(UTC) + QUEUED_FOR
    with live.views.read() as tx:
        assert jobs_to_run(tx, current_tables(tx, "import_jobs"), later) == [str(queued.job_id)]
    assert jobs.run_job(queued.job_id, _places(live), lambda names: {}) == "succeeded"
    assert jobs.job(queued.job_id).attempts == 2


# docs/api.md: "A project named that does not exist is refused before any job (422)".
#    A project id no project has is queued, and fails in the job (404).
def test_an_unknown_project_id_is_refused_before_any_job(client: TestClient) -> None:
    me = ok(client.get("/api/v1/me"))
    sent = client.post(
        "/api/v1/imports/msproject",
        files={"file": ("plan.xml", plan_file(me["email"]), "application/xml")},
        data={"project": str(UUID(int=99))},
        params={"job": "true"},
    )
    assert sent.status_code == 404, sent.text
