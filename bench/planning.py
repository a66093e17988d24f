"""Planning views: Gantt p95 for a project of 2,000 tasks and 2,000 dependencies, and the
status board p95 at 100k items in one project, each beside the raw SELECTs reading the
same rows.

ledgerdesk, below HTTP: what the routes do — a read transaction from the view pool, the
live generation's tables, the view's query (`gantt_query.chart_rows` then
`gantt_query.chart_document`, which computes the critical path over the stored working-day
offsets and finishes each task's stored JSON, then orjson; `status_board.board`).
The Gantt is also timed through HTTP: `GET /api/v1/views/gantt` on the real app in process
(TestClient: routing, auth, scope, the project check, JSON), and once more after its project
has set a calendar of its own (`gantt_query.project_chart`, whose offsets then come from the
dates at each read). Raw: the very SELECTs and
parameters the query sent (recorded once), on one autocommit psycopg connection, rows as
tuples.

The data are real events made the fast way (as in `bench.dataset`): tasks planned with
numbers from the real counter and their own domain methods, saved a thousand at a time.
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
    RUNS,
    Figure,
    RecordingTx,
    latency_figure,
    migrated,
    pg_schema,
    pg_settings,
    replayed,
    say,
    scratch_dir,
    timed_pairs,
)
from commands.models import Context, IssueToken, RegisterUser
from domain.item_numbers import ItemNumberCounter
from domain.planning.calendar import WorkCalendar
from domain.planning.links import LinkKind
from domain.project import Project
from domain.task import Task
from domain.user import CompanyRole
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.gantt_query import chart_document, chart_rows, project_chart
from projections.status_board import board

GANTT_TASKS = 2_000
GANTT_LINKS = 2_000
BOARD_ITEMS = 100_000
BATCH = 1_000
SEED = 20261123
ACTOR = Actor.system("bench")
STATUSES = (("In progress", 0.3), ("On hold", 0.1), ("Done", 0.3))  # the rest: Not started
PRIORITIES = ("low", "normal", "normal", "high", "urgent")
FIRST_DAY = date(2027, 1, 4)


@dataclass
class Plans:
    container: bootstrap.Container
    schema: str
    gantt_project: str
    board_project: str
    token: str


def _task(number: int, project: Project, rng: random.Random) -> Task:
    start = FIRST_DAY + timedelta(days=rng.randrange(0, 300))
    task = Task.plan(
        number=number,
        title=f"Work package {number}",
        priority=rng.choice(PRIORITIES),
        actor=ACTOR,
        correlation_id=f"bench-{number}",
        project_id=project.id,
        start=start,
        duration_days=rng.randint(1, 10),
        points=float(rng.randint(1, 8)),
    )
    roll = rng.random()
    for status, share in STATUSES:
        if roll < share:
            task.change_status(status, ACTOR, f"bench-{number}")
            break
        roll -= share
    return task


def _seed(c: bootstrap.Container, board_items: int) -> tuple[Project, Project]:
    rng = random.Random(SEED)
    counter = ItemNumberCounter.start()
    gantt, big = (
        Project.create(
            project_id=uuid5(NAMESPACE_URL, f"https://ledgerdesk.invalid/bench/{name}"),
            name=name,
            manager=None,
            actor=ACTOR,
            correlation_id="bench",
        )
        for name in ("Gantt 2k", "Board 100k")
    )
    c.app.save(counter, gantt, big)
    tasks: list[Task] = []
    for _ in range(GANTT_TASKS):
        tasks.append(_task(counter.issue("task", ACTOR, "bench"), gantt, rng))
    # Each task after the first follows an earlier one (so the links make no cycle), and
    # the rest of the links go between random earlier/later pairs.
    pairs = {(rng.randrange(0, i), i) for i in range(1, GANTT_TASKS)}
    while len(pairs) < GANTT_LINKS:
        a, b = sorted(rng.sample(range(GANTT_TASKS), 2))
        pairs.add((a, b))
    for before, after in sorted(pairs):
        tasks[after].depend_on(tasks[before], LinkKind.FINISH_TO_START, 0, ACTOR, "bench")
    for start in range(0, len(tasks), BATCH):
        c.app.save(counter, *tasks[start : start + BATCH])
    for start in range(0, board_items, BATCH):
        batch = [
            _task(counter.issue("task", ACTOR, "bench"), big, rng)
            for _ in range(min(BATCH, board_items - start))
        ]
        c.app.save(counter, *batch)
    return gantt, big


@contextmanager
def seeded(board_items: int = BOARD_ITEMS) -> Iterator[Plans]:
    """A throwaway schema with the two projects, their views built."""
    with (
        scratch_dir() as data,
        pg_schema() as schema,
        migrated(pg_settings(schema, data)) as container,
    ):
        say(f"planning: seeding {GANTT_TASKS:,} linked tasks and {board_items:,} board items")
        started = time.perf_counter()
        gantt, big = _seed(container, board_items)
        container.accounts.register_user(
            RegisterUser(email="bench@example.com", name="bench", role=CompanyRole.ADMIN),
            _context(),
        )
        token = container.accounts.issue_token(IssueToken(email="bench@example.com"), _context())
        say(f"planning: {container.app.head():,} events in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        container.runner.catch_up(["access", "hierarchy", "gantt", "status_board"])
        say(f"planning: views built in {time.perf_counter() - started:.0f} s")
        yield Plans(container, schema, str(gantt.id), str(big.id), token[1])


def _context() -> Context:
    return Context(actor=ACTOR, correlation_id="bench")


def run(plans: Plans) -> list[Figure]:
    views = plans.container.views
    figures: list[Figure] = []

    def gantt() -> bytes:
        with views.read() as tx:
            rows, links = chart_rows(tx, current_tables(tx, "gantt"), plans.gantt_project)
        return orjson.dumps(chart_document(rows, links))

    def status_board() -> dict[str, Any]:
        with views.read() as tx:
            t = current_tables(tx, "status_board")
            return board(tx, t, plans.board_project, "task", 20)

    with views.read() as tx:
        recorder = RecordingTx(tx)
        bars, links = chart_rows(recorder, current_tables(tx, "gantt"), plans.gantt_project)
        gantt_sent = recorder.sent
        recorder = RecordingTx(tx)
        shown = board(recorder, current_tables(tx, "status_board"), plans.board_project, "task", 20)
        board_sent = recorder.sent
    cards = sum(c["count"] for c in shown["columns"])
    assert len(bars) == GANTT_TASKS, len(bars)
    with (
        psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={plans.schema}") as raw,
        TestClient(plans.container.http_app()) as http,
    ):
        gantt_raw, board_raw = replayed(raw, gantt_sent), replayed(raw, board_sent)
        say(f"planning: gantt of {len(bars):,} tasks, {len(links):,} links ({RUNS} runs each)")
        figures.append(
            latency_figure("gantt p95, 2k tasks + 2k links", *timed_pairs(gantt, gantt_raw))
        )
        headers = {"Authorization": f"Bearer {plans.token}"}

        def over_http() -> int:
            response = http.get(
                "/api/v1/views/gantt", params={"project": plans.gantt_project}, headers=headers
            )
            assert response.status_code == 200, response.text
            return len(response.content)

        figures.append(
            latency_figure(
                "gantt p95 via HTTP (in-process)",
                *timed_pairs(over_http, gantt_raw),
                note="TestClient, auth and scope included",
            )
        )
        figures.append(_own_calendar(plans, gantt_raw))
        say(f"planning: status board of {cards:,} cards, 20 a column ({RUNS} runs each)")
        figures.append(
            latency_figure(
                f"status board p95, {cards:,} items", *timed_pairs(status_board, board_raw)
            )
        )
    return figures


def _own_calendar(plans: Plans, gantt_raw: Callable[[], object]) -> Figure:
    """The same Gantt once its project works Monday to Thursday, a month's first Monday off:
    the chart counts offsets from the dates (`gantt_query.project_chart`), not the stored ones."""
    c = plans.container
    project = c.app.repository.get(UUID(plans.gantt_project))
    firsts = (date(FIRST_DAY.year, month, 1) for month in range(1, 13))
    holidays = [first + timedelta(days=-first.weekday() % 7) for first in firsts]  # Mondays
    project.set_calendar(WorkCalendar.of(range(4), holidays), ACTOR, "bench")
    c.app.save(project)
    c.runner.catch_up(["gantt"])
    stream = c.services().commands.stream

    def chart() -> bytes:
        document = project_chart(c.views, plans.gantt_project, _everyone, None, stream,
                                 serialised=True)  # fmt: skip
        return orjson.dumps(document)

    say(f"planning: the same gantt by a calendar of its own ({RUNS} runs each)")
    return latency_figure(
        "gantt p95, a calendar of its own", *timed_pairs(chart, gantt_raw),
        note="Monday to Thursday, 12 holidays: offsets counted from the dates at each read",
    )  # fmt: skip


def _everyone(project_id: str) -> bool:
    return True
