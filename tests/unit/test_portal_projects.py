"""The portal projects view fed events directly, and the timeline drawn from its items."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.pages.timeline import CHART_WIDTH, LABEL_WIDTH, MIN_TICK_GAP, timeline
from domain.contact import Contact, ContactSource
from domain.project import Project
from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor, Channel
from projections.base import Positioned, Tables
from projections.db import SQLiteViews
from projections.portal_projects import (
    PortalProjectsProjection,
    Viewer,
    project_items,
    shared_project,
    shared_projects,
)

AGENT = Actor.user(uuid.UUID(int=1))
ACME, GLOBEX = str(uuid.UUID(int=20)), str(uuid.UUID(int=21))
# A contact of each organisation who sees their colleagues' requests
ADA = Viewer(str(uuid.UUID(int=30)), ACME, sees_colleagues=True)
GUS = Viewer(str(uuid.UUID(int=31)), GLOBEX, sees_colleagues=True)
CANARY = "CANARY-internal-9e2c"


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def history() -> tuple[Project, list[Any]]:
    """A project shared with Acme (and with Globex, then not), a request with an internal
    message, a planned task with progress and actual dates, and a request converted to a task."""
    project = Project.create(
        project_id=uuid.uuid4(), name="Relaunch", manager=None, actor=AGENT, correlation_id="c"
    )
    project.share_with_organisation(uuid.UUID(ACME), AGENT, "c")
    project.share_with_organisation(uuid.UUID(GLOBEX), AGENT, "c")
    project.unshare_with_organisation(uuid.UUID(GLOBEX), AGENT, "c")
    request = Ticket.open(
        number=1, title="Hero image", description="", requester_email=None,
        channel=Channel.API, priority="normal", actor=AGENT, correlation_id="c",
        project_id=project.id,
    )  # fmt: skip
    request.post_message(
        message_id=uuid.uuid4(), body=CANARY, visibility="internal", in_reply_to=None,
        actor=AGENT, correlation_id="c",
    )  # fmt: skip
    request.change_status("Open", AGENT, "c")
    task = Task.plan(
        number=2, title="Design", actor=AGENT, correlation_id="c", project_id=project.id,
        start=date(2026, 3, 2), duration_days=5,
    )  # fmt: skip
    task.set_progress(40, AGENT, "c")
    task.record_actuals(date(2026, 3, 3), None, AGENT, "c")
    other = Ticket.open(
        number=3, title="Footer", description="", requester_email=None, channel=Channel.API,
        priority="normal", actor=AGENT, correlation_id="c", project_id=project.id,
    )  # fmt: skip
    became = Task.plan(
        number=4, title="Footer", actor=AGENT, correlation_id="c", project_id=project.id,
        converted_from=3,
    )  # fmt: skip
    other.convert_to_task(became.id, 4, AGENT, "c")
    events: list[Any] = []
    for aggregate in (project, request, task, other, became):
        events += aggregate.collect_events()
    return project, events


def test_a_page_of_events_makes_the_same_rows_as_one_event_at_a_time(
    views: SQLiteViews,
) -> None:
    project, events = history()
    view, whole, single = PortalProjectsProjection(), Tables(1), Tables(2)
    positioned = [Positioned(i + 1, e) for i, e in enumerate(events)]
    with views.write() as tx:
        view.create(tx, whole)
        view.create(tx, single)
        view.apply(tx, whole, positioned)
        for p in positioned:
            view.apply(tx, single, [p])
    with views.read() as tx:
        for base in view.tables:
            order = view.key_columns(base)
            rows = tx.all(f"SELECT * FROM {whole[base]} ORDER BY {order}")
            assert rows == tx.all(f"SELECT * FROM {single[base]} ORDER BY {order}")
            # Nothing internal ever reaches the view's tables
            assert CANARY not in repr(rows)
        items, _ = project_items(tx, whole, ADA, str(project.id), None, 50)
        assert shared_projects(tx, whole, GUS) == []
        assert shared_project(tx, whole, GUS, str(project.id)) is None
        found = shared_project(tx, whole, ADA, str(project.id))
    # Then Acme follows the project; the converted request is its task, under the task's number
    assert found == {"id": str(project.id), "name": "Relaunch", "item_count": 3,
                     "finished_count": 0}  # fmt: skip
    assert [(i["number"], i["kind"], i["status"]) for i in items] == [
        (1, "ticket", "Open"), (2, "task", "Not started"), (4, "task", "Not started"),
    ]  # fmt: skip
    task = items[1]
    assert (task["start"], task["finish"]) == ("2026-03-02", "2026-03-06")
    assert (task["actual_start"], task["actual_finish"], task["percent_complete"]) == (
        "2026-03-03", None, 40,
    )  # fmt: skip
    assert (items[0]["percent_complete"], items[0]["start"]) == (None, None)
    assert items[2]["converted_from"] == 3


def test_items_come_a_page_at_a_time_by_number(views: SQLiteViews) -> None:
    project, events = history()
    view, t = PortalProjectsProjection(), Tables(1)
    with views.write() as tx:
        view.create(tx, t)
        view.apply(tx, t, [Positioned(i + 1, e) for i, e in enumerate(events)])
    with views.read() as tx:
        first, cursor = project_items(tx, t, ADA, str(project.id), None, 2)
        rest, last = project_items(tx, t, ADA, str(project.id), cursor, 2)
    assert ([i["number"] for i in first], [i["number"] for i in rest]) == ([1, 2], [4])
    assert last is None


def test_a_request_is_shown_only_to_its_requesters_organisation(views: SQLiteViews) -> None:
    # Given a project shared with Acme and Globex, with a request from each organisation's
    # contact, one from Acme's other contact, and the project's own task
    project = Project.create(
        project_id=uuid.uuid4(), name="Shared", manager=None, actor=AGENT, correlation_id="c"
    )
    project.share_with_organisation(uuid.UUID(ACME), AGENT, "c")
    project.share_with_organisation(uuid.UUID(GLOBEX), AGENT, "c")
    people = [
        Contact.register(email=email, name=email, organisation_id=uuid.UUID(org),
                         source=ContactSource.STAFF, actor=AGENT, correlation_id="c")
        for email, org in (("ada@acme.example", ACME), ("bob@acme.example", ACME),
                           ("gus@globex.example", GLOBEX))
    ]  # fmt: skip
    requesters = ("ada@acme.example", "bob@acme.example", "gus@globex.example")
    opened = [
        Ticket.open(
            number=n,
            title=f"From {email}",
            description="",
            requester_email=email,
            channel=Channel.API,
            priority="normal",
            actor=AGENT,
            correlation_id="c",
            project_id=project.id,
        )
        for n, email in enumerate(requesters, start=1)
    ]
    work = Task.plan(number=4, title="Work", actor=AGENT, correlation_id="c",
                     project_id=project.id)  # fmt: skip
    events: list[Any] = []
    for aggregate in (project, *people, *opened, work):
        events += aggregate.collect_events()
    view, t = PortalProjectsProjection(), Tables(1)
    with views.write() as tx:
        view.create(tx, t)
        view.apply(tx, t, [Positioned(i + 1, e) for i, e in enumerate(events)])
    ada, bob, gus = (str(c.id) for c in people)

    def numbers(viewer: Viewer) -> list[int]:
        with views.read() as tx:
            return [i["number"] for i in project_items(tx, t, viewer, str(project.id), None, 50)[0]]

    # Then each organisation sees its own requests and the project's work, never the other's
    assert numbers(Viewer(ada, ACME, sees_colleagues=True)) == [1, 2, 4]
    assert numbers(Viewer(gus, GLOBEX, sees_colleagues=True)) == [3, 4]
    # And a contact who does not see colleagues' requests sees only their own
    assert numbers(Viewer(bob, ACME, sees_colleagues=False)) == [2, 4]
    with views.read() as tx:
        counted = shared_project(tx, t, Viewer(gus, GLOBEX, True), str(project.id))
    assert counted is not None
    assert counted["item_count"] == 2


def test_the_timeline_places_planned_and_actual_bars_on_one_axis() -> None:
    items = [
        {"number": 1, "title": "Request", "start": None, "finish": None,
         "actual_start": None, "actual_finish": None},
        {"number": 2, "title": "Design", "start": "2026-03-02", "finish": "2026-03-11",
         "actual_start": "2026-03-04", "actual_finish": None},
        {"number": 3, "title": "Build " + "x" * 60, "start": "2026-03-12",
         "finish": "2026-03-21", "actual_start": None, "actual_finish": None},
    ]  # fmt: skip
    drawn = timeline(items, today=date(2026, 3, 6))
    assert drawn is not None
    # The axis runs from the first planned day to the last: 20 days
    assert (drawn.first, drawn.last) == (date(2026, 3, 2), date(2026, 3, 21))
    day = CHART_WIDTH / 20
    design, build = drawn.rows  # The request has no dates: no row
    assert design.planned is not None
    assert design.actual is not None
    assert (design.planned.x, design.planned.width) == (LABEL_WIDTH, pytest.approx(10 * day))
    # The actual bar runs from its start to today while it has no finish
    assert design.actual.x == pytest.approx(LABEL_WIDTH + 2 * day)
    assert design.actual.width == pytest.approx(3 * day)
    assert design.ongoing
    assert build.actual is None
    assert build.planned is not None
    assert build.planned.x == pytest.approx(LABEL_WIDTH + 10 * day)
    assert build.label.endswith("…")
    assert build.title.endswith("x" * 60)
    assert drawn.today == pytest.approx(LABEL_WIDTH + 4 * day)
    assert [t.month for t in drawn.ticks] == [date(2026, 3, 2)]
    # Near a month's start, the axis is labelled by that month alone
    near = timeline([{**items[1], "start": "2026-02-28"}], today=date(2026, 3, 6))
    assert near is not None
    assert [t.month for t in near.ticks] == [date(2026, 3, 1)]
    assert timeline(items[:1], today=date(2026, 3, 6)) is None


def test_a_long_timelines_month_labels_never_overlap_and_today_outside_it_is_not_drawn() -> None:
    items = [{"number": 1, "title": "Long", "start": "2024-01-15", "finish": "2026-12-31",
              "actual_start": "2024-01-20", "actual_finish": "2024-02-01"}]  # fmt: skip
    drawn = timeline(items, today=date(2030, 1, 1))
    assert drawn is not None
    assert len(drawn.ticks) > 1
    assert all(b.x - a.x >= MIN_TICK_GAP for a, b in itertools.pairwise(drawn.ticks))
    # A month starts a few days after the axis does: it labels the start
    assert drawn.ticks[0].month == date(2024, 2, 1)
    assert all(t.month.day == 1 for t in drawn.ticks)
    assert drawn.today is None
    assert not drawn.rows[0].ongoing
