"""The Gantt view fed events directly: one fold for the view and for baselines."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.charts import gantt_svg
from domain.planning.constraints import Constraint, ConstraintKind
from domain.planning.links import LinkKind
from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor, Channel
from projections.base import Positioned, Tables
from projections.calendar import month_bars, planned_bars
from projections.db import SQLiteViews
from projections.gantt import GanttProjection, fold_plan
from projections.gantt_query import (
    chart,
    chart_document,
    chart_rows,
    placed_task_ids,
    project_rows,
)

AGENT = Actor.user(uuid.UUID(int=1))
ADA = uuid.UUID(int=2)
SITE = uuid.UUID(int=10)
OFFICE = uuid.UUID(int=11)
MON = date(2026, 3, 2)  # a Monday
SVG = "{http://www.w3.org/2000/svg}"


def plan(number: int, start: date | None = MON, days: int | None = 1, **fields: Any) -> Task:
    return Task.plan(
        number=number,
        title=f"Task {number}",
        actor=AGENT,
        correlation_id="c",
        project_id=SITE,
        start=start,
        duration_days=days if start else None,
        **fields,
    )


def network() -> tuple[list[Any], dict[int, Task]]:
    """#1 (3 days) → #2 (2 days) → #4 (milestone); #3 (1 day) beside them; #5 undated."""
    tasks = {
        1: plan(1, days=3),
        2: plan(2, start=date(2026, 3, 5), days=2),
        3: plan(3, days=1),
        4: plan(4, start=date(2026, 3, 9), days=None, milestone=True),
        5: plan(5, start=None),
    }
    tasks[2].depend_on(tasks[1], LinkKind.FINISH_TO_START, 0, AGENT, "c")
    tasks[4].depend_on(tasks[2], LinkKind.FINISH_TO_START, 0, AGENT, "c")
    tasks[2].assign(ADA, AGENT, "c")
    tasks[2].change_status("In progress", AGENT, "c")
    tasks[2].set_progress(50, AGENT, "c")
    tasks[2].record_actuals(date(2026, 3, 5), None, AGENT, "c")
    tasks[3].make_subtask_of(tasks[1], AGENT, "c")
    events: list[Any] = []
    for task in tasks.values():
        events += task.collect_events()
    return events, tasks


def positioned(events: list[Any]) -> list[Positioned]:
    return [Positioned(i + 1, e) for i, e in enumerate(events)]


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def test_the_chart_finds_the_critical_path_and_each_tasks_slack() -> None:
    events, _ = network()
    bars, links = fold_plan(events).in_project(str(SITE))
    doc = chart(bars, links)
    tasks = {t["number"]: t for t in doc["tasks"]}
    assert doc["critical_path"] == [1, 2, 4]
    assert [t["number"] for t in doc["tasks"]] == [1, 3, 2, 4, 5]  # subtask after its parent
    assert tasks[3]["slack_days"] == 5
    assert not tasks[3]["critical"]
    assert tasks[5]["slack_days"] is None
    assert not tasks[5]["critical"]
    assert tasks[4]["milestone"]
    assert tasks[4]["planned"] == {
        "start": "2026-03-09",
        "finish": "2026-03-09",
    }
    assert tasks[2]["assignees"] == [str(ADA)]
    assert (tasks[2]["status"], tasks[2]["percent_complete"]) == ("In progress", 50)
    assert tasks[2]["actual"] == {"start": "2026-03-05", "finish": None}
    assert doc["dependencies"] == [
        {"predecessor": 1, "successor": 2, "kind": "finish_to_start", "lag_days": 0},
        {"predecessor": 2, "successor": 4, "kind": "finish_to_start", "lag_days": 0},
    ]


def test_the_view_applies_a_page_the_same_as_one_event_at_a_time_and_as_the_fold(
    views: SQLiteViews,
) -> None:
    events, tasks = network()
    tasks[4].drop_dependency(tasks[2], AGENT, "c")
    tasks[1].retitle("Dig", AGENT, "c")
    tasks[1].schedule(date(2026, 3, 3), None, 2, "planned", AGENT, "c")
    events += tasks[4].collect_events() + tasks[2].collect_events() + tasks[1].collect_events()
    projection, whole, single = GanttProjection(), Tables(1), Tables(2)
    with views.write() as tx:
        projection.create(tx, whole)
        projection.create(tx, single)
        projection.apply(tx, whole, positioned(events))
        for p in positioned(events):
            projection.apply(tx, single, [p])
    folded = chart(*fold_plan(events).in_project(str(SITE)))
    with views.read() as tx:
        assert chart(*project_rows(tx, whole, str(SITE))) == folded
        assert chart(*project_rows(tx, single, str(SITE))) == folded
        for base in projection.tables:
            order = projection.key_columns(base)
            assert tx.all(f"SELECT * FROM {whole[base]} ORDER BY {order}") == tx.all(
                f"SELECT * FROM {single[base]} ORDER BY {order}"
            )
    assert folded["dependencies"] == [
        {"predecessor": 1, "successor": 2, "kind": "finish_to_start", "lag_days": 0}
    ]
    first = folded["tasks"][0]
    assert (first["title"], first["planned"]) == (
        "Dig",
        {"start": "2026-03-03", "finish": "2026-03-04"},
    )


