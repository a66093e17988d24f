"""Time reports: the report grouped by user and month over a year of 1,000,000 timesheet
events, as JSON (p95) and as a streamed CSV export (time to the last byte), each beside the
raw SQL aggregate the report sends, over the same rows.

ledgerdesk, JSON below HTTP: a read transaction from the view pool, the live generation's
tables, `timesheets.report` (one aggregate SELECT with the names joined; totals summed from
the groups), then orjson. JSON via HTTP: `GET /api/v1/reports/timesheets` on the real app
in process (TestClient: auth, scope, parameters, the same work, the response). CSV:
`?format=csv` through the same app, read to the last byte: the report's groups, 2,000 at a
time through a server-side cursor, written by the csv module. Raw: the SELECT the report sent
(recorded once), on one autocommit psycopg connection, rows as tuples; and, for the JSON
figure, also the least SQL that answers the question (`SUM(minutes)` by user and month).

The data are real events made the fast way: users, projects (in customer folders) and
tasks are saved through the application; the timesheet entries' events (logged, then
approved, submitted later, or edited) come from `TimesheetEntry`'s own methods and are
bulk-inserted through the event store's recorder, `BATCH` at a time, skipping the
application's per-save work (no snapshot or commit listener cares about these streams).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
import psycopg
from fastapi.testclient import TestClient

from bench.common import (
    PG_URL,
    Figure,
    RecordingTx,
    migrated,
    percentile,
    pg_schema,
    pg_settings,
    say,
    scratch_dir,
    show,
)
from commands.models import Context, IssueToken, RegisterUser
from domain.customer import Organisation, Sharing
from domain.project import Project
from domain.task import Task
from domain.timesheet import TimesheetEntry
from domain.user import Apps, CompanyRole, User
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.timesheet_query import EntryFilter, EntryScope, ReportQuery, report

EVENTS = 1_000_000
USERS = 200
PROJECTS = 40
CUSTOMERS = 12
TASKS = 2_000
BATCH = 10_000
JSON_RUNS = 40
CSV_RUNS = 10
WARM_UP = 3
# Smoke: a small firm and a few calls (checks the benchmark runs; figures meaningless).
SMOKE_USERS = 10
SMOKE_TASKS = 50
SMOKE_RUNS = 3
SMOKE_WARM_UP = 1
SEED = 20261124
YEAR = 2026
ACTOR = Actor.system("bench")
ACTIVITIES = ("Development", "Meetings", "Support", "Design", "Testing")


@dataclass
class Timesheets:
    container: bootstrap.Container
    schema: str
    events: int
    entries: int
    token: str
    smoke: bool = False


def _id(kind: str, n: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"https://ledgerdesk.invalid/bench/{kind}/{n}")


def _people_and_places(
    c: bootstrap.Container, rng: random.Random, user_count: int, task_count: int, first: int
) -> tuple[list[User], list[Task]]:
    users = [
        User.register(
            email=f"user{n}@example.com",
            name=f"User {n}",
            role=CompanyRole.MEMBER,
            apps=Apps.BOTH,
            flags=[],
            actor=ACTOR,
            correlation_id="bench",
        )
        for n in range(user_count)
    ]
    customers = [
        Organisation.register(
            name=f"Customer {n}",
            domains=[],
            sharing=Sharing.NONE,
            actor=ACTOR,
            correlation_id="bench",
        )
        for n in range(CUSTOMERS)
    ]
    projects = []
    for n in range(PROJECTS):
        project = Project.create(
            project_id=_id("project", n),
            name=f"Project {n}",
            manager=None,
            actor=ACTOR,
            correlation_id="bench",
        )
        for customer in rng.sample(customers, rng.choice((0, 1, 1, 2))):
            project.place_in_customer_folder(customer.id, ACTOR, "bench")
        projects.append(project)
    tasks = [
        Task.plan(
            number=first + n,
            title=f"Work package {first + n}",
            actor=ACTOR,
            correlation_id="bench",
            project_id=projects[n % PROJECTS].id,
        )
        for n in range(task_count)
    ]
    c.app.save(*users, *customers, *projects)
    for start in range(0, task_count, 1_000):
        c.app.save(*tasks[start : start + 1_000])
    return users, tasks


def _entry(n: int, users: list[User], tasks: list[Task], rng: random.Random) -> TimesheetEntry:
    task = rng.choice(tasks)
    draft = rng.random() < 0.1
    entry = TimesheetEntry.log(
        entry_id=_id("entry", n),
        user_id=rng.choice(users).id,
        item_number=task.number,
        project_id=task.project_id,
        work_date=date(YEAR, 1, 1) + timedelta(days=rng.randrange(365)),
        minutes=rng.choice((15, 30, 45, 60, 90, 120, 240, 480)),
        billable=rng.random() < 0.7,
        activity=rng.choice(ACTIVITIES),
        draft=draft,
        actor=ACTOR,
        correlation_id="bench",
    )
    roll = rng.random()
    if draft:
        entry.submit(ACTOR, "bench")
    elif roll < 0.6:
        entry.approve(ACTOR, "bench")
    elif roll < 0.7:
        entry.edit({"minutes": 60, "billable": True}, ACTOR, "bench")
    elif roll < 0.75:
        entry.reject("wrong item", ACTOR, "bench")
    elif roll < 0.78:
        entry.withdraw(ACTOR, "bench")
    return entry


def seed(c: bootstrap.Container, events: int, smoke: bool = False, first_number: int = 1) -> int:
    """Save the people, projects and tasks (numbered from `first_number`); bulk-insert
    entries' events up to `events`."""
    rng = random.Random(SEED)
    users, tasks = _people_and_places(
        c, rng, SMOKE_USERS if smoke else USERS, SMOKE_TASKS if smoke else TASKS, first_number
    )
    recorder, mapper = c.app.recorder, c.app.mapper
    entries, pending, inserted = 0, [], 0
    while inserted + len(pending) < events:
        for event in _entry(entries, users, tasks, rng).collect_events():
            pending.append(mapper.to_stored_event(event))
        entries += 1
        if len(pending) >= BATCH:
            recorder.insert_events(pending)
            inserted += len(pending)
            pending = []
    recorder.insert_events(pending)
    return entries


