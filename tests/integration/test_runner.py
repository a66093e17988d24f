"""The projection runner on SQLite and PostgreSQL: pages, rebuilds, audits, live following."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import psycopg
import pytest

from commands.models import AssignUser, ChangeTicketStatus, PostMessage, RetitleTicket
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.base import Positioned, Tables
from projections.db import Tx
from projections.flat import FlatProjection
from projections.log import EventLog
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.conftest import make_settings
from tests.factories import context, open_ticket, register
from tests.view_tables import generations, live_rows

PAGE = 3


class PageLog:
    """An `EventLog` that remembers every page it served."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.pages: list[tuple[int, int]] = []

    def head(self) -> int:
        return self.log.head()

    def read(
        self, after: int, limit: int, stop: int | None, topics: Collection[str]
    ) -> tuple[list[Positioned], int | None]:
        events, last = self.log.read(after, limit, stop, topics)
        if last is not None:
            self.pages.append((after, last))
        return events, last


class CrashingFlat(FlatProjection):
    """The flat view, but the process dies while applying its `crash_on`-th page."""

    def __init__(self, crash_on: int) -> None:
        self.crash_on = crash_on
        self.applied = 0

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        self.applied += 1
        super().apply(tx, t, events)  # The page's rows are written, then lost with the crash.
        if self.applied == self.crash_on:
            raise RuntimeError("runner crashed mid-page")


def _busy_helpdesk(c: bootstrap.Container, tickets: int = 6) -> list[int]:
    """Tickets with retitles, status changes, assignees and messages."""
    ada = register(c, "ada@example.com")
    numbers = []
    for i in range(tickets):
        number = open_ticket(c, title=f"Ticket {i}")
        c.commands.change_ticket(
            number,
            [
                RetitleTicket(title=f"Ticket {i}, retitled"),
                ChangeTicketStatus(status="Open" if i % 2 else "Resolved"),
                AssignUser(user_id=ada),
                PostMessage(message_id=uuid.uuid4(), body=f"hello {i}", visibility="customer"),
            ],
            context(),
        )
        numbers.append(number)
    return numbers


# --- catch-up ----------------------------------------------------------------


def test_catch_up_commits_each_page_with_its_position(container: bootstrap.Container) -> None:
    # Given a log of many pages and a runner that crashes while applying its third page
    _busy_helpdesk(container)
    head = container.app.head()
    log = PageLog(container.runner.log)
    crashing = ProjectionRunner(log, container.views, [CrashingFlat(crash_on=3)], page_size=PAGE)

    # When it catches up
    with pytest.raises(RuntimeError, match="mid-page"):
        crashing.catch_up()

    # Then every page before the crash is committed with its position; the crashed one is not
    *committed, crashed = log.pages
    assert len(committed) >= 2
    assert all(0 < last - after <= PAGE for after, last in log.pages)
    position = container.runner.position("flat")
    assert position == committed[-1][1] == crashed[0]
    assert position < crashed[1] < head
    # And the view holds exactly the tickets opened up to that position
    opened = [
        n.id
        for n in container.app.recorder.select_notifications(start=1, limit=head)
        if n.topic == "ledgerdesk:Ticket.Opened"
    ]
    shown = live_rows(container, "flat")["flat_items"]
    assert len(shown) == len([p for p in opened if p <= position])
    assert 0 < len(shown) < len(opened)
    assert container.runner.verify("flat") == []


def test_catch_up_in_small_pages_reaches_the_head_and_matches_a_rebuild(
    container: bootstrap.Container,
) -> None:
    # Given a busy log, and for each view a runner reading it three events at a time
    _busy_helpdesk(container)
    head = container.app.head()
    for projection in all_projections():
        log = PageLog(container.runner.log)
        runner = ProjectionRunner(log, container.views, [projection], page_size=PAGE)

        # When it catches up
        runner.catch_up()

        # Then the view was fed page by page, each page starting where the last one ended,
        # up to the head of the log
        assert len(log.pages) >= head // PAGE
        assert [after for after, _ in log.pages] == [0] + [last for _, last in log.pages[:-1]]
        assert all(0 < last - after <= PAGE for after, last in log.pages)
        assert log.pages[-1][1] == runner.position(projection.name) == head
    # And every view equals a rebuild from scratch
    assert all(s.position == s.head == head for s in container.runner.status())
    for name in container.runner.projections:
        assert container.runner.verify(name) == []


