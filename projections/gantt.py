"""Gantt view: reads Task events and the shared item events tasks record (title, status,
assignees, place); shows one bar per task (`gantt_tasks`), one row per dependency
(`gantt_links`), every project each task has ever been in (`gantt_placements`, so that
a baseline also finds the tasks moved elsewhere since), and each project's own calendar
(`gantt_calendars`, from `Project.CalendarSet`; a project without one works Monday to Friday).

One pure fold (`evolve`) makes the rows: the projection applies it to a page of the log;
a baseline (`as_of`) applies it to a project's task streams up to a moment. The view's
queries, and `chart`, which turns the rows into what the Gantt shows with the critical path
computed at read time, are in `projections.gantt_query`.

Each bar also stores what the read needs ready-made (`CHART_COLUMNS`): its start, span and
constraint as working-day offsets of the standard calendar (`domain.planning.network`), so that
the critical path is integer arithmetic only (a project with its own calendar has them
computed again at read time, from the dates), and its JSON as the chart shows it up to
the fields the critical path decides, so that a read serialises each task by appending those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import orjson

from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import ConstraintKind
from domain.planning.network import span_of, start_bound
from projections.base import Positioned, Projection, Tables, dumps, iso, loads, topic_name
from projections.db import Row, Tx, cached_rows

BAR_COLUMNS = (
    "id",
    "number",
    "project_id",
    "folder_id",
    "parent",
    "title",
    "status",
    "state",
    "start",
    "finish",
    "duration_days",
    "actual_start",
    "actual_finish",
    "milestone",
    "percent_complete",
    "points",
    "work_hours",
    "constraint_kind",
    "constraint_on",
    "assignees",
    "converted_from",
    "updated_at",
)
# Derived from the columns above when a bar is saved; never read back into a `GanttBar`.
CHART_COLUMNS = ("start_day", "span_days", "bound_kind", "bound_day", "chart_head")


@dataclass
class GanttBar:
    """One task as the Gantt shows it (dates are ISO days, `updated_at` its last change)."""

    id: str
    number: int
    project_id: str
    folder_id: str | None
    parent: int | None
    title: str
    status: str
    state: str
    start: str | None
    finish: str | None
    duration_days: int | None
    actual_start: str | None
    actual_finish: str | None
    milestone: bool
    percent_complete: int
    points: float | None
    work_hours: float | None
    constraint_kind: str
    constraint_on: str | None
    assignees: list[str]
    converted_from: int | None
    updated_at: str

    def row(self) -> tuple[Any, ...]:
        """The values of `BAR_COLUMNS` then `CHART_COLUMNS`."""
        values = asdict(self)
        values["milestone"] = int(self.milestone)
        values["assignees"] = dumps(self.assignees)
        return (*(values[c] for c in BAR_COLUMNS), *self.offsets(), self.chart_head())

    def offsets(self, calendar: WorkCalendar = STANDARD) -> tuple[int | None, int, int, int]:
        """Start (None if undated), span, constraint bound and its day, in working days of
        `calendar` (the project's)."""
        span = span_of(self.duration_days, self.milestone)
        return offsets_of(self.start, span, self.constraint_kind, self.constraint_on, calendar)

    def chart_fields(self) -> dict[str, Any]:
        """The task as the chart shows it, up to what the critical path decides."""
        return {
            "number": self.number,
            "parent": self.parent,
            "title": self.title,
            "status": self.status,
            "state": self.state,
            "planned": {"start": self.start, "finish": self.finish},
            "duration_days": self.duration_days,
            "actual": {"start": self.actual_start, "finish": self.actual_finish},
            "milestone": self.milestone,
            "percent_complete": self.percent_complete,
            "points": self.points,
            "work_hours": self.work_hours,
            "constraint": {"kind": self.constraint_kind, "on": self.constraint_on},
            "assignees": self.assignees,
            "converted_from_ticket": self.converted_from,
        }

    def chart_head(self) -> str:
        """`chart_fields` as JSON, left open after a last key `critical` for the read to
        finish (`projections.gantt_query.chart_document`)."""
        return orjson.dumps(self.chart_fields())[:-1].decode() + ',"critical":'

    @classmethod
    def from_row(cls, row: Row) -> GanttBar:
        values = {c: row[c] for c in BAR_COLUMNS}
        values["milestone"] = bool(row["milestone"])
        values["assignees"] = loads(row["assignees"])
        return cls(**values)


def offsets_of(
    start: str | None, span: int, constraint: str, constraint_on: str | None,
    calendar: WorkCalendar,
) -> tuple[int | None, int, int, int]:  # fmt: skip
    """A bar's start (None if undated), span, constraint bound and its day, in working days
    of `calendar`, from its ISO days."""
    on = date.fromisoformat(constraint_on) if constraint_on else None
    bound, day = start_bound(ConstraintKind(constraint), on, span, calendar)
    first = calendar.index(date.fromisoformat(start)) if start else None
    return first, span, int(bound), day


@dataclass(frozen=True)
class GanttLink:
    """A dependency: `successor` follows `predecessor` (item numbers)."""

    predecessor: int
    successor: int
    kind: str
    lag_days: int

    @classmethod
    def from_row(cls, row: Row) -> GanttLink:
        return cls(row["predecessor"], row["successor"], row["kind"], row["lag_days"])


@dataclass
class GanttPlan:
    """The bars, links and placements of some tasks: what `evolve` changes.

    `links` is keyed by the successor's id (dependencies are recorded on its stream);
    `relinked` and `placed` say what changed, so the projection writes only that.
    """

    bars: dict[str, GanttBar] = field(default_factory=dict)
    links: dict[str, dict[int, GanttLink]] = field(default_factory=dict)
    relinked: set[str] = field(default_factory=set)
    placed: set[tuple[str, str]] = field(default_factory=set)

    def in_project(self, project_id: str) -> tuple[list[GanttBar], list[GanttLink]]:
        bars = [b for b in self.bars.values() if b.project_id == project_id]
        links = [link for b in bars for link in self.links.get(b.id, {}).values()]
        return bars, links


Fold = Callable[[GanttPlan, GanttBar, Any], None]


def _planned(plan: GanttPlan, e: Any) -> None:
    task_id = str(e.originator_id)
    carried = e.carried or {}
    plan.bars[task_id] = GanttBar(
        id=task_id,
        number=e.number,
        project_id=e.project_id,
        folder_id=e.folder_id,
        parent=None,
        title=e.title,
        status=e.status,
        state=e.state,
        start=e.start,
        finish=e.finish,
        duration_days=e.duration_days,
        actual_start=None,
        actual_finish=None,
        milestone=e.milestone,
        percent_complete=0,
        points=e.points,
        work_hours=e.work_hours,
        constraint_kind=e.constraint,
        constraint_on=e.constraint_on,
        assignees=sorted(set(carried.get("assignees", []))),
        converted_from=e.converted_from,
        updated_at=iso(e.timestamp),
    )
    plan.links.setdefault(task_id, {})
    plan.placed.add((task_id, e.project_id))


def _set(*fields: str, **renamed: str) -> Fold:
    """Copy event fields onto the bar (`renamed`: bar field = event field)."""
    pairs = [(f, f) for f in fields] + list(renamed.items())

    def apply(plan: GanttPlan, bar: GanttBar, e: Any) -> None:
        for to, source in pairs:
            setattr(bar, to, getattr(e, source))

    return apply


def _moved(plan: GanttPlan, bar: GanttBar, e: Any) -> None:
    bar.project_id, bar.folder_id = e.project_id, e.folder_id
    plan.placed.add((bar.id, e.project_id))


def _assignee(added: bool) -> Fold:
    def apply(plan: GanttPlan, bar: GanttBar, e: Any) -> None:
        people = set(bar.assignees)
        if added:
            people.add(e.user_id)
        else:
            people.discard(e.user_id)
        bar.assignees = sorted(people)

    return apply


def _dependency_added(plan: GanttPlan, bar: GanttBar, e: Any) -> None:
    link = GanttLink(e.predecessor, bar.number, e.kind, e.lag_days)
    plan.links.setdefault(bar.id, {})[e.predecessor] = link
    plan.relinked.add(bar.id)


def _dependency_removed(plan: GanttPlan, bar: GanttBar, e: Any) -> None:
    plan.links.setdefault(bar.id, {}).pop(e.predecessor, None)
    plan.relinked.add(bar.id)


FOLDS: dict[str, Fold] = {
    "Task.Scheduled": _set("start", "finish", "duration_days"),
    "Task.ConstraintSet": _set("constraint_on", constraint_kind="constraint"),
    "Task.WorkEstimated": _set("work_hours"),
    "Task.PointsEstimated": _set("points"),
    "Task.ProgressSet": _set("percent_complete"),
    "Task.ActualsRecorded": _set("actual_start", "actual_finish"),
    "Task.MilestoneSet": _set("milestone"),
    "Task.ParentSet": _set("parent"),
    "Task.DependencyAdded": _dependency_added,
    "Task.DependencyRemoved": _dependency_removed,
    "Ticket.Retitled": _set("title"),
    "Ticket.StatusChanged": _set("status", "state"),
    "Ticket.UserAssigned": _assignee(added=True),
    "Ticket.UserUnassigned": _assignee(added=False),
    "Ticket.Moved": _moved,
}
PLANNED = "Task.Planned"
CALENDAR_SET = "Project.CalendarSet"
READS = frozenset({PLANNED, CALENDAR_SET, *FOLDS})


def evolve(plan: GanttPlan, event: Any) -> None:
    """Apply one event to the plan. Events of streams that are not tasks (a ticket's
    `Ticket.Retitled`) find no bar and change nothing."""
    name = topic_name(event)
    if name == PLANNED:
        _planned(plan, event)
        return
    fold = FOLDS.get(name)
    bar = plan.bars.get(str(event.originator_id))
    if fold is not None and bar is not None:
        fold(plan, bar, event)
        bar.updated_at = iso(event.timestamp)


def fold_plan(events: Iterable[Any]) -> GanttPlan:
    """The plan of the tasks whose events these are (in stream order per task)."""
    plan = GanttPlan()
    for event in events:
        evolve(plan, event)
    return plan


class GanttProjection(Projection):
    """Reads Task events, tasks' title, status, assignee and move events, and projects'
    calendars; shows `gantt_tasks` (a bar per task), `gantt_links` (its dependencies),
    `gantt_placements` (each project a task has been in) and `gantt_calendars`."""

    name = "gantt"
    # 2: working-day offsets and the chart's JSON stored per bar; 3: projects' calendars
    schema_version = 3
    tables = ("gantt_tasks", "gantt_links", "gantt_placements", "gantt_calendars")
    topics = frozenset(f"ledgerdesk:{name}" for name in READS)

    def create(self, tx: Tx, t: Tables) -> None:
        bars = t["gantt_tasks"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {bars} ("
            " id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, project_id TEXT NOT NULL,"
            " folder_id TEXT, parent INTEGER, title TEXT NOT NULL, status TEXT NOT NULL,"
            " state TEXT NOT NULL, start TEXT, finish TEXT, duration_days INTEGER,"
            " actual_start TEXT, actual_finish TEXT, milestone INTEGER NOT NULL,"
            " percent_complete INTEGER NOT NULL, points DOUBLE PRECISION,"
            " work_hours DOUBLE PRECISION, constraint_kind TEXT NOT NULL, constraint_on TEXT,"
            " assignees TEXT NOT NULL, converted_from INTEGER, updated_at TEXT NOT NULL,"
            " start_day INTEGER, span_days INTEGER NOT NULL, bound_kind INTEGER NOT NULL,"
            " bound_day INTEGER NOT NULL, chart_head TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {bars}_project ON {bars} (project_id, number)")
        # The calendar's month windows: by planned start, and by actual start.
        tx.execute(f"CREATE INDEX IF NOT EXISTS {bars}_start ON {bars} (start, number)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {bars}_actual ON {bars} (actual_start, number)")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['gantt_links']} ("
            " successor_id TEXT NOT NULL, predecessor INTEGER NOT NULL,"
            " successor INTEGER NOT NULL, kind TEXT NOT NULL, lag_days INTEGER NOT NULL,"
            " PRIMARY KEY (successor_id, predecessor))"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['gantt_placements']} ("
            " project_id TEXT NOT NULL, task_id TEXT NOT NULL, PRIMARY KEY (project_id, task_id))"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['gantt_calendars']} ("
            " project_id TEXT PRIMARY KEY, calendar TEXT NOT NULL)"
        )

    def key_columns(self, base: str) -> str:
        return {
            "gantt_tasks": "id",
            "gantt_links": "successor_id, predecessor",
            "gantt_placements": "project_id, task_id",
            "gantt_calendars": "project_id",
        }[base]

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        calendars = [p.event for p in events if topic_name(p.event) == CALENDAR_SET]
        if calendars:
            _save_calendars(tx, t, calendars)
            events = [p for p in events if topic_name(p.event) != CALENDAR_SET]
        ids = {str(p.event.originator_id) for p in events}
        planned = {str(p.event.originator_id) for p in events if topic_name(p.event) == PLANNED}
        # The page's bars and their links, read in two statements per 500 ids; while
        # rebuilding, only those the rebuild does not hold (a ticket's events, most of the
        # page in a help desk, have no bar and are not read for at all).
        table = t["gantt_tasks"]
        stored = cached_rows(tx, table, ids, lambda keys: _load(tx, t, keys), planned)
        plan = GanttPlan()
        for task_id, (bar, links) in stored.items():
            plan.bars[task_id], plan.links[task_id] = bar, links
        for p in events:
            evolve(plan, p.event)
        _save(tx, t, plan)
        if (cache := tx.row_cache(table)) is not None:
            cache.keep({i: (bar, plan.links.setdefault(i, {})) for i, bar in plan.bars.items()})


def _save_calendars(tx: Tx, t: Tables, events: list[Any]) -> None:
    """Each project's latest calendar; a project set back to the standard one has no row."""
    latest = {str(e.originator_id): e.calendar for e in events}
    table = t["gantt_calendars"]
    gone = sorted(project for project, calendar in latest.items() if calendar is None)
    for chunk in _chunks(gone):
        marks = ",".join("?" * len(chunk))
        tx.execute(f"DELETE FROM {table} WHERE project_id IN ({marks})", chunk)
    kept = sorted((p, dumps(c)) for p, c in latest.items() if c is not None)
    if kept:
        tx.executemany(
            f"INSERT INTO {table} (project_id, calendar) VALUES (?, ?)"
            " ON CONFLICT (project_id) DO UPDATE SET calendar = excluded.calendar",
            kept,
        )


def project_calendar(tx: Tx, t: Tables, project_id: str) -> WorkCalendar:
    """The calendar the project's tasks are planned by."""
    row = tx.one(f"SELECT calendar FROM {t['gantt_calendars']} WHERE project_id = ?", (project_id,))
    return WorkCalendar.from_dict(loads(row["calendar"])) if row is not None else STANDARD


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load(tx: Tx, t: Tables, ids: list[str]) -> dict[str, tuple[GanttBar, dict[int, GanttLink]]]:
    """The stored bars among `ids`, each with its links (by predecessor)."""
    found: dict[str, tuple[GanttBar, dict[int, GanttLink]]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for row in tx.all(f"SELECT * FROM {t['gantt_tasks']} WHERE id IN ({marks})", chunk):
            found[row["id"]] = (GanttBar.from_row(row), {})
        for row in tx.all(
            f"SELECT * FROM {t['gantt_links']} WHERE successor_id IN ({marks})", chunk
        ):
            found[row["successor_id"]][1][row["predecessor"]] = GanttLink.from_row(row)
    return found


def _save(tx: Tx, t: Tables, plan: GanttPlan) -> None:
    if not plan.bars:
        return
    columns = BAR_COLUMNS + CHART_COLUMNS
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    tx.executemany(
        f"INSERT INTO {t['gantt_tasks']} ({', '.join(columns)})"
        f" VALUES ({','.join('?' * len(columns))}) ON CONFLICT (id) DO UPDATE SET {updates}",
        [bar.row() for _, bar in sorted(plan.bars.items())],
    )
    relinked = sorted(plan.relinked)
    for chunk in _chunks(relinked):
        marks = ",".join("?" * len(chunk))
        tx.execute(f"DELETE FROM {t['gantt_links']} WHERE successor_id IN ({marks})", chunk)
    links = [
        (task_id, link.predecessor, link.successor, link.kind, link.lag_days)
        for task_id in relinked
        for link in plan.links.get(task_id, {}).values()
    ]
    if links:
        tx.executemany(
            f"INSERT INTO {t['gantt_links']} (successor_id, predecessor, successor, kind,"
            " lag_days) VALUES (?, ?, ?, ?, ?)",
            links,
        )
    if plan.placed:
        tx.executemany(
            f"INSERT INTO {t['gantt_placements']} (project_id, task_id) VALUES (?, ?)"
            " ON CONFLICT (project_id, task_id) DO NOTHING",
            sorted((project_id, task_id) for task_id, project_id in plan.placed),
        )
