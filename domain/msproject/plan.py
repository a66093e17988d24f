"""What a Microsoft Project plan file holds, as read from (or written to) MSPDI XML.

The values are the file's own, in its own units: durations, work and time lags in minutes of
working time (MSPDI's tenths of minutes divided by ten), dates and times as the file has
them (no time zone). `domain.msproject.mapping` decides what becomes of them here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind
from domain.recurrence import Frequency

MINUTES_PER_DAY = 480  # MS Project's default: a working day of 8 hours


class LagUnit(StrEnum):
    """How a link's lag is expressed: working time, elapsed (calendar) time, or a percent
    of the predecessor's duration."""

    WORKING = "working"
    ELAPSED = "elapsed"
    PERCENT = "percent"


@dataclass(frozen=True, slots=True)
class FileLink:
    """The task follows `predecessor_uid`; `lag` is minutes (WORKING, ELAPSED) or a
    percent (PERCENT; 50.0 is half the predecessor's duration). Negative lag is lead."""

    predecessor_uid: int
    kind: LinkKind = LinkKind.FINISH_TO_START
    lag: float = 0.0
    lag_unit: LagUnit = LagUnit.WORKING


@dataclass(frozen=True, slots=True)
class FileRecurrence:
    """A recurring task's pattern, where the file holds one."""

    frequency: Frequency
    starts: date
    interval: int = 1
    weekdays: tuple[str, ...] = ()  # "MO" ... "SU"
    month_days: tuple[int, ...] = ()
    count: int | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True)
class FileTask:
    """One task of the file, in file order (which is outline order)."""

    uid: int
    id: int
    name: str
    outline_level: int  # 0 is the project summary task (UID 0), 1 the top level
    summary: bool = False
    milestone: bool = False
    notes: str = ""
    start: datetime | None = None
    finish: datetime | None = None
    duration_minutes: int | None = None  # working time
    work_minutes: int | None = None
    percent_complete: int = 0
    actual_start: datetime | None = None
    actual_finish: datetime | None = None
    constraint: ConstraintKind = ConstraintKind.AS_SOON_AS_POSSIBLE
    constraint_date: datetime | None = None
    predecessors: tuple[FileLink, ...] = ()
    recurring: bool = False  # a recurring task's summary (its occurrences are its subtasks)
    recurrence: FileRecurrence | None = None
    guid: str | None = None
    null: bool = False  # a blank row of the plan
    active: bool = True  # Project 2010+: inactive tasks are kept but do not schedule
    manual: bool = False  # Project 2010+: manually scheduled
    outline_number: str = ""  # "1.2.3", as the file has it (informative)
    # The duration is elapsed time (MSPDI DurationFormat "ed" and the like: 24-hour days,
    # every day of the week), not working time: `duration_minutes` is then elapsed minutes.
    duration_elapsed: bool = False


@dataclass(frozen=True, slots=True)
class CalendarException:
    """Days `starts` to `ends` (both included) are non-working (`working` False) or
    working (True: e.g. a Saturday worked)."""

    starts: date
    ends: date
    working: bool = False
    name: str = ""


@dataclass(frozen=True, slots=True)
class FileCalendar:
    uid: int
    name: str
    working_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # 0 Monday ... 6 Sunday
    exceptions: tuple[CalendarException, ...] = ()
    base_uid: int | None = None
    base: bool = True  # a base calendar (not a resource's own)
    exceptions_cut: bool = False  # the file has more exception days than are read


@dataclass(frozen=True, slots=True)
class FileResource:
    uid: int
    name: str
    email: str = ""
    kind: str = "work"  # work | material | cost: only work resources are people


@dataclass(frozen=True, slots=True)
class FileAssignment:
    task_uid: int
    resource_uid: int
    units: float = 1.0  # 1.0 is 100 %


@dataclass(frozen=True)
class FilePlan:
    """A plan file: its project's name, its calendar, its tasks, resources and
    assignments."""

    name: str
    start: datetime | None = None
    calendar_uid: int | None = None
    minutes_per_day: int = MINUTES_PER_DAY
    minutes_per_week: int = MINUTES_PER_DAY * 5
    calendars: tuple[FileCalendar, ...] = ()
    tasks: tuple[FileTask, ...] = ()
    resources: tuple[FileResource, ...] = ()
    assignments: tuple[FileAssignment, ...] = ()
    save_version: int | None = None  # MSPDI SaveVersion: 9 is Project 2000/2002 ... 14+
    extra: dict[str, str] = field(default_factory=dict)  # e.g. the file's Title, Author

    def with_recurrences(self, patterns: dict[int, FileRecurrence | None]) -> FilePlan:
        """The plan with the recurring tasks' patterns read apart (from an MPP file)."""
        tasks = tuple(
            replace(task, recurrence=patterns[task.uid])
            if patterns.get(task.uid) is not None
            else task
            for task in self.tasks
        )
        return replace(self, tasks=tasks)

    @property
    def calendar(self) -> FileCalendar | None:
        """The project's calendar (the file's `CalendarUID`), if it has one."""
        for found in self.calendars:
            if found.uid == self.calendar_uid:
                return found
        return None