@contextmanager
def seeded(events: int = EVENTS, smoke: bool = False) -> Iterator[Timesheets]:
    """A throwaway schema with the events, the timesheets view built, and an admin's token."""
    with (
        scratch_dir() as data,
        pg_schema() as schema,
        migrated(pg_settings(schema, data)) as container,
    ):
        say(f"timesheets: seeding about {events:,} timesheet events")
        started = time.perf_counter()
        entries = seed(container, events, smoke)
        context = Context(actor=ACTOR, correlation_id="bench")
        container.accounts.register_user(
            RegisterUser(email="bench@example.com", name="bench", role=CompanyRole.ADMIN), context
        )
        token = container.accounts.issue_token(IssueToken(email="bench@example.com"), context)
        head = container.app.head()
        seconds = time.perf_counter() - started
        say(f"timesheets: {head:,} events ({entries:,} entries) in {seconds:.0f} s")
        started = time.perf_counter()
        container.runner.catch_up(["timesheets"])
        seconds = time.perf_counter() - started
        say(f"timesheets: view built in {seconds:.0f} s ({head / seconds:,.0f} events/s)")
        # Statistics for the planner, as autovacuum would gather them shortly after a build.
        with psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={schema}") as conn:
            conn.execute("ANALYZE")
        yield Timesheets(container, schema, head, entries, token[1], smoke)


def latency_figure(
    name: str, ours: list[float], raw: list[float], note: str, baseline: str
) -> Figure:
    figure = Figure(
        name=name,
        value=percentile(ours, 95),
        unit="ms",
        baseline=percentile(raw, 95),
        baseline_name=baseline,
        note=note + f"; p50 {percentile(ours, 50):.1f} vs {percentile(raw, 50):.1f} ms",
        lower_is_better=True,
    )
    show(figure)
    return figure


