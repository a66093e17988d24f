"""MPP and MPT plans through the `msproject` extra: MPXJ, on a real Java runtime through
JPype, reads the file and writes MSPDI, which the one importer reads. Without the extra an
MPP file is refused with what to install; a file MPXJ cannot read is a clear 422.

(`make test` installs the extra and `.ci/run` a headless Java runtime, so these run.)"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest

from commands.msproject.export import ExportFolder, ExportLink, ExportTask, project_plan
from commands.msproject.mpp import available, mpp_to_mspdi
from commands.msproject.mpp_recurrence import file_recurrence, recurrences_of
from commands.msproject.mspdi import read_mspdi, write_mspdi
from commands.msproject.plan_files import OLE2, read_plan_file
from domain.errors import InvalidValueError
from domain.msproject.mapping import map_plan
from domain.msproject.plan import FileRecurrence
from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind
from domain.recurrence import Frequency

SAMPLE = Path(__file__).parents[1] / "data" / "msproject" / "task-links-project2003-mspdi.xml"


def test_this_install_reads_plans_through_mpxj() -> None:
    assert available(), (
        "MPP plans cannot be read: install a Java runtime (apt-get install"
        " default-jre-headless); make test installs the msproject extra"
    )


def test_mpxj_converts_a_plan_to_the_same_mspdi_plan() -> None:
    """MPXJ reads whatever plan it is given (here the sample Project 2003 saved) and
    writes MSPDI: the same tasks and links come out."""
    original = read_mspdi(SAMPLE.read_bytes())
    converted = read_mspdi(mpp_to_mspdi(SAMPLE.read_bytes()))

    def shape(plan: object) -> list[tuple[object, ...]]:
        return [
            (t.uid, t.name, t.outline_level, t.start, t.finish,
             tuple((k.predecessor_uid, k.kind, k.lag, k.lag_unit) for k in t.predecessors))
            for t in plan.tasks  # type: ignore[attr-defined]
            if t.outline_level > 0
        ]  # fmt: skip

    assert len(shape(converted)) == 16
    assert shape(converted) == shape(original)


def test_a_binary_file_mpxj_cannot_read_is_a_clear_problem() -> None:
    with pytest.raises(InvalidValueError) as refused:
        read_plan_file(OLE2 + b"\0" * 2048)
    assert "MPXJ" in str(refused.value)
    assert refused.value.field == "file"


def test_without_the_extra_an_mpp_file_says_what_to_install() -> None:
    """A process where JPype cannot be imported (the extra not installed)."""
    script = (
        "import sys\n"
        "sys.modules['jpype'] = None\n"  # `import jpype` raises ImportError
        "from commands.msproject.mpp import UnsupportedPlanFormatError\n"
        "from commands.msproject.plan_files import OLE2, read_plan_file\n"
        "try:\n"
        "    read_plan_file(OLE2 + bytes(600))\n"
        "except UnsupportedPlanFormatError as error:\n"
        "    print(error)\n"
    )
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert "pip install 'ledgerdesk[msproject]'" in done.stdout
    assert "the msproject extra is not installed" in done.stdout


def test_mpxj_reads_an_exported_project_whole() -> None:
    """A plan as the export writes it (folders as summaries, a parent task, links of every
    kind, constraints, a milestone), read by MPXJ — another reader than ours — and written
    back: the same outline, dates and links come out."""
    folder = ExportFolder("f1", "Phase <1> & more", None)
    day = date(2027, 3, 1)
    tasks = [
        ExportTask(1, "Parent", "f1", None, day, day + timedelta(days=4), 5, False, 20, 40.0,
                   ConstraintKind.AS_SOON_AS_POSSIBLE, None, day, None, ()),
        ExportTask(2, "Child", "f1", 1, day, day + timedelta(days=1), 2, False, 0, None,
                   ConstraintKind.START_NO_EARLIER_THAN, day, None, None, ()),
        ExportTask(3, "Gate", None, None, day + timedelta(days=7), day + timedelta(days=7), 0,
                   True, 0, None, ConstraintKind.MUST_START_ON, day + timedelta(days=7), None,
                   None, ()),
    ]  # fmt: skip
    links = [
        ExportLink(2, 3, LinkKind.FINISH_TO_START, 2),
        ExportLink(1, 3, LinkKind.FINISH_TO_FINISH, -1),
    ]
    written = write_mspdi(project_plan("Export", [folder], tasks, links, []))
    ours, theirs = read_mspdi(written), read_mspdi(mpp_to_mspdi(written))

    def shape(plan: object) -> list[tuple[object, ...]]:
        return [
            (t.name, t.outline_level, t.summary, t.milestone, t.start, t.finish, t.constraint,
             t.constraint_date, tuple((k.predecessor_uid, k.kind, k.lag) for k in t.predecessors))
            for t in plan.tasks  # type: ignore[attr-defined]
            if t.outline_level > 0
        ]  # fmt: skip

    assert [row[0] for row in shape(theirs)] == ["Phase <1> & more", "Parent", "Child", "Gate"]
    assert shape(theirs) == shape(ours)


def _mpxj() -> Any:
    """JPype with the JVM started and MPXJ on its class path (as an MPP import has it)."""
    assert available()
    import jpype

    return jpype


def _pattern(jpype: Any, kind: str, **set_: Any) -> Any:
    """An MPXJ recurring task's pattern, as its MPP reader makes one."""
    project = jpype.JClass("org.mpxj.ProjectFile")()
    task = project.addTask()
    task.setRecurring(True)
    data = task.addRecurringTask()
    data.setRecurrenceType(jpype.JClass("org.mpxj.RecurrenceType").valueOf(kind))
    data.setStartDate(jpype.JClass("java.time.LocalDate").parse("2026-03-02"))
    for name, value in set_.items():
        getattr(data, f"set{name}")(value)
    return data


