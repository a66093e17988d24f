"""A recurring task with a pattern (as an MPP file brings one) imported on both backends:
the template keeps the rule from its first occurrence, the later occurrences are the
series' own tasks recorded on it, the series makes none of them again, and the same plan
again adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from commands.msproject.importer import PlanImport, Target
from commands.recurrence import RecurrenceService
from commands.unit_of_work import UnitOfWork
from domain.msproject.plan import FileLink, FilePlan, FileRecurrence, FileTask
from domain.recurrence import Frequency
from ledgerdesk import bootstrap
from projections.users import staff_by_name
from tests.factories import SYSTEM

MONDAY = datetime(2026, 3, 2, 8)


def weekly_review(occurrences: int = 3) -> FilePlan:
    rule = FileRecurrence(Frequency.WEEKLY, MONDAY.date(), 1, ("MO",), count=occurrences)
    days = [MONDAY + timedelta(weeks=n) for n in range(occurrences)]
    summary = FileTask(
        1, 1, "Weekly review", 1, summary=True, recurring=True, recurrence=rule, start=days[0],
        finish=days[-1] + timedelta(hours=9), guid="A-1",
    )  # fmt: skip
    below = [_occurrence(n, day) for n, day in enumerate(days)]
    return FilePlan(name="Reviews", tasks=(FileTask(0, 0, "Reviews", 0, summary=True), summary,
                                           *below))  # fmt: skip


def importer(container: bootstrap.Container) -> Callable[[FilePlan, str, Target], PlanImport]:
    """Import a plan as the system, with the staff directory the route uses."""
    imports, by_name = container.services().plan_imports, staff_by_name(container.views)
    return lambda plan, sha, target: imports.import_plan(plan, sha, target, SYSTEM, by_name)


def _occurrence(n: int, day: datetime) -> FileTask:
    return FileTask(
        10 + n, 2 + n, f"Weekly review {n + 1}", 2, start=day, finish=day + timedelta(hours=9),
        duration_minutes=480, guid=f"A-1{n}",
    )  # fmt: skip


def test_a_recurring_task_with_a_pattern_is_imported_as_a_series(
    container: bootstrap.Container,
) -> None:
    send = importer(container)
    # When the plan is imported
    done = send(weekly_review(), "sha-1", Target(name="Reviews"))
    assert done.warnings == []
    assert done.created["tasks"] == 3
    assert done.created["subtasks"] == 0
    uow = UnitOfWork(container.app)
    template, second, third = (uow.task(n) for n in (1, 2, 3))  # (numbers in file order)
    assert {t.project_id for t in (template, second, third)} == {str(done.project_id)}
    # Then the template holds the rule from its first occurrence, on that day
    assert (template.title, template.start, template.finish) == (
        "Weekly review", "2026-03-02", "2026-03-02",
    )  # fmt: skip
    assert template.recurrence == {
        "frequency": "weekly", "starts": "2026-03-02", "interval": 1, "weekdays": ["MO"],
        "month_days": [], "count": None, "until": "2026-03-16",
    }  # fmt: skip
    # And the later occurrences are the series' tasks on their days, recorded on it
    assert [(t.series_number, t.occurrence_date, t.start) for t in (second, third)] == [
        (template.number, "2026-03-09", "2026-03-09"),
        (template.number, "2026-03-16", "2026-03-16"),
    ]
    assert template.last_occurrence == "2026-03-16"
    assert template.parent is None
    assert second.parent is None
    # And the series makes none of them again, even weeks later
    made = RecurrenceService(container.app).create_due(template.number, date(2026, 4, 30), "t")
    assert made == []
    # And the same plan again adds nothing
    head = container.app.head()
    again = send(weekly_review(), "sha-1", Target(name="Reviews"))
    assert again.created["tasks"] == 0
    assert container.app.head() == head
    # A later version with a fourth occurrence adds it to the series
    later = send(weekly_review(4), "sha-2", Target(project_id=done.project_id))
    assert later.created["tasks"] == 1
    assert later.warnings == []
    fourth = UnitOfWork(container.app).task(4)
    assert (fourth.series_number, fourth.occurrence_date) == (template.number, "2026-03-23")
    assert UnitOfWork(container.app).task(template.number).last_occurrence == "2026-03-23"


def test_the_same_series_sent_again_in_any_form_makes_no_task_twice(
    container: bootstrap.Container,
) -> None:
    send = importer(container)
    done = send(weekly_review(), "sha-1", Target(name="Reviews"))
    into = Target(project_id=done.project_id)
    head = container.app.head()
    # The same plan as another file: nothing written, no import recorded
    again = send(weekly_review(), "sha-2", into)
    assert (again.created["tasks"], again.import_id) == (0, None)
    # The plan as MS Project XML (the flag, no pattern): its first occurrence is the template
    xml = weekly_review()
    flag_only = replace(xml, tasks=tuple(replace(t, recurrence=None) for t in xml.tasks))
    as_xml = send(flag_only, "sha-3", into)
    assert as_xml.created["tasks"] == 0
    # Occurrences MS Project made again (new GUIDs, the same days): not made twice
    regenerated = replace(
        xml, tasks=tuple(replace(t, guid=f"B-{t.uid}") if t.uid >= 10 else t for t in xml.tasks)
    )
    made_again = send(regenerated, "sha-4", into)
    assert made_again.created["tasks"] == 0
    assert [w.message for w in made_again.warnings] == [
        "it is not imported: the series #1 'Weekly review' already has its occurrences up to"
        " 2026-03-16"
    ] * 2
    assert container.app.head() == head


def test_a_monthly_series_on_the_31st_is_the_files_and_the_worker_adds_none(
    container: bootstrap.Container,
) -> None:
    # MS Project's "day 31 of every month": the last day of the shorter months
    days = [datetime(2026, 1, 31, 8), datetime(2026, 2, 27, 8), datetime(2026, 3, 31, 8),
            datetime(2026, 4, 30, 8)]  # fmt: skip
    rule = FileRecurrence(Frequency.MONTHLY, days[0].date(), 1, month_days=(31,), count=4)
    summary = FileTask(1, 1, "Close the books", 1, summary=True, recurring=True,
                       recurrence=rule, start=days[0], finish=days[-1])  # fmt: skip
    below = [_occurrence(n, day) for n, day in enumerate(days)]
    plan = FilePlan(name="Books", tasks=(summary, *below))
    done = importer(container)(plan, "sha-m", Target(name="Books"))
    assert done.created["tasks"] == 4
    template = UnitOfWork(container.app).task(1)
    assert template.recurrence["until"] == "2026-04-30"
    assert template.last_occurrence == "2026-04-30"
    assert RecurrenceService(container.app).create_due(1, date(2027, 12, 31), "t") == []


def _with_links(plan: FilePlan) -> FilePlan:
    """The plan with a task after the first occurrence and one after the second."""
    report = FileTask(30, 30, "Report", 1, start=MONDAY, finish=MONDAY + timedelta(hours=9),
                      predecessors=(FileLink(10),), guid="R-1")  # fmt: skip
    minutes = FileTask(31, 31, "Minutes", 1, start=MONDAY, finish=MONDAY + timedelta(hours=9),
                       predecessors=(FileLink(11),), guid="R-2")  # fmt: skip
    return replace(plan, tasks=(*plan.tasks, report, minutes))


def test_links_and_orders_the_series_keeps_through_other_versions(
    container: bootstrap.Container,
) -> None:
    send = importer(container)
    # The occurrences listed out of day order: imported by day, all of them
    plan = _with_links(weekly_review())
    shuffled = replace(plan, tasks=(*plan.tasks[:2], plan.tasks[3], plan.tasks[4], plan.tasks[2],
                                    *plan.tasks[5:]))  # fmt: skip
    done = send(shuffled, "sha-1", Target(name="Reviews"))
    assert done.created["tasks"] == 5
    template = UnitOfWork(container.app).task(1)
    assert template.last_occurrence == "2026-03-16"
    assert [w.message for w in done.warnings] == [
        "its link from 'Weekly review 1' is not kept: it joins the first occurrence of a"
        " recurring task, which is the series' template here"
    ]
    into = Target(project_id=done.project_id)
    head = container.app.head()
    # The plan as XML (no pattern): nothing added, the link to the first occurrence neither
    flag_only = replace(plan, tasks=tuple(replace(t, recurrence=None) for t in plan.tasks))
    as_xml = send(flag_only, "sha-2", into)
    assert (as_xml.created["tasks"], as_xml.created["links"], as_xml.existing) == (0, 0, 5)
    assert not any("imported before as" in w.message for w in as_xml.warnings)
    # Occurrences made again with new GUIDs, one of them linked: not made, its link not kept
    regenerated = replace(
        plan, tasks=tuple(replace(t, guid=f"B-{t.uid}") if 10 <= t.uid < 30 else t
                          for t in plan.tasks),
    )  # fmt: skip
    made_again = send(regenerated, "sha-3", into)
    assert made_again.created["tasks"] == 0
    assert "its link from 'Weekly review 2' is not kept: 'Weekly review 2' was not imported" in [
        w.message for w in made_again.warnings
    ]
    assert container.app.head() == head


def test_a_plan_imported_as_xml_first_takes_later_occurrences_as_subtasks(
    container: bootstrap.Container,
) -> None:
    send = importer(container)
    xml = weekly_review()
    flag_only = replace(xml, tasks=tuple(replace(t, recurrence=None) for t in xml.tasks))
    done = send(flag_only, "sha-1", Target(name="Reviews"))
    assert (done.created["tasks"], done.created["subtasks"]) == (4, 3)
    # Then the MPP file of a later version, with a fourth occurrence: a subtask too
    later = send(weekly_review(4), "sha-2", Target(project_id=done.project_id))
    assert (later.created["tasks"], later.created["subtasks"]) == (1, 1)
    fourth = UnitOfWork(container.app).task(5)
    assert (fourth.parent, fourth.series_number) == (1, None)