def timed_pairs(
    runs: int, ours: Callable[[], Any], raw: Callable[[], Any], warm_up: int = WARM_UP
) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each, alternating so that both see the same machine."""
    for _ in range(warm_up):
        ours()
        raw()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for operation, into in ((ours, samples[0]), (raw, samples[1])):
            started = time.perf_counter()
            operation()
            into.append((time.perf_counter() - started) * 1000)
    return samples


def run(data: Timesheets) -> list[Figure]:
    views = data.container.views
    json_runs, csv_runs = (SMOKE_RUNS, SMOKE_RUNS) if data.smoke else (JSON_RUNS, CSV_RUNS)
    warm_up = SMOKE_WARM_UP if data.smoke else WARM_UP
    query = ReportQuery(
        EntryFilter(
            EntryScope("bench", True, frozenset()),
            since=date(YEAR, 1, 1),
            until=date(YEAR, 12, 31),
        ),
        ("user", "month"),
    )
    params = {"group_by": "user,month", "from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}

    def json_report() -> bytes:
        with views.read() as tx:
            return orjson.dumps(report(tx, current_tables(tx, "timesheets"), query, None, 5000))

    with views.read() as tx:
        recorder = RecordingTx(tx)
        shown = report(recorder, current_tables(tx, "timesheets"), query, None, 5000)
    groups, (sql, sent) = len(shown["groups"]), recorder.sent[0]
    statement = sql.replace("%", "%%").replace("?", "%s")
    with views.read() as tx:
        entries = current_tables(tx, "timesheets")["timesheet_entries"]
    # The least a database can do for this report: one sum per user and month.
    minimal = (
        f"SELECT user_id, month, SUM(minutes) FROM {entries} WHERE work_date >= %s"
        " AND work_date <= %s AND state <> 'withdrawn' GROUP BY user_id, month"
    )
    figures: list[Figure] = []
    with (
        psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={data.schema}") as conn,
        TestClient(data.container.http_app()) as http,
    ):
        conn.prepare_threshold = None  # never prepared: planned for its values, as ours

        def raw() -> int:
            return len(conn.execute(statement, sent).fetchall())

        def raw_minimal() -> int:
            return len(conn.execute(minimal, (f"{YEAR}-01-01", f"{YEAR}-12-31")).fetchall())

        headers = {"Authorization": f"Bearer {data.token}"}

        def over_http(**extra: str) -> Callable[[], int]:
            def call() -> int:
                response = http.get(
                    "/api/v1/reports/timesheets", params={**params, **extra}, headers=headers
                )
                assert response.status_code == 200, response.text
                return len(response.content)

            return call

        rows = f"{data.events:,} events, {groups:,} groups"
        baseline = "the report's SELECT via psycopg"
        say(f"timesheets: user x month report over {rows} ({json_runs} runs each)")
        figures.append(
            latency_figure(
                "time report JSON p95",
                *timed_pairs(json_runs, json_report, raw, warm_up),
                rows,
                baseline,
            )
        )
        figures.append(
            latency_figure(
                "time report JSON p95, against the least SQL",
                *timed_pairs(json_runs, json_report, raw_minimal, warm_up),
                rows,
                "SUM(minutes) by user and month via psycopg",
            )
        )
        figures.append(
            latency_figure(
                "time report JSON p95 via HTTP (in-process)",
                *timed_pairs(json_runs, over_http(), raw, warm_up),
                "TestClient, auth and scope included",
                baseline,
            )
        )
        size = over_http(format="csv")()
        say(f"timesheets: CSV export of {groups:,} rows, {size:,} bytes ({csv_runs} runs each)")
        figures.append(
            latency_figure(
                "time report CSV export p95, to the last byte",
                *timed_pairs(csv_runs, over_http(format="csv"), raw, warm_up),
                f"{groups:,} rows through a server-side cursor",
                baseline,
            )
        )
    return figures