def test_tickets_are_not_bars_and_a_moved_task_leaves_its_placement_behind(
    views: SQLiteViews,
) -> None:
    ticket = Ticket.open(
        number=9,
        title="Printer",
        description="",
        requester_email=None,
        channel=Channel.API,
        priority="normal",
        actor=AGENT,
        correlation_id="c",
        project_id=SITE,
    )
    ticket.retitle("Printer jammed", AGENT, "c")
    task = plan(1)
    task.move(OFFICE, None, AGENT, "c")
    events = list(ticket.collect_events()) + list(task.collect_events())
    projection, t = GanttProjection(), Tables(1)
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, positioned(events))
    with views.read() as tx:
        assert project_rows(tx, t, str(SITE)) == ([], [])
        bars, _ = project_rows(tx, t, str(OFFICE))
        assert placed_task_ids(tx, t, str(SITE)) == [str(task.id)]
    assert [b.number for b in bars] == [1]


def test_the_calendar_finds_tasks_whose_planned_or_actual_days_touch_the_month(
    views: SQLiteViews,
) -> None:
    march = plan(1, start=date(2026, 3, 30), days=3)  # runs into April
    april = plan(2, start=date(2026, 4, 20), days=1)
    late = plan(3, start=date(2026, 2, 2), days=1)
    late.record_actuals(date(2026, 4, 1), date(2026, 4, 2), AGENT, "c")
    undated = plan(4, start=None)
    elsewhere = Task.plan(
        number=5, title="Office", actor=AGENT, correlation_id="c", project_id=OFFICE, start=MON
    )
    events: list[Any] = []
    for task in (march, april, late, undated, elsewhere):
        events += task.collect_events()
    projection, t = GanttProjection(), Tables(1)
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, positioned(events))
    with views.read() as tx:
        first, last = date(2026, 4, 1), date(2026, 4, 30)
        seen = month_bars(tx, t, first, last, None)[0]
        mine = month_bars(tx, t, first, last, frozenset({str(SITE)}))[0]
        nobody = month_bars(tx, t, first, last, frozenset())[0]
        page, cursor = month_bars(tx, t, first, last, None, limit=1)
        rest, end = month_bars(tx, t, first, last, None, cursor=cursor, limit=5)
        feed = planned_bars(tx, t, frozenset({str(OFFICE)}))
    assert [b.number for b in seen] == [3, 1, 2]  # by first day: Feb 2, Mar 30, Apr 20
    assert [b.number for b in mine] == [3, 1, 2]
    assert nobody == []
    assert [b.number for b in page + rest] == [3, 1, 2]
    assert end is None
    assert [b.number for b in feed] == [5]


def test_the_svg_of_any_chart_is_well_formed_xml() -> None:
    events, tasks = network()
    tasks[3].depend_on(tasks[1], LinkKind.START_TO_FINISH, 1, AGENT, "c")
    tasks[3].retitle('A & B < "C"', AGENT, "c")
    events += tasks[3].collect_events() + tasks[1].collect_events()
    drawn = gantt_svg(
        "Site & <co>", {"as_of": None, **chart(*fold_plan(events).in_project(str(SITE)))}
    )
    empty = gantt_svg("Empty", {"as_of": None, **chart([], [])})
    root = ET.fromstring(drawn)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Site & <co>" in texts
    label = next(t for t in root.iter(f"{SVG}text") if t.text == '#3 A & B < "C"')
    assert label.get("x") == "24"  # a subtask, indented under its parent
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "link"]) == 3
    assert "No task of this plan has dates yet." in [
        t.text for t in ET.fromstring(empty).iter(f"{SVG}text")
    ]


def test_the_stored_json_serialises_to_the_same_chart(views: SQLiteViews) -> None:
    # Given the network plus a deadline a day before #4's milestone (-1 up the chain), an
    # ALAP #3 started a day after #1 (4 days of slack), and a title needing escapes
    events, tasks = network()
    tasks[3].retitle('Pour "the" slab \\ naïve ✓', AGENT, "c")
    tasks[3].set_constraint(Constraint(ConstraintKind.AS_LATE_AS_POSSIBLE), AGENT, "c")
    tasks[3].depend_on(tasks[1], LinkKind.START_TO_START, 1, AGENT, "c")
    tasks[4].set_constraint(
        Constraint(ConstraintKind.FINISH_NO_LATER_THAN, date(2026, 3, 7)), AGENT, "c"
    )
    for task in tasks.values():
        events += task.collect_events()
    projection, t = GanttProjection(), Tables(1)
    with views.write() as tx:
        projection.create(tx, t)
        projection.apply(tx, t, positioned(events))
    # When the chart is read from the stored JSON and offsets
    with views.read() as tx:
        stored = orjson.loads(orjson.dumps(chart_document(*chart_rows(tx, t, str(SITE)))))
        folded = chart(*project_rows(tx, t, str(SITE)))
    # Then it is the chart made from the bars, value for value and key for key
    assert stored == folded == chart(*fold_plan(events).in_project(str(SITE)))
    assert [list(task) for task in stored["tasks"]] == [list(task) for task in folded["tasks"]]
    assert stored["tasks"][1]["title"] == 'Pour "the" slab \\ naïve ✓'
    assert stored["critical_path"] == [1, 2, 4]
    assert [task["slack_days"] for task in stored["tasks"]] == [-1, 4, -1, -1, None]


def test_an_empty_project_serialises_to_an_empty_chart(views: SQLiteViews) -> None:
    projection, t = GanttProjection(), Tables(1)
    with views.write() as tx:
        projection.create(tx, t)
    with views.read() as tx:
        doc = orjson.loads(orjson.dumps(chart_document(*chart_rows(tx, t, str(SITE)))))
    assert (
        doc
        == chart([], [])
        == {
            "tasks": [],
            "dependencies": [],
            "critical_path": [],
            "finish": None,
        }
    )
