"""The mapping of a Microsoft Project plan onto folders, tasks, subtasks and links
(`domain.msproject.mapping`): what is kept, and a warning for what is not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from commands.msproject.export import project_plan
from commands.msproject.mspdi import read_mspdi, write_mspdi
from domain.msproject.links import PlanCycleError
from domain.msproject.mapping import map_plan
from domain.msproject.plan import (
    CalendarException,
    FileAssignment,
    FileCalendar,
    FileLink,
    FilePlan,
    FileRecurrence,
    FileTask,
    LagUnit,
)
from domain.planning.calendar import MAX_EXCEPTIONS, WorkCalendar
from domain.planning.constraints import Constraint, ConstraintKind
from domain.planning.links import LinkKind
from domain.recurrence import Frequency

DAY = 480


def task(uid: int, level: int = 1, name: str = "", **fields: object) -> FileTask:
    values: dict[str, object] = {
        "start": datetime(2026, 3, 2, 8),  # a Monday
        "finish": datetime(2026, 3, 3, 17),
        "duration_minutes": 2 * DAY,
    }
    values.update(fields)
    return FileTask(uid=uid, id=uid, name=name or f"T{uid}", outline_level=level, **values)  # type: ignore[arg-type]


def plan(*tasks: FileTask, **fields: object) -> FilePlan:
    return FilePlan(name="Launch", tasks=(task(0, level=0, name="Launch"), *tasks), **fields)  # type: ignore[arg-type]


def messages(mapped: object) -> list[str]:
    return [w.message for w in mapped.warnings]  # type: ignore[attr-defined]


def test_summary_tasks_with_summaries_below_become_folders_the_rest_parent_tasks() -> None:
    mapped = map_plan(
        plan(
            task(1, 1, "Phase 1", summary=True),  # has a summary below: a folder
            task(2, 2, "Design", summary=True),  # only plain tasks below: a parent task
            task(3, 3, "Sketch"),
            task(4, 3, "Review"),
            task(5, 2, "Kick-off"),  # a plain task in the folder
            task(6, 1, "Launch party"),  # top level
            task(7, 1, "Empty summary", summary=True),  # nothing below: an (empty) folder
        )
    )
    assert [(f.uid, f.name, f.parent_uid) for f in mapped.folders] == [
        (1, "Phase 1", None),
        (7, "Empty summary", None),
    ]
    assert [(t.uid, t.folder_uid, t.parent_uid) for t in mapped.tasks] == [
        (2, 1, None),
        (3, 1, 2),
        (4, 1, 2),
        (5, 1, None),
        (6, None, None),
    ]
    assert mapped.warnings == []


def test_deeper_outlines_nest_folders() -> None:
    mapped = map_plan(
        plan(
            task(1, 1, "A", summary=True),
            task(2, 2, "B", summary=True),
            task(3, 3, "C", summary=True),
            task(4, 4, "leaf"),
        )
    )
    assert [(f.uid, f.parent_uid) for f in mapped.folders] == [(1, None), (2, 1)]
    assert [(t.uid, t.folder_uid, t.parent_uid) for t in mapped.tasks] == [(3, 2, None), (4, 2, 3)]


def test_dates_constraints_progress_and_work_are_the_files() -> None:
    mapped = map_plan(
        plan(
            task(
                1,
                percent_complete=40,
                work_minutes=16 * 60 + 30,
                actual_start=datetime(2026, 3, 2, 9),
                constraint=ConstraintKind.MUST_START_ON,
                constraint_date=datetime(2026, 3, 2, 8),
                notes="the notes",
            ),
            task(2, milestone=True, finish=datetime(2026, 3, 2, 8), duration_minutes=0),
            task(3, start=None, finish=None, duration_minutes=None),
        )
    )
    first, milestone, unscheduled = mapped.tasks
    assert (first.start, first.finish) == (date(2026, 3, 2), date(2026, 3, 3))
    assert first.constraint == Constraint(ConstraintKind.MUST_START_ON, date(2026, 3, 2))
    assert (first.percent_complete, first.work_hours, first.description) == (40, 16.5, "the notes")
    assert first.actual_start == date(2026, 3, 2)
    assert (milestone.milestone, milestone.start, milestone.finish) == (
        True,
        date(2026, 3, 2),
        date(2026, 3, 2),
    )
    assert (unscheduled.start, unscheduled.finish) == (None, None)
    assert mapped.warnings == []


def test_a_finish_at_midnight_ends_the_day_before() -> None:
    mapped = map_plan(plan(task(1, finish=datetime(2026, 3, 4, 0), duration_minutes=2 * DAY)))
    assert mapped.tasks[0].finish == date(2026, 3, 3)
    assert mapped.warnings == []


def test_weekend_dates_and_other_durations_are_warned() -> None:
    mapped = map_plan(
        plan(
            task(1, name="Sat", start=datetime(2026, 3, 7, 8), finish=datetime(2026, 3, 9, 17)),
            task(2, finish=datetime(2026, 3, 3, 12), duration_minutes=int(1.5 * DAY)),
            task(3, duration_minutes=2 * 1440, duration_elapsed=True),
        )
    )
    saturday, half, elapsed = mapped.tasks
    assert (saturday.start, saturday.finish) == (date(2026, 3, 9), date(2026, 3, 9))
    found = messages(mapped)
    assert "2026-03-07 to 2026-03-09 falls on a day off: here 2026-03-09 to 2026-03-09" in found
    assert any("lasts 1.5 working days in the file: here 2" in m for m in found)
    assert half.finish == date(2026, 3, 3)
    assert elapsed.finish == date(2026, 3, 3)
    assert (
        "it lasts 2 elapsed days in the file: here 2 working days (from 2026-03-02 to 2026-03-03)"
        in found
    )


def test_links_of_every_kind_with_lags_become_whole_working_days() -> None:
    before = task(1, finish=datetime(2026, 3, 5, 17), duration_minutes=4 * DAY)
    mapped = map_plan(
        plan(
            before,
            task(2, predecessors=(FileLink(1, LinkKind.FINISH_TO_START, 2 * DAY),)),
            task(3, predecessors=(FileLink(1, LinkKind.START_TO_START, -DAY),)),
            task(4, predecessors=(FileLink(1, LinkKind.FINISH_TO_FINISH, 50, LagUnit.PERCENT),)),
            task(
                5, predecessors=(FileLink(1, LinkKind.START_TO_FINISH, 7 * 1440, LagUnit.ELAPSED),)
            ),
            task(6, predecessors=(FileLink(1, LinkKind.FINISH_TO_START, DAY / 2),)),
        )
    )
    assert [(k.predecessor_uid, k.successor_uid, k.kind, k.lag_days) for k in mapped.links] == [
        (1, 2, LinkKind.FINISH_TO_START, 2),
        (1, 3, LinkKind.START_TO_START, -1),
        (1, 4, LinkKind.FINISH_TO_FINISH, 2),
        (1, 5, LinkKind.START_TO_FINISH, 5),
        (1, 6, LinkKind.FINISH_TO_START, 1),
    ]
    found = messages(mapped)
    assert "its link from 'T1' lags 50% of 'T1''s duration: here 2 working days" in found
    assert "its link from 'T1' lags 7 elapsed days: here 5 working days" in found
    assert "its link from 'T1' lags 0.5 working days: here 1 working days" in found
    assert len(found) == 3  # Whole working days need no warning.


def test_links_it_cannot_keep_are_warned_never_dropped_in_silence() -> None:
    mapped = map_plan(
        plan(
            task(1, 1, "Phase", summary=True),
            task(2, 2, "Sub", summary=True),
            task(3, 3, "leaf"),
            task(4, 1, "After phase", predecessors=(FileLink(1),)),
            task(5, 1, "Ghost", predecessors=(FileLink(99),)),
            task(6, 1, "Twice", predecessors=(FileLink(4), FileLink(4, LinkKind.START_TO_START))),
        )
    )
    assert [(k.predecessor_uid, k.successor_uid) for k in mapped.links] == [(4, 6)]
    found = messages(mapped)
    assert any("from 'Phase' is not kept: a summary task that became a folder" in m for m in found)
    assert "its link from task UID 99 is not kept: no such task in the file" in found
    assert "its second link from 'After phase' is not kept" in found


def test_a_plan_whose_links_go_round_is_refused_naming_the_cycle() -> None:
    with pytest.raises(PlanCycleError) as refused:
        map_plan(
            plan(
                task(1, predecessors=(FileLink(3),)),
                task(2, predecessors=(FileLink(1),)),
                task(3, predecessors=(FileLink(2),)),
                task(4, predecessors=(FileLink(3),)),
            )
        )
    assert "'T3' → 'T1' → 'T2' → 'T3' (task UIDs 3, 1, 2, 3)" in str(refused.value)
    assert refused.value.field == "file"


def test_a_big_plan_is_checked_for_cycles_in_linear_time() -> None:
    """One back link in a 20,000-task plan with three links to each task: refused at once
    (a search per link would take minutes)."""
    tasks = [task(1)] + [
        task(n, predecessors=tuple(FileLink(p) for p in range(max(1, n - 3), n)))
        for n in range(2, 20_001)
    ]
    tasks[0] = task(1, predecessors=(FileLink(20_000),))
    with pytest.raises(PlanCycleError):
        map_plan(plan(*tasks))


def test_what_cannot_be_kept_of_a_task_is_warned() -> None:
    mapped = map_plan(
        plan(
            task(1, 1, "Phase", summary=True, notes="phase notes",
                 constraint=ConstraintKind.MUST_START_ON, constraint_date=datetime(2026, 3, 2)),
            task(2, 2, "Sub", summary=True),
            task(3, 3, "leaf"),
            task(4, milestone=True, duration_minutes=2 * DAY),
            task(5, start=None, finish=datetime(2026, 3, 3, 17), duration_minutes=None),
            task(6, percent_complete=150),
            task(7, 0, "Stray"),
            task(8, predecessors=(FileLink(8), FileLink(6, lag=20_000 * DAY))),
            task(9, finish=datetime(2026, 2, 27, 17), duration_minutes=None),
            assignments=(FileAssignment(1, 3),),
        )
    )  # fmt: skip
    found = messages(mapped)
    assert (
        "its notes, its constraint (must_start_on), its assignments are not kept: it became a"
        " folder (summary task)"
    ) in found
    assert (
        "it is a milestone lasting 2 working days in the file: here a milestone on 2026-03-02,"
        " lasting none"
    ) in found
    assert "its finish 2026-03-03 without a start is not kept" in found
    assert "its percent complete 150 is not 0 to 100: here 100" in found
    assert "its outline level is 0 (the project's own): here at the top" in found
    assert "its link from itself is not kept" in found
    assert (
        "its link from 'T6' lags 20000 working days, past the 10,000 a lag may be: not kept"
        in found
    )
    assert "its finish 2026-02-27 is before its start: here it ends on 2026-03-02" in found
    assert [t.uid for t in mapped.tasks] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert mapped.links == []


def test_the_project_calendar_is_kept_and_counts_the_durations() -> None:
    calendar = FileCalendar(
        uid=1,
        name="Six days",
        working_weekdays=frozenset(range(6)),
        exceptions=(
            CalendarException(date(2026, 12, 25), date(2026, 12, 27), name="Xmas"),
            CalendarException(date(2026, 12, 20), date(2026, 12, 20), working=True),
            CalendarException(date(2026, 12, 21), date(2026, 12, 21), working=True),  # no-op
            CalendarException(date(1700, 1, 1), date(1700, 1, 1)),  # before 1900: not kept
        ),
    )
    mapped = map_plan(
        plan(
            # Sunday 20th (worked) to Tuesday 29th: 20, 21, 22, 23, 24, 28, 29.
            task(
                1,
                start=datetime(2026, 12, 20, 8),
                finish=datetime(2026, 12, 29, 17),
                duration_minutes=7 * DAY,
            ),
            # Starts on the holiday Friday 25th: here on Monday 28th.
            task(2, start=datetime(2026, 12, 25, 8), finish=datetime(2026, 12, 28, 17)),
            calendar_uid=1,
            calendars=(calendar,),
        )
    )
    assert mapped.calendar.as_dict() == {
        "working_weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"],
        "holidays": ["2026-12-25", "2026-12-26"],  # (Sunday 27th is off anyway)
        "extra_days": ["2026-12-20"],
    }
    first, second = mapped.tasks
    assert (first.start, first.finish) == (date(2026, 12, 20), date(2026, 12, 29))
    assert (second.start, second.finish) == (date(2026, 12, 28), date(2026, 12, 28))
    assert messages(mapped) == [
        "2026-12-25 to 2026-12-28 falls on a day off: here 2026-12-28 to 2026-12-28",
        "it lasts 2 working days in the file: here 1 (the working days from 2026-12-28 to"
        " 2026-12-28)",
    ]


def test_a_calendar_without_working_weekdays_or_with_too_many_exceptions_is_warned() -> None:
    idle = FileCalendar(uid=1, name="Idle", working_weekdays=frozenset())
    mapped = map_plan(plan(task(1), calendar_uid=1, calendars=(idle,)))
    assert mapped.calendar.standard
    assert messages(mapped) == [
        "the project calendar 'Idle' has no working weekday: here Monday to Friday, with its"
        " exceptions"
    ]
    busy = FileCalendar(
        uid=1,
        name="Busy",
        working_weekdays=frozenset(range(7)),
        exceptions=(CalendarException(date(2030, 1, 1), date(2130, 1, 1)),),
    )
    mapped = map_plan(plan(task(1), calendar_uid=1, calendars=(busy,)))
    assert len(mapped.calendar.holidays) == MAX_EXCEPTIONS
    last = mapped.calendar.holidays[-1] + timedelta(days=1)
    assert messages(mapped) == [
        f"the project calendar 'Busy' has more than {MAX_EXCEPTIONS:,} days of exceptions:"
        f" those from {last} on are not kept"
    ]
    assert [w.task_uid for w in mapped.warnings] == [None]


def test_names_assignments_and_odd_tasks() -> None:
    mapped = map_plan(
        plan(
            task(1, name=" ", notes=""),
            task(2, active=False, recurring=True),
            task(3, null=True),
            task(4, actual_finish=datetime(2026, 3, 3, 17)),
            assignments=(FileAssignment(1, 7), FileAssignment(1, 8), FileAssignment(3, 7)),
        )
    )
    assert [t.title for t in mapped.tasks] == ["Task 1", "T2", "T4"]
    assert mapped.assignments == {1: [7, 8]}
    assert mapped.tasks[2].actual_finish is None
    found = messages(mapped)
    assert "it has no name: it is called 'Task 1'" in found
    assert "it is inactive in the file: here it is a plain task" in found
    assert (
        "it is a recurring task whose pattern the file does not hold (MS Project XML holds none:"
        " an MPP file does) or that has no rule here: its occurrences are its subtasks here"
    ) in found
    assert "its actual finish without an actual start is not kept" in found


def test_overlapping_exceptions_that_keep_nothing_are_not_walked_day_by_day() -> None:
    # Fifty working exceptions over every day plans may have, on a calendar working every
    # day: none adds a day (this walked 2.6 million days each, 1.5 s apiece, once).
    everyday = FileCalendar(
        uid=1,
        name="Always",
        working_weekdays=frozenset(range(7)),
        exceptions=tuple(
            CalendarException(date(1800, 1, 1), date(9999, 12, 31), working=True) for _ in range(50)
        ),
    )
    mapped = map_plan(plan(task(1), calendar_uid=1, calendars=(everyday,)))
    assert mapped.calendar.as_dict()["working_weekdays"] == [
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    ]  # fmt: skip
    assert (mapped.calendar.holidays, mapped.calendar.extra_days) == ((), ())
    assert messages(mapped) == []


def test_elapsed_lags_count_the_calendars_working_days_a_week_and_others_count_it() -> None:
    four = FileCalendar(uid=1, name="Four", working_weekdays=frozenset(range(4)))
    link = FileLink(1, LinkKind.FINISH_TO_START, 7 * 1440, LagUnit.ELAPSED)  # a week
    tasks = (task(1), task(2, predecessors=(link,)))
    assert [
        k.lag_days for k in map_plan(plan(*tasks, calendar_uid=1, calendars=(four,))).links
    ] == [4]
    assert [k.lag_days for k in map_plan(plan(*tasks)).links] == [5]
    # Counted by another calendar (the project's own): the days and lags are its
    six = WorkCalendar.of(range(6))
    mapped = map_plan(
        plan(task(1, finish=datetime(2026, 3, 7, 17), duration_minutes=6 * DAY)), counted_by=six
    )
    assert (mapped.tasks[0].start, mapped.tasks[0].finish) == (date(2026, 3, 2), date(2026, 3, 7))
    assert messages(mapped) == []
    assert mapped.calendar.standard  # (the file's own, which it does not take)


def test_an_exported_calendar_of_many_days_reads_back_whole() -> None:
    # As many days as a calendar holds, none next to another: as many exceptions written
    holidays = [date(2030, 1, 7) + timedelta(days=7 * n) for n in range(MAX_EXCEPTIONS - 1)]
    calendar = WorkCalendar.of(range(5), holidays, [date(2030, 1, 5)])
    exported = project_plan("Many", [], [], [], [], calendar)
    read = read_mspdi(write_mspdi(exported))
    mapped = map_plan(read)
    assert mapped.calendar == calendar
    assert messages(mapped) == []


def test_a_recurring_task_with_a_pattern_becomes_a_series_from_its_first_occurrence() -> None:
    weekly = FileRecurrence(Frequency.WEEKLY, date(2026, 3, 2), 1, weekdays=("MO",), count=3)
    mondays = [datetime(2026, 3, 2, 8) + timedelta(weeks=n) for n in range(3)]
    mapped = map_plan(
        plan(
            task(1, 1, "Weekly review", summary=True, recurring=True, recurrence=weekly,
                 start=mondays[0], finish=mondays[2]),
            *(
                task(10 + n, 2, f"Weekly review {n + 1}", start=day, finish=day.replace(hour=17),
                     duration_minutes=DAY)
                for n, day in enumerate(mondays)
            ),
            task(20, 1, "Report", predecessors=(FileLink(10),)),
            assignments=(FileAssignment(1, 7), FileAssignment(10, 7), FileAssignment(11, 8)),
        )
    )  # fmt: skip
    template, second, third, report = mapped.tasks
    # The template: the summary's name, its first occurrence's day, the rule
    assert (template.uid, template.title, template.start, template.finish) == (
        1, "Weekly review", date(2026, 3, 2), date(2026, 3, 2),
    )  # fmt: skip
    # (the rule from the first occurrence's day to the last's: the series is the file's)
    assert template.recurrence == replace(weekly, count=None, until=date(2026, 3, 16))
    assert template.folds == (10, None)
    assert template.parent_uid is None
    assert template.series_uid is None
    # The later occurrences: tasks of the series on their days, not subtasks
    assert [(t.uid, t.start, t.series_uid, t.parent_uid) for t in (second, third)] == [
        (11, date(2026, 3, 9), 1, None), (12, date(2026, 3, 16), 1, None),
    ]  # fmt: skip
    # The first occurrence's people are the template's; a link to or from it is not kept
    # (on the template it could close a cycle the file does not have)
    assert mapped.links == []
    assert report.uid == 20
    assert mapped.assignments == {1: [7], 11: [8]}
    assert messages(mapped) == [
        "its link from 'Weekly review 1' is not kept: it joins the first occurrence of a"
        " recurring task, which is the series' template here"
    ]


def test_a_recurring_task_whose_pattern_is_no_rule_keeps_its_occurrences_as_subtasks() -> None:
    # The 32nd of the month is no rule (the occurrences' days are the file's: not the end)
    broken = FileRecurrence(Frequency.MONTHLY, date(2026, 3, 2), 1, month_days=(32,))
    mapped = map_plan(
        plan(
            task(1, 1, "Daily", summary=True, recurring=True, recurrence=broken),
            task(2, 2, "Daily 1"),
        )
    )
    assert [(t.uid, t.parent_uid, t.series_uid) for t in mapped.tasks] == [
        (1, None, None), (2, 1, None),
    ]  # fmt: skip
    assert [w.task_uid for w in mapped.warnings] == [1]


def test_a_series_occurrences_come_by_day_whatever_the_files_order() -> None:
    weekly = FileRecurrence(Frequency.WEEKLY, date(2026, 3, 2), 1, weekdays=("MO",), count=3)
    days = {10: datetime(2026, 3, 2, 8), 11: datetime(2026, 3, 16, 8), 12: datetime(2026, 3, 9, 8)}
    mapped = map_plan(
        plan(
            task(1, 1, "Weekly", summary=True, recurring=True, recurrence=weekly),
            *(task(uid, 2, start=day, finish=day.replace(hour=17), duration_minutes=DAY)
              for uid, day in days.items()),
        )
    )  # fmt: skip
    assert [(t.uid, t.start) for t in mapped.tasks] == [
        (1, date(2026, 3, 2)), (12, date(2026, 3, 9)), (11, date(2026, 3, 16)),
    ]  # fmt: skip
