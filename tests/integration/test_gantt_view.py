"""The Gantt view's stored offsets and JSON on SQLite and PostgreSQL: a rebuild makes the
very rows the live view holds, and the chart read from them is the chart of the bars."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import orjson

from domain.planning.constraints import Constraint, ConstraintKind
from domain.planning.links import LinkKind
from domain.task import Task
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.gantt_query import chart, chart_document, chart_rows, project_rows

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
