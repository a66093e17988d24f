"""A dashboard of every widget type over 100,000 items and 1,000,000 timesheet events: its
p95 below HTTP (a read transaction from the view pool,
`projections.reports.dashboard.dashboard_data` for an admin, then orjson), beside the
same SELECTs the widgets sent (recorded once), replayed raw on one autocommit psycopg
connection; and one widget drawn as SVG.

The data: the rebuild benchmark's tickets (`bench.dataset.seed`, 98,000 numbered by the
real counter) and the time benchmark's firm (`bench.timesheets.seed`: 200 people, 40
projects, 2,000 tasks numbered after the tickets, and their entries' events), in one
throwaway schema; the views the widgets read built from that log."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
import psycopg

from api.widget_charts import widget_svg
from bench import dataset, timesheets
from bench.common import (
    PG_URL,
    Figure,
    RecordingTx,
    latency_figure,
    migrated,
    pg_schema,
    pg_settings,
    replayed,
    say,
    scratch_dir,
    show,
    timed_pairs,
)
from domain.views.dashboard import checked_dashboard
from projections.base import current_tables
from projections.reports.dashboard import READS, WidgetScope, dashboard_data
from projections.timesheet_query import EntryScope

ITEMS = 100_000
EVENTS = 1_000_000
SMOKE_TICKETS = 300
SMOKE_EVENTS = 2_000


def _widgets(project: str) -> list[dict[str, object]]:
    given = [
        {"type": "counts", "by": "state"},
        {"type": "counts", "by": "status", "kinds": ["ticket"]},
        {"type": "created_vs_finished", "weeks": 8},
        {"type": "response_times", "weeks": 8},
        {"type": "sla_compliance", "weeks": 8},
        {"type": "workload"},
        {"type": "time_logged", "weeks": 4},
        {"type": "overdue_tasks"},
        {"type": "burn_down", "project_id": project},
    ]
    return list(checked_dashboard({"widgets": given})["widgets"])


def run(smoke: bool = False) -> list[Figure]:
    tickets = SMOKE_TICKETS if smoke else ITEMS - timesheets.TASKS
    events = SMOKE_EVENTS if smoke else EVENTS
    figures: list[Figure] = []
    with (
        scratch_dir() as data,
        pg_schema() as schema,
        migrated(pg_settings(schema, data)) as container,
    ):
        say(f"dashboards: seeding {tickets:,} tickets and about {events:,} timesheet events")
        dataset.seed(container, tickets)
        timesheets.seed(container, events, smoke, first_number=tickets + 1)
        head = container.app.head()
        views = sorted({view for reads in READS.values() for view in reads})
        say(f"dashboards: building {', '.join(views)} over {head:,} events")
        started = time.perf_counter()
        container.runner.catch_up(views)
        say(f"dashboards: views built in {time.perf_counter() - started:.0f} s")
        with psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={schema}") as conn:
            conn.execute("ANALYZE")
        with container.views.read() as tx:
            found = tx.one(
                f"SELECT project_id FROM {current_tables(tx, 'gantt')['gantt_tasks']} LIMIT 1"
            )
            counted = tx.one(
                f"SELECT COUNT(*) AS n FROM {current_tables(tx, 'flat')['flat_items']}"
            )
        assert found is not None
        assert counted is not None
        widgets = _widgets(found["project_id"])
        scope = WidgetScope(
            projects=None,
            kinds=frozenset({"ticket", "task"}),
            entries=EntryScope("bench", True, frozenset()),
            today=datetime.now(UTC).date(),
        )

        def ours() -> bytes:
            with container.views.read() as tx:
                return orjson.dumps(dashboard_data(tx, widgets, scope))

        with container.views.read() as tx:
            recorder = RecordingTx(tx)
            shown = dashboard_data(recorder, widgets, scope)
        sent = [(sql, params) for sql, params in recorder.sent if "projection_tracking" not in sql]
        with psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={schema}") as conn:
            conn.prepare_threshold = None
            note = f"{len(widgets)} widgets, {head:,} events ({counted['n']:,} items)"
            figures.append(
                latency_figure(
                    "dashboard p95, every widget type",
                    *timed_pairs(ours, replayed(conn, sent)),
                    note,
                    f"the widgets' {len(sent)} SELECTs via psycopg",
                )
            )
        started = time.perf_counter()
        drawn = [widget_svg(data) for data in shown]
        per_chart = (time.perf_counter() - started) * 1000 / len(drawn)
        figures.append(
            Figure(
                name="dashboard widget as SVG, per chart",
                value=per_chart,
                unit="ms",
                baseline=_json_ms(shown),
                baseline_name="the same widgets' data as JSON (orjson), per widget",
                note=f"{len(drawn)} charts, {sum(map(len, drawn)) // len(drawn):,} bytes each",
                lower_is_better=True,
            )
        )
        show(figures[-1])
    return figures


def _json_ms(shown: list[dict[str, object]]) -> float:
    started = time.perf_counter()
    for data in shown:
        orjson.dumps(data)
    return (time.perf_counter() - started) * 1000 / len(shown)
