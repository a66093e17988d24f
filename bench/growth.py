"""Growth: what a write and a view's catch-up cost as the log grows from 10,000 to 1,000,000
events, and what loading and writing a long-lived item cost, each beside a raw twin.

On PostgreSQL, in one throwaway schema, measured twice: with `SMALL_LOG` events in the log,
then again after it grew to `LOG_EVENTS`.

- **Append p95** (`CommandService.change_ticket` retitling a random ticket, and
  `open_ticket`: load, decide, one atomic save). Raw: a one-row INSERT, autocommit, into a
  plain table (`bigserial` key, a unique `(stream, version)` like the event store's) holding
  as many rows as the log.
- **Projection lag p95**: with the `flat` view caught up, a command commits (not timed),
  then the runner brings `flat` up to the head in process (`runner.catch_up`, what the
  runner thread does when a commit wakes it): time from the commit to the event in the view.
  Raw: the same SELECT of the log head, then a one-row INSERT.
- **Loading an item with `ITEM_EVENTS` events** (`app.repository.get`, snapshots as the app
  takes them, 25 events after the latest). Raw: the SELECT of the latest snapshot row, then
  the SELECT of the events after it.
- **A write to an item with `ITEM_EVENTS // 2` events against a write to a new one**:
  `PATCH /api/v1/tickets/{n}` (a retitle) through the real app in process (TestClient:
  auth, the command, the answer), p95 of each; the ratio is the growth.

The log is real ledgerdesk events made the fast way (as `bench.timesheets` does): tickets
numbered by the real counter, opened and moved on by their own domain methods, bulk-inserted
through the recorder `BATCH` at a time; snapshots of the counter and of the long items are
put in the snapshot store as the application would have taken them. Memory stays bounded:
nothing is kept but the batch being written.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.application import AggregateNotFoundError
from fastapi.testclient import TestClient

from bench.common import (
    PG_URL,
    Figure,
    migrated,
    peak_rss_mib,
    percentile,
    pg_schema,
    pg_settings,
    say,
    scratch_dir,
    show,
)
from commands.models import Context, IssueToken, OpenTicket, RegisterUser, RetitleTicket
from domain.item_numbers import COUNTER_ID, ItemNumberCounter, item_id
from domain.ticket import Ticket
from domain.user import CompanyRole
from domain.values import Actor, Channel
from ledgerdesk import bootstrap

LOG_EVENTS = 1_000_000
SMALL_LOG = 10_000
ITEM_EVENTS = 10_000
SMOKE_LOG = 2_000  # (the smaller log is a quarter of the larger one, at most SMALL_LOG)
SMOKE_ITEM_EVENTS = 200
BATCH = 10_000
RUNS = 200
HTTP_RUNS = 100
SMOKE_RUNS = 10
WARM_UP = 5
SNAPSHOT_TAIL = 25  # events after an item's latest snapshot: the mean, one every 50
VIEW = "flat"
SEED = 20261205
ACTOR = Actor.system("bench")
CTX = Context(actor=ACTOR, correlation_id="bench")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("Open", "Waiting on customer")


@dataclass
class Sizes:
    small: int
    large: int
    item_events: int
    runs: int
    http_runs: int

    @classmethod
    def of(cls, log_events: int, item_events: int, smoke: bool) -> Sizes:
        small = min(SMALL_LOG, log_events // 4)
        if smoke:
            return cls(small, log_events, item_events, SMOKE_RUNS, SMOKE_RUNS)
        return cls(small, log_events, item_events, RUNS, HTTP_RUNS)


class Seeder:
    """Real events, bulk-inserted through the recorder `BATCH` at a time."""

    def __init__(self, container: bootstrap.Container) -> None:
        self.app = container.app
        self.rng = random.Random(SEED)
        self.pending: list[Any] = []
        self.tickets: list[int] = []  # the filler tickets' numbers (to change at random)
        try:
            self.counter: ItemNumberCounter = self.app.repository.get(COUNTER_ID)
        except AggregateNotFoundError:
            self.counter = ItemNumberCounter.start()

    def _flush(self) -> None:
        self.pending += [self.app.mapper.to_stored_event(e) for e in self.counter.collect_events()]
        if self.pending:
            self.app.recorder.insert_events(self.pending)
        self.pending = []

    def _add(self, aggregate: Any) -> None:
        self.pending += [self.app.mapper.to_stored_event(e) for e in aggregate.collect_events()]
        if len(self.pending) >= BATCH:
            self._flush()

    def _snapshot(self, aggregate: Any) -> None:
        """Put a snapshot of `aggregate` as it is now (its events written first)."""
        self._add(aggregate)
        self._flush()
        take = getattr(type(aggregate), "Snapshot", type(self.app).snapshot_class)
        assert self.app.snapshots is not None
        assert take is not None
        self.app.snapshots.put([take.take(aggregate)])

    def _open(self, correlation: str) -> Ticket:
        number = self.counter.issue("ticket", ACTOR, correlation)
        return Ticket.open(
            number=number,
            title=f"Printer on floor {number % 9 + 1} is jammed (desk {number % 400})",
            description="Since this morning the printer has stopped working; please look.",
            requester_email=f"customer{number % 5000}@example.com",
            channel=Channel.EMAIL,
            priority="normal",
            actor=ACTOR,
            correlation_id=correlation,
        )

    @staticmethod
    def _move_on(ticket: Ticket, i: int, correlation: str) -> None:
        """One event: a change of priority, status or title, in turn."""
        match i % 3:
            case 0:
                ticket.reprioritise(PRIORITIES[(i // 3) % 4], ACTOR, correlation)
            case 1:
                ticket.change_status(STATUSES[(i // 3) % 2], ACTOR, correlation)
            case _:
                ticket.retitle(f"Printer on floor 3 is jammed (take {i})", ACTOR, correlation)

    def fill(self, events: int) -> int:
        """About `events` more events: tickets of 2 to 9 events each (counter's included)."""
        written = 0
        while written < events:
            ticket = self._open("bench-fill")
            for i in range(self.rng.randint(0, 7)):
                self._move_on(ticket, i, "bench-fill")
            written += 1 + len(ticket.pending_events)
            self.tickets.append(ticket.number)
            self._add(ticket)
        self._flush()
        if written:  # (with nothing written, the counter's latest snapshot is already taken)
            self._snapshot(self.counter)  # as the app takes one every 100 of its events
        return written

    def long_item(self, events: int) -> int:
        """A ticket with `events` events, its latest snapshot `SNAPSHOT_TAIL` before the end."""
        ticket = self._open("bench-long")
        snapshot_at = max(1, events - SNAPSHOT_TAIL)
        for i in range(events - 1):
            self._move_on(ticket, i, "bench-long")
            if ticket.version == snapshot_at:
                self._snapshot(ticket)
            elif len(ticket.pending_events) >= BATCH:
                self._add(ticket)
        self._add(ticket)
        self._flush()
        self._snapshot(self.counter)
        assert ticket.version == events, ticket.version
        return ticket.number


def raw_table(conn: psycopg.Connection[Any], rows: int) -> None:
    """The raw twin's log: a plain table of `rows` rows shaped like the event store's."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS raw_log (id BIGSERIAL PRIMARY KEY, stream UUID NOT NULL,"
        " version INT NOT NULL, topic TEXT NOT NULL, state BYTEA NOT NULL,"
        " UNIQUE (stream, version))"
    )
    conn.execute("CREATE TABLE IF NOT EXISTS raw_view (id BIGSERIAL PRIMARY KEY, head BIGINT)")
    have = conn.execute("SELECT count(*) FROM raw_log").fetchone()
    start = (have[0] if have else 0) + 1
    conn.execute(
        "INSERT INTO raw_log (stream, version, topic, state) SELECT md5(i::text)::uuid, 1,"
        " 'ledgerdesk:Ticket.Opened', convert_to(repeat('x', 300), 'UTF8')"
        " FROM generate_series(%s::bigint, %s::bigint) AS i",
        (start, rows),
    )
    conn.execute("ANALYZE raw_log")


def p95_figure(name: str, ours: list[float], raw: list[float], raw_name: str, note: str) -> Figure:
    figure = Figure(
        name=name,
        value=percentile(ours, 95),
        unit="ms",
        baseline=percentile(raw, 95),
        baseline_name=raw_name,
        note=f"{note}; p50 {percentile(ours, 50):.2f} vs {percentile(raw, 50):.2f} ms",
        lower_is_better=True,
    )
    show(figure)
    return figure


def timed(
    runs: int, ours: Callable[[], Any], raw: Callable[[], Any], before: Callable[[], Any] | None
) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each, alternating; `before` runs untimed before each of ours."""
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(WARM_UP + runs):
        if before is not None:
            before()
        started = time.perf_counter()
        ours()
        mine = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        raw()
        theirs = (time.perf_counter() - started) * 1000
        if i >= WARM_UP:
            samples[0].append(mine)
            samples[1].append(theirs)
    return samples


def _at_size(
    container: bootstrap.Container,
    conn: psycopg.Connection[Any],
    tickets: list[int],
    runs: int,
    previous: dict[str, tuple[float, float]],
) -> list[Figure]:
    """Append and projection-lag figures with the log as it is now."""
    app, commands, runner = container.app, container.commands, container.runner
    head = app.head()
    size = f"{head:,} events in the log"
    rng = random.Random(head)
    events_table = app.recorder.events_table_name  # type: ignore[attr-defined]
    insert = "INSERT INTO raw_log (stream, version, topic, state) VALUES (%s, 1, %s, %s)"
    state = b"x" * 300

    def raw_insert() -> None:
        conn.execute(insert, (uuid.uuid4(), "ledgerdesk:Ticket.Retitled", state))

    def retitle() -> None:
        number = rng.choice(tickets)
        title = f"Printer on floor 3 is jammed ({uuid.uuid4().hex[:8]})"
        commands.change_ticket(number, [RetitleTicket(title=title)], CTX)

    def open_one() -> None:
        commands.open_ticket(OpenTicket(title="Printer on floor 3 is jammed"), CTX)

    def catch_up() -> None:
        runner.catch_up([VIEW])

    def raw_lag() -> None:
        conn.execute(f"SELECT max(notification_id) FROM {events_table}").fetchone()
        conn.execute("INSERT INTO raw_view (head) VALUES (%s)", (head,))

    twin = "1-row INSERT into a plain table of as many rows"
    figures: list[Figure] = []
    for label, operation in (("retitle a ticket", retitle), ("open a ticket", open_one)):
        say(f"growth: append ({label}) with {size} ({runs} runs each)")
        ours, raw = timed(runs, operation, raw_insert, None)
        key = f"append {label}"
        figures.append(
            p95_figure(f"{key} p95, {size}", ours, raw, twin, _grown(key, ours, previous))
        )
    catch_up()
    say(f"growth: projection lag ({VIEW}) with {size} ({runs} runs each)")
    ours, raw = timed(runs, catch_up, raw_lag, retitle)
    key = "projection lag"
    figures.append(
        p95_figure(
            f"projection lag p95, commit to {VIEW} view, {size}",
            ours,
            raw,
            "SELECT of the log head + 1-row INSERT",
            f"runner.catch_up in process; {_grown(key, ours, previous)}",
        )
    )
    return figures


def _grown(key: str, ours: list[float], previous: dict[str, tuple[float, float]]) -> str:
    """Remember this p50 and p95; say how they compare with those at the smaller log."""
    now = (percentile(ours, 50), percentile(ours, 95))
    before = previous.get(key)
    previous[key] = now
    if before is None:
        return "the smaller log"
    return (
        f"{now[0] / before[0]:.2f}x the p50 and {now[1] / before[1]:.2f}x the p95"
        " at the smaller log"
    )


def _load_figures(
    container: bootstrap.Container, conn: psycopg.Connection[Any], number: int, sizes: Sizes
) -> list[Figure]:
    """Loading the long item: from the store (snapshot + the events after it), and from the
    application's aggregate cache (fast-forwarded: a SELECT of any newer events)."""
    app = container.app
    aggregate_id = item_id(number)
    assert app.snapshots is not None
    snapshots = app.snapshots.recorder.events_table_name  # type: ignore[attr-defined]
    events = app.recorder.events_table_name  # type: ignore[attr-defined]
    latest = (
        f"SELECT originator_version, topic, state FROM {snapshots}"
        " WHERE originator_id = %s ORDER BY originator_version DESC LIMIT 1"
    )
    after = (
        f"SELECT originator_version, topic, state FROM {events}"
        " WHERE originator_id = %s AND originator_version > %s ORDER BY originator_version"
    )

    def ours() -> Any:
        return app.repository.get(aggregate_id)

    def evict() -> None:
        if app.repository.cache is not None:
            with contextlib.suppress(KeyError):
                app.repository.cache.get(aggregate_id, evict=True)

    def raw() -> int:
        row = conn.execute(latest, (aggregate_id,)).fetchone()
        return len(conn.execute(after, (aggregate_id, row[0] if row else 0)).fetchall())

    version = ours().version

    def raw_newer() -> int:
        return len(conn.execute(after, (aggregate_id, version)).fetchall())

    tail = raw()
    say(f"growth: loading an item of {version:,} events ({sizes.runs} runs each)")
    name = f"load an item with {version:,} events p95"
    cold = p95_figure(
        f"{name}, not cached",
        *timed(sizes.runs, ours, raw, evict),
        "SELECT of the latest snapshot + the events after it",
        f"app.repository.get, snapshot + {tail} events after it",
    )
    ours()
    cached = p95_figure(
        f"{name}, from the aggregate cache",
        *timed(sizes.runs, ours, raw_newer, None),
        "SELECT of the events after the cached version",
        "app.repository.get: fast-forward, deep copy",
    )
    return [cold, cached]


def _write_figure(container: bootstrap.Container, token: str, number: int, sizes: Sizes) -> Figure:
    headers = {"Authorization": f"Bearer {token}"}
    fresh: list[int] = []
    titles = iter(range(10**9))

    def open_fresh() -> None:
        result = container.commands.open_ticket(OpenTicket(title="A fresh ticket"), CTX)
        assert result.number is not None
        fresh.append(result.number)

    with TestClient(container.http_app()) as http:
        answers = http.app.state.services.answers  # type: ignore[attr-defined]

        def patch(n: int) -> None:
            response = http.patch(
                f"/api/v1/tickets/{n}", json={"title": f"Retitled {next(titles)}"}, headers=headers
            )
            assert response.status_code == 200, response.text

        def cold() -> None:
            """Nothing remembered: the answer starts from the ticket_detail view's row."""
            open_fresh()
            container.runner.catch_up(["ticket_detail"])
            answers.forget()

        version = container.app.repository.get(item_id(number)).version
        say(f"growth: PATCH a ticket of {version:,} events vs a new one ({sizes.http_runs} runs)")
        long, new = timed(
            sizes.http_runs, lambda: patch(number), lambda: patch(fresh[-1]), open_fresh
        )
        say("growth: the same, with nothing remembered (answers start from the view)")
        long_cold, new_cold = timed(
            sizes.http_runs, lambda: patch(number), lambda: patch(fresh[-1]), cold
        )
        seeded = answers.seeded
    figure = Figure(
        name=f"HTTP PATCH (retitle) p95, ticket with {version:,} events",
        value=percentile(long, 95),
        unit="ms",
        baseline=percentile(new, 95),
        baseline_name="the same PATCH on a ticket just opened",
        note=(
            f"TestClient in process; p50 {percentile(long, 50):.2f} vs"
            f" {percentile(new, 50):.2f} ms"
            f" (ratio of p50s {percentile(long, 50) / percentile(new, 50):.2f});"
            f" with nothing remembered (from the view's row, {seeded} answers):"
            f" p95 {percentile(long_cold, 95):.2f} vs {percentile(new_cold, 95):.2f} ms"
            f" (ratio {percentile(long_cold, 95) / percentile(new_cold, 95):.2f})"
        ),
        lower_is_better=True,
    )
    show(figure)
    return figure


def run(
    log_events: int = LOG_EVENTS, item_events: int = ITEM_EVENTS, smoke: bool = False
) -> list[Figure]:
    sizes = Sizes.of(log_events, item_events, smoke)
    figures: list[Figure] = []
    previous: dict[str, tuple[float, float]] = {}
    with (
        scratch_dir() as data,
        pg_schema() as schema,
        migrated(pg_settings(schema, data)) as container,
        psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={schema}") as conn,
    ):
        app = container.app
        container.accounts.register_user(
            RegisterUser(email="bench@example.com", name="bench", role=CompanyRole.ADMIN), CTX
        )
        token = container.accounts.issue_token(IssueToken(email="bench@example.com"), CTX)[1]
        seeder = Seeder(container)
        for target in (sizes.small, sizes.large):
            started = time.perf_counter()
            if target == sizes.large:
                seeder.counter = app.repository.get(COUNTER_ID)  # commands moved it on
                # The long items are part of the large log: loaded and written to there.
                long_load = seeder.long_item(sizes.item_events)
                long_write = seeder.long_item(sizes.item_events // 2)
            seeder.fill(max(0, target - app.head()))
            head = app.head()
            say(
                f"growth: log at {head:,} events (seeded in {time.perf_counter() - started:.1f} s;"
                f" peak RSS so far {peak_rss_mib():,.0f} MiB); raw table and {VIEW} view next"
            )
            started = time.perf_counter()
            raw_table(conn, head)
            container.runner.catch_up([VIEW])
            say(
                f"growth: raw table and {VIEW} view in {time.perf_counter() - started:.1f} s;"
                f" peak RSS so far {peak_rss_mib():,.0f} MiB"
            )
            figures += _at_size(container, conn, seeder.tickets, sizes.runs, previous)
        figures += _load_figures(container, conn, long_load, sizes)
        figures.append(_write_figure(container, token, long_write, sizes))
    return figures