# --- rebuild and verify ------------------------------------------------------


@pytest.mark.parametrize("view", ["ticket_detail", "flat", "item_history"])
def test_rebuild_switches_to_a_new_generation_with_the_same_rows(
    container: bootstrap.Container, view: str
) -> None:
    # Given a caught-up view
    _busy_helpdesk(container)
    container.runner.catch_up()
    before = live_rows(container, view)
    assert any(before.values())

    # When it is rebuilt
    generation = container.runner.rebuild(view)

    # Then the new generation is current (the old one retired), caught up, and answers the same
    assert generation == 2
    assert generations(container, view) == [(1, 2), (2, 1)]
    assert container.runner.position(view) == container.app.head()
    assert live_rows(container, view) == before
    assert container.runner.verify(view) == []


def test_verify_finds_no_difference_in_a_healthy_view_and_leaves_nothing_behind(
    container: bootstrap.Container,
) -> None:
    # Given caught-up views
    _busy_helpdesk(container)
    container.runner.catch_up()

    # When each is verified against a rebuild
    found = {name: container.runner.verify(name) for name in container.runner.projections}

    # Then none differs, and the scratch generations are gone
    assert found == {name: [] for name in container.runner.projections}
    for name in container.runner.projections:
        assert generations(container, name) == [(1, 1)]


def test_verify_reports_a_tampered_live_row(container: bootstrap.Container) -> None:
    # Given a caught-up flat view whose live row someone edited by hand
    numbers = _busy_helpdesk(container)
    container.runner.catch_up()
    with container.views.write() as tx:
        tx.execute("UPDATE flat_items_g1 SET title = 'tampered' WHERE number = ?", (numbers[2],))

    # When the view is verified
    found = container.runner.verify("flat")

    # Then the difference is reported against the rebuilt row
    assert len(found) == 1
    assert found[0].startswith("flat.flat_items: live ")
    assert "tampered" in found[0]
    assert "Ticket 2, retitled" in found[0]
    # And the other views are untouched
    assert container.runner.verify("ticket_detail") == []


def test_verify_reports_a_missing_live_row(container: bootstrap.Container) -> None:
    # Given a caught-up flat view that lost an assignee row
    numbers = _busy_helpdesk(container)
    container.runner.catch_up()
    with container.views.write() as tx:
        row = tx.one("SELECT id FROM flat_items_g1 WHERE number = ?", (numbers[0],))
        assert row is not None
        tx.execute("DELETE FROM flat_item_assignees_g1 WHERE item_id = ?", (row["id"],))

    # When the view is verified
    found = container.runner.verify("flat")

    # Then the missing row is reported
    assert found[0] == (
        f"flat.flat_item_assignees: {len(numbers) - 1} live rows, {len(numbers)} rebuilt"
    )


# --- live following ----------------------------------------------------------


def test_following_runner_applies_a_write_in_the_same_process(
    container: bootstrap.Container,
) -> None:
    # Given views following the log in this process
    container.follow()

    # When a ticket is opened
    number = open_ticket(container, title="Live ticket")
    position = container.app.head()

    # Then the views reach its position, and show it
    assert container.runner.wait_for(position, list(container.runner.projections), 2.0)
    flat = live_rows(container, "flat")["flat_items"]
    assert [(r["number"], r["title"]) for r in flat] == [(number, "Live ticket")]


def _listeners(settings: Settings, channel: str) -> int:
    """How many sessions on the database are LISTENing on `channel` right now."""
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' AND query = %s",
            (f'LISTEN "{channel}"',),
        ).fetchone()
    return int(row[0]) if row else 0


def _eventually(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)  # The poll interval of a deadline wait, not a wait in itself.
    return True


@pytest.fixture
def pg_settings(pg_schema: str, tmp_path: Path) -> Settings:
    return make_settings("postgres", tmp_path, pg_schema)


