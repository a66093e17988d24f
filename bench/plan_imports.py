"""A 5,000-task Microsoft Project plan (MSPDI XML) imported through the application on
PostgreSQL and on SQLite, beside the raw cost of the same work.

ledgerdesk: `PlanImportService.import_plan` on the file as the HTTP route calls it (read
the XML, map the outline, links and constraints, match resources, then one write of the
project, its folders, every task with its index entry, subtasks and links), by an admin
into a new project. The plan: 100 phases (summary tasks with a summary below: folders), each
with 7 parent tasks of 6 subtasks each (5,000 rows in all), every subtask
linked finish-to-start to the one before it in its phase, a constraint on every tenth.
Raw: the same file parsed by the same reader, one row per task into a plain table
(PostgreSQL by COPY on one connection, SQLite by one `executemany` in one transaction).
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta

from bench.common import Figure, migrated, pg_schema, pg_settings, say, scratch_dir, show
from bench.imports import raw_pg, raw_sqlite
from commands.models import Context, RegisterUser
from commands.msproject.importer import PlanImportService, Target
from commands.msproject.mspdi import read_mspdi, write_mspdi
from domain.msproject.plan import FileLink, FilePlan, FileTask
from domain.planning.constraints import ConstraintKind
from domain.user import CompanyRole
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings

PHASES, PARENTS, SUBTASKS = 100, 7, 6  # 100 x (1 + 7 x (1 + 6)) = 5,000 rows
SMOKE_PHASES = 2


def plan_file(phases: int) -> bytes:
    """A plan of `phases` phases (see the module): 5,000 rows for 100."""
    tasks: list[FileTask] = [FileTask(uid=0, id=0, name="Bench plan", outline_level=0)]
    day = datetime(2027, 1, 4, 8)
    uid = 0

    def add(name: str, level: int, summary: bool, before: int | None) -> int:
        nonlocal uid, day
        uid += 1
        start = day
        finish = start.replace(hour=17)
        day += timedelta(days=1 if day.weekday() < 4 else 3)
        tasks.append(
            FileTask(
                uid=uid, id=uid, name=name, outline_level=level, summary=summary,
                start=start, finish=finish, duration_minutes=480,
                predecessors=(FileLink(before),) if before else (),
                constraint=ConstraintKind.START_NO_EARLIER_THAN if uid % 10 == 0
                else ConstraintKind.AS_SOON_AS_POSSIBLE,
                constraint_date=start if uid % 10 == 0 else None,
            )
        )  # fmt: skip
        return uid

    for phase in range(phases):
        add(f"Phase {phase}", 1, True, None)
        before = None
        for parent in range(PARENTS):
            add(f"Work package {phase}.{parent}", 2, True, None)
            for sub in range(SUBTASKS):
                before = add(f"Step {phase}.{parent}.{sub}", 3, False, before)
    return write_mspdi(FilePlan(name="Bench plan", tasks=tuple(tasks)))


def _import(container: bootstrap.Container, content: bytes) -> tuple[float, int]:
    system = Context(actor=Actor.system("bench"), correlation_id="bench")
    admin = container.accounts.register_user(
        RegisterUser(email="admin@example.com", name="admin", role=CompanyRole.ADMIN), system
    ).id
    ctx = Context(actor=Actor.user(admin), correlation_id="bench")
    service = PlanImportService(container.app)
    started = time.perf_counter()
    plan = read_mspdi(content)
    done = service.import_plan(
        plan, hashlib.sha256(content).hexdigest(), Target(name="Bench"), ctx, lambda names: {}
    )
    seconds = time.perf_counter() - started
    rows = len(plan.tasks) - 1
    assert done.created["tasks"] + done.created["folders"] == rows, done.created
    return seconds, rows


def _rows(content: bytes) -> list[tuple[str, ...]]:
    plan = read_mspdi(content)
    return [
        (str(t.uid), t.name, str(t.outline_level), str(t.start), str(t.finish))
        for t in plan.tasks
        if t.outline_level > 0
    ]


def _figure(backend: str, rows: int, seconds: float, raw: float, twin: str) -> Figure:
    return Figure(
        f"import a {rows:,}-task MS Project plan, {backend}",
        rows / seconds,
        "tasks/s",
        rows / raw,
        twin,
        note=f"{seconds:.1f} s against {raw:.2f} s",
    )


def run(with_sqlite: bool = True, smoke: bool = False) -> list[Figure]:
    content = plan_file(SMOKE_PHASES if smoke else PHASES)
    figures = []
    with scratch_dir() as data, pg_schema() as schema:
        with migrated(pg_settings(schema, data)) as container:
            say("imports: an MS Project plan on PostgreSQL ...")
            seconds, rows = _import(container, content)
        raw = raw_pg(content, schema, _rows)
        twin = "the same file read, one row per task by COPY into a plain table"
        figures.append(_figure("PostgreSQL", rows, seconds, raw, twin))
        show(figures[-1])
    if with_sqlite:
        with scratch_dir() as data:
            with migrated(Settings(data_dir=data, database_url=None)) as container:
                say("imports: an MS Project plan on SQLite ...")
                seconds, rows = _import(container, content)
            raw = raw_sqlite(content, data / "raw.sqlite3", _rows)
            twin = "the same file read, one row per task by executemany into a plain table"
            figures.append(_figure("SQLite", rows, seconds, raw, twin))
            show(figures[-1])
    return figures
