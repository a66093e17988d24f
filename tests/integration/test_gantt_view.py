"""The Gantt view's stored offsets and JSON on SQLite and PostgreSQL: a rebuild makes the
very rows the live view holds, and the chart read from them is the chart of the bars."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import orjson

from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import Constraint, ConstraintKind
from domain.planning.links import LinkKind
from domain.project import Project
from domain.task import Task
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.gantt_query import (
    chart,
    chart_document,
    chart_rows,
    project_chart,
    project_rows,
)

AGENT = Actor.system("tests")
SITE = uuid.UUID(int=10)
MON = date(2026, 3, 2)


def plan_site(c: bootstrap.Container) -> None:
    """Ten tasks in a chain with a lag, a lead and a weekend start; #5 a milestone pinned
    to a Saturday; #7 as late as possible; #10 undated."""
    tasks = [
        Task.plan(
            number=n,
            title=f'Step {n} \u2013 "quoted"',
            actor=AGENT,
            correlation_id="c",
            project_id=SITE,
            start=None if n == 10 else MON + timedelta(days=2 * n),
            duration_days=None if n in (5, 10) else n % 4 + 1,
            milestone=n == 5,
        )
        for n in range(1, 11)
    ]
    kinds = list(LinkKind)
    for i in range(1, 10):
        tasks[i].depend_on(tasks[i - 1], kinds[i % 4], i % 3 - 1, AGENT, "c")
    tasks[4].set_constraint(
        Constraint(ConstraintKind.MUST_FINISH_ON, MON + timedelta(days=19)), AGENT, "c"
    )
    tasks[6].set_constraint(Constraint(ConstraintKind.AS_LATE_AS_POSSIBLE), AGENT, "c")
    c.app.save(*tasks)
    tasks[2].schedule(MON + timedelta(days=12), None, 6, "planned", AGENT, "c")  # a Saturday
    c.app.save(tasks[2])


def read(c: bootstrap.Container) -> tuple[list[dict[str, object]], bytes, dict[str, object]]:
    with c.views.read() as tx:
        t = current_tables(tx, "gantt")
        stored = tx.all(
            f"SELECT id, start_day, span_days, bound_kind, bound_day, chart_head"
            f" FROM {t['gantt_tasks']} ORDER BY id"
        )
        document = orjson.dumps(chart_document(*chart_rows(tx, t, str(SITE))))
        folded = chart(*project_rows(tx, t, str(SITE)))
    return stored, document, folded


def test_a_rebuilt_gantt_stores_the_live_offsets_and_json(container: bootstrap.Container) -> None:
    # Given a plan followed live
    plan_site(container)
    container.runner.catch_up(["gantt"])
    live = read(container)
    # When the view is verified and rebuilt from the log
    assert container.runner.verify("gantt") == []
    container.runner.rebuild("gantt")
    # Then the new generation holds the same rows and answers the same chart
    rebuilt = read(container)
    assert rebuilt == live
    stored, document, folded = rebuilt
    assert orjson.loads(document) == folded
    assert len(folded["tasks"]) == 10
    assert folded["critical_path"]
    assert [row["start_day"] is None for row in stored].count(True) == 1


def test_a_projects_calendar_is_followed_and_rebuilt_and_counts_its_chart(
    container: bootstrap.Container,
) -> None:
    # Given the plan in a project that then works Monday to Thursday with a holiday, and
    # another project whose calendar is set and then set back to the standard one
    plan_site(container)
    site = Project.create(project_id=SITE, name="Site", manager=None, actor=AGENT,
                          correlation_id="c")  # fmt: skip
    other = Project.create(project_id=uuid.UUID(int=11), name="Other", manager=None,
                           actor=AGENT, correlation_id="c")  # fmt: skip
    four_days = WorkCalendar.of(range(4), [MON + timedelta(days=8)])
    site.set_calendar(four_days, AGENT, "c")
    other.set_calendar(four_days, AGENT, "c")
    other.set_calendar(STANDARD, AGENT, "c")
    container.app.save(site, other)
    container.runner.catch_up(["gantt"])
    live = _calendar_read(container)
    # Then the chart counts the project's days, the same from the stored JSON or the bars
    calendars, document, folded = live
    assert calendars == [{"project_id": str(SITE), "calendar": four_days.as_dict()}]
    assert document == orjson.loads(orjson.dumps(folded))
    with container.views.read() as tx:
        standard = chart(*project_rows(tx, current_tables(tx, "gantt"), str(SITE)))
    assert folded["tasks"] != standard["tasks"]  # (slack counted otherwise)
    assert date.fromisoformat(folded["finish"]).weekday() < 4
    # And a rebuild makes the same rows and chart
    assert container.runner.verify("gantt") == []
    container.runner.rebuild("gantt")
    assert _calendar_read(container) == live


def _calendar_read(
    c: bootstrap.Container,
) -> tuple[list[dict[str, object]], dict[str, object], dict[str, object]]:
    with c.views.read() as tx:
        t = current_tables(tx, "gantt")
        calendars = [
            {"project_id": row["project_id"], "calendar": orjson.loads(row["calendar"])}
            for row in tx.all(f"SELECT * FROM {t['gantt_calendars']} ORDER BY project_id")
        ]
    stream = c.services().commands.stream
    document = project_chart(c.views, str(SITE), lambda _: True, None, stream, serialised=True)
    folded = project_chart(c.views, str(SITE), lambda _: True, None, stream)
    return calendars, orjson.loads(orjson.dumps(document)), folded