@pytest.mark.postgres
@pytest.mark.slow
def test_runner_is_woken_by_notify_for_a_commit_made_elsewhere(pg_settings: Settings) -> None:
    # Given a runner following the log, LISTENing for the event store's NOTIFY
    bootstrap.migrate(pg_settings)
    follower = bootstrap.build(pg_settings)
    writer = bootstrap.build(pg_settings)
    try:
        channel = follower.app.recorder.channel_name  # type: ignore[attr-defined]
        listening = _listeners(pg_settings, channel)
        # That never polls: only a wake can make it apply anything after its first pass
        follower.runner.idle_seconds = 3600.0
        follower.follow()
        assert _eventually(lambda: _listeners(pg_settings, channel) > listening, 5.0)
        # And a writer in another container: its commits never reach the follower's
        # in-process signal, only PostgreSQL's NOTIFY (or the runner's once-a-second poll)
        for i in range(8):
            # When the writer commits a ticket
            number = open_ticket(writer, title=f"Elsewhere {i}")
            position = writer.app.head()

            # Then the follower applies it, woken by NOTIFY. (Waiting through the writer's
            # runner: it only reads positions, and never wakes the follower as its own would.)
            assert writer.runner.wait_for(position, ["flat", "ticket_detail"], 20.0)
            titles = {r["number"]: r["title"] for r in live_rows(follower, "flat")["flat_items"]}
            assert titles[number] == f"Elsewhere {i}"
    finally:
        writer.close()
        follower.close()


# --- following every view together -------------------------------------------------------


class FailingFlat(FlatProjection):
    """The flat view, failing on every page while `broken`."""

    broken = True

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        if self.broken:
            raise RuntimeError("flat cannot apply this page")
        super().apply(tx, t, events)


def test_following_views_together_reads_each_page_once_and_matches_a_rebuild(
    container: bootstrap.Container,
) -> None:
    # Given a busy log, one view already caught up on part of it and the others not at all
    _busy_helpdesk(container, tickets=3)
    container.runner.catch_up(["flat"])
    for _ in range(4):
        _busy_helpdesk_more(container)
    head = container.app.head()
    log = PageLog(container.runner.log)
    runner = ProjectionRunner(log, container.views, all_projections(), page_size=PAGE)

    # When the runner follows every view
    assert runner.follow(list(runner.projections))

    # Then each page was read once for all the views, from the lowest position to the head
    assert [after for after, _ in log.pages] == [0] + [last for _, last in log.pages[:-1]]
    assert len(log.pages) <= head // PAGE + 1
    assert all(s.position == s.head == head for s in container.runner.status())
    # And every view equals a rebuild from scratch
    for name in container.runner.projections:
        assert container.runner.verify(name) == [], name


def test_a_view_failing_among_the_others_fails_alone_and_they_go_on_together(
    container: bootstrap.Container,
) -> None:
    # Given a runner whose flat view fails on every page
    _busy_helpdesk(container, tickets=2)
    head = container.app.head()
    flat = FailingFlat()
    projections = [flat if p.name == "flat" else p for p in all_projections()]
    log = PageLog(container.runner.log)
    runner = ProjectionRunner(log, container.views, projections, page_size=PAGE, retry_base=0)

    # When it follows: the pass of all the views together fails and writes nothing, then
    # each view goes on its own
    assert not runner.follow(list(runner.projections))

    # Then every other view reached the head, and only flat is recorded as failing
    status = {s.view: s for s in runner.status()}
    assert [v for v, s in status.items() if s.failure is not None] == ["flat"]
    assert all(s.position == head for v, s in status.items() if v != "flat")
    assert status["flat"].position < head  # up to the event it cannot apply
    # And the next writes are followed together by the healthy views, flat retried alone
    _busy_helpdesk_more(container)
    pages = len(log.pages)
    assert not runner.follow(list(runner.projections))
    together = [p for p in log.pages[pages:] if p[0] == head]
    assert len(together) == 1  # the others' one pass from the old head, not one per view
    # And once flat is repaired it catches up and its failure is cleared
    flat.broken = False
    assert runner.follow(list(runner.projections))
    assert all(s.failure is None and s.position == s.head for s in runner.status())
    for name in runner.projections:
        assert runner.verify(name) == [], name


def _busy_helpdesk_more(c: bootstrap.Container) -> None:
    number = open_ticket(c, title="One more")
    c.commands.change_ticket(number, [RetitleTicket(title="One more, retitled")], context())