def test_mpxjs_recurring_patterns_become_rules_where_one_maps() -> None:
    jpype = _mpxj()
    day_of_week = jpype.JClass("java.time.DayOfWeek")
    until = jpype.JClass("java.time.LocalDate").parse("2026-06-30")
    weekly = _pattern(jpype, "WEEKLY", Frequency=jpype.JInt(2), Occurrences=jpype.JInt(4))
    weekly.setWeeklyDay(day_of_week.MONDAY, True)
    weekly.setWeeklyDay(day_of_week.THURSDAY, True)
    cases = [
        (weekly, FileRecurrence(Frequency.WEEKLY, date(2026, 3, 2), 2, ("MO", "TH"), count=4)),
        (
            _pattern(jpype, "DAILY", Frequency=jpype.JInt(3), Occurrences=jpype.JInt(5)),
            FileRecurrence(Frequency.DAILY, date(2026, 3, 2), 3, count=5),
        ),
        (
            _pattern(jpype, "MONTHLY", DayNumber=jpype.JInt(15), UseEndDate=True, FinishDate=until),
            FileRecurrence(
                Frequency.MONTHLY, date(2026, 3, 2), 1, month_days=(15,), until=date(2026, 6, 30)
            ),
        ),
        (
            _pattern(
                jpype,
                "YEARLY",
                DayNumber=jpype.JInt(1),
                MonthNumber=jpype.JInt(2),
                Occurrences=jpype.JInt(3),
            ),
            FileRecurrence(Frequency.YEARLY, date(2027, 2, 1), 1, count=3),
        ),
        # Every working day: Monday to Friday
        (
            _pattern(jpype, "DAILY", WorkingDaysOnly=True, Occurrences=jpype.JInt(10)),
            FileRecurrence(
                Frequency.WEEKLY, date(2026, 3, 2), 1, ("MO", "TU", "WE", "TH", "FR"), count=10
            ),
        ),
        # "The second Tuesday of the month" and "every other working day": no rule here
        (_pattern(jpype, "MONTHLY", Relative=True, DayNumber=jpype.JInt(2)), None),
        (_pattern(jpype, "DAILY", Frequency=jpype.JInt(2), WorkingDaysOnly=True), None),
    ]
    for data, expected in cases:
        assert file_recurrence(data, day_of_week) == expected


def test_a_recurring_task_mpxj_reads_becomes_a_series_through_mspdi() -> None:
    """What an MPP file's recurring task takes: MPXJ's model written as MSPDI (which keeps
    only the flag) with the pattern read apart, then the one mapping."""
    jpype = _mpxj()
    day_of_week = jpype.JClass("java.time.DayOfWeek")
    at = jpype.JClass("java.time.LocalDateTime").parse
    duration, unit = jpype.JClass("org.mpxj.Duration"), jpype.JClass("org.mpxj.TimeUnit")
    project = jpype.JClass("org.mpxj.ProjectFile")()
    summary = project.addTask()
    summary.setName("Weekly review")
    summary.setRecurring(True)
    summary.setSummary(True)
    data = summary.addRecurringTask()
    data.setRecurrenceType(jpype.JClass("org.mpxj.RecurrenceType").WEEKLY)
    data.setWeeklyDay(day_of_week.MONDAY, True)
    data.setOccurrences(jpype.JInt(3))
    data.setStartDate(jpype.JClass("java.time.LocalDate").parse("2026-03-02"))
    for n, day in enumerate(("2026-03-02", "2026-03-09", "2026-03-16"), start=1):
        occurrence = summary.addTask()
        occurrence.setName(f"Weekly review {n}")
        occurrence.setStart(at(f"{day}T08:00"))
        occurrence.setFinish(at(f"{day}T17:00"))
        occurrence.setDuration(duration.getInstance(1, unit.DAYS))
    with TemporaryDirectory() as folder:
        target = str(Path(folder) / "plan.xml")
        jpype.JClass("org.mpxj.mspdi.MSPDIWriter")().write(project, target)
        xml = Path(target).read_bytes()
    patterns = recurrences_of(project, day_of_week)
    plan = read_mspdi(xml).with_recurrences(patterns)
    mapped = map_plan(plan)
    assert [(t.title, t.start, t.series_uid is not None) for t in mapped.tasks] == [
        ("Weekly review", date(2026, 3, 2), False),
        ("Weekly review 2", date(2026, 3, 9), True),
        ("Weekly review 3", date(2026, 3, 16), True),
    ]
    # (the rule runs from the first occurrence's day to the last's: the series is the file's)
    assert mapped.tasks[0].recurrence == FileRecurrence(
        Frequency.WEEKLY, date(2026, 3, 2), 1, ("MO",), until=date(2026, 3, 16)
    )
    assert mapped.warnings == []
    # (MSPDI alone keeps only the flag: the occurrences stay subtasks, with a warning.)
    alone = map_plan(read_mspdi(xml))
    assert [t.parent_uid for t in alone.tasks][1:] == [alone.tasks[0].uid] * 3
    assert len(alone.warnings) == 1
