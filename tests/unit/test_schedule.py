"""Scheduling rules: working days, links with lags, constraints, cycles, the critical path."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta

import pytest

from domain.errors import (
    ConflictError,
    ConstraintDateError,
    DependencyCycleError,
    InvalidValueError,
    UnknownConstraintError,
    UnknownLinkKindError,
)
from domain.planning.calendar import (
    add_working_days,
    next_working_day,
    previous_working_day,
    working_days_between,
)
from domain.planning.constraints import ASAP, Constraint, ConstraintKind
from domain.planning.links import Link, LinkKind, find_cycle
from domain.planning.schedule import Scheduled, TaskPlan, critical_path, schedule

FS = LinkKind.FINISH_TO_START
SS = LinkKind.START_TO_START
FF = LinkKind.FINISH_TO_FINISH
SF = LinkKind.START_TO_FINISH

# June 2024: Monday 3rd ... Friday 7th, weekend 8th/9th, Monday 10th ...
MON = date(2024, 6, 3)
TUE = date(2024, 6, 4)
WED = date(2024, 6, 5)
THU = date(2024, 6, 6)
FRI = date(2024, 6, 7)
SAT = date(2024, 6, 8)
SUN = date(2024, 6, 9)
NEXT_MON = date(2024, 6, 10)
NEXT_TUE = date(2024, 6, 11)
NEXT_WED = date(2024, 6, 12)
FAR = date(2024, 9, 2)


def task(
    number: int,
    start: date | None = MON,
    days: int = 1,
    constraint: Constraint = ASAP,
    milestone: bool = False,
) -> TaskPlan:
    return TaskPlan(number, start, days, constraint, milestone)


def plans(*tasks: TaskPlan) -> dict[int, TaskPlan]:
    return {t.number: t for t in tasks}


def dates(result: Mapping[int, Scheduled], number: int) -> tuple[date, date]:
    return result[number].start, result[number].finish


# -- calendar ----------------------------------------------------------------------------


def test_a_weekend_start_moves_to_monday_and_a_weekend_finish_back_to_friday() -> None:
    assert [next_working_day(d) for d in (FRI, SAT, SUN)] == [FRI, NEXT_MON, NEXT_MON]
    assert [previous_working_day(d) for d in (SAT, SUN, NEXT_MON)] == [FRI, FRI, NEXT_MON]


def test_adding_working_days_skips_weekends_both_ways() -> None:
    assert add_working_days(THU, 1) == FRI
    assert add_working_days(THU, 2) == NEXT_MON
    assert add_working_days(NEXT_MON, -1) == FRI
    assert add_working_days(NEXT_TUE, -6) == MON
    assert add_working_days(WED, 0) == WED


def test_a_weekend_day_counts_as_the_monday_after_it() -> None:
    assert add_working_days(SAT, 0) == NEXT_MON
    assert add_working_days(SUN, 1) == NEXT_TUE
    assert add_working_days(SAT, -1) == FRI


def test_working_days_between_counts_the_half_open_range() -> None:
    assert working_days_between(MON, FRI) == 4
    assert working_days_between(FRI, NEXT_MON) == 1
    assert working_days_between(SAT, NEXT_MON) == 0
    assert working_days_between(NEXT_MON, MON) == -5


def test_adding_the_days_between_two_dates_lands_on_the_later_one() -> None:
    days = [MON + timedelta(days=i) for i in range(-10, 20)]
    for a in days:
        for b in days:
            assert add_working_days(a, working_days_between(a, b)) == next_working_day(b)


# -- tasks -------------------------------------------------------------------------------


def test_a_task_finishes_duration_minus_one_working_days_after_it_starts() -> None:
    result = schedule(plans(task(1, THU, 1), task(2, THU, 3), task(3, THU, 0, milestone=True)), [])

    assert dates(result, 1) == (THU, THU)
    assert dates(result, 2) == (THU, NEXT_MON)
    assert dates(result, 3) == (THU, THU)


def test_a_task_planned_to_start_on_a_weekend_starts_on_monday() -> None:
    result = schedule(plans(task(1, SUN, 2)), [])

    assert dates(result, 1) == (NEXT_MON, NEXT_TUE)


def test_a_milestone_finishes_on_its_start_whatever_its_duration() -> None:
    result = schedule(plans(task(1, WED, 5, milestone=True)), [])

    assert dates(result, 1) == (WED, WED)


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        task(1, MON, -1)


# -- links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "lag", "start", "finish"),
    [
        # predecessor: Mon 3rd to Wed 5th; successor: two days
        (FS, 0, THU, FRI),
        (FS, 2, NEXT_MON, NEXT_TUE),
        (FS, -1, WED, THU),
        (SS, 0, MON, TUE),
        (SS, 2, WED, THU),
        (SS, -1, date(2024, 5, 31), MON),
        (FF, 0, TUE, WED),
        (FF, 2, THU, FRI),
        (FF, -1, MON, TUE),
        (SF, 0, date(2024, 5, 31), MON),
        (SF, 2, TUE, WED),
        (SF, -1, date(2024, 5, 30), date(2024, 5, 31)),
    ],
)
def test_each_link_kind_places_the_successor_with_its_lag(
    kind: LinkKind, lag: int, start: date, finish: date
) -> None:
    given = plans(task(1, MON, 3), task(2, FAR, 2))

    result = schedule(given, [Link(1, 2, kind, lag)])

    assert dates(result, 2) == (start, finish)
    assert not result[2].violated


def test_the_latest_of_several_predecessors_drives_the_start() -> None:
    given = plans(task(1, MON, 1), task(2, MON, 3), task(3, FAR, 1))

    result = schedule(given, [Link(1, 3), Link(2, 3)])

    assert dates(result, 3) == (THU, THU)


def test_a_successor_starts_the_working_day_after_a_milestone() -> None:
    given = plans(task(1, FRI, 0, milestone=True), task(2, FAR, 1))

    result = schedule(given, [Link(1, 2)])

    assert dates(result, 2) == (NEXT_MON, NEXT_MON)


def test_a_milestone_after_a_task_falls_on_the_next_working_day() -> None:
    given = plans(task(1, WED, 3), task(2, FAR, 0, milestone=True))

    result = schedule(given, [Link(1, 2)])

    assert dates(result, 2) == (NEXT_MON, NEXT_MON)


def test_a_lag_runs_over_the_weekend_in_working_days() -> None:
    given = plans(task(1, THU, 1), task(2, FAR, 1))

    result = schedule(given, [Link(1, 2, FS, 3)])

    assert dates(result, 2) == (NEXT_WED, NEXT_WED)


def test_a_chain_is_scheduled_whatever_order_the_plans_come_in() -> None:
    given = plans(task(3, FAR, 1), task(2, FAR, 1), task(1, MON, 1))

    result = schedule(given, [Link(2, 3), Link(1, 2)])

    assert list(result) == [1, 2, 3]
    assert dates(result, 3) == (WED, WED)


def test_an_unknown_link_kind_is_refused() -> None:
    assert LinkKind.parse("start_to_start") is SS
    with pytest.raises(UnknownLinkKindError):
        LinkKind.parse("finish_to_anything")


# -- constraints -------------------------------------------------------------------------


def test_constraints_parse_and_refuse_a_missing_or_needless_date() -> None:
    assert Constraint.parse("must_start_on", MON) == Constraint(ConstraintKind.MUST_START_ON, MON)
    assert Constraint.parse("as_late_as_possible").on is None
    with pytest.raises(ConstraintDateError, match="needs a date"):
        Constraint.parse("finish_no_later_than", None)
    with pytest.raises(ConstraintDateError, match="takes no date"):
        Constraint.parse("as_soon_as_possible", MON)
    with pytest.raises(UnknownConstraintError):
        Constraint.parse("whenever", None)


def test_constraint_errors_are_invalid_values_naming_their_field() -> None:
    with pytest.raises(InvalidValueError) as missing:
        Constraint(ConstraintKind.MUST_FINISH_ON)
    with pytest.raises(InvalidValueError) as unknown:
        Constraint.parse("soonish")

    assert missing.value.field == "constraint_date"
    assert unknown.value.field == "constraint"


def constrained(kind: ConstraintKind, on: date | None) -> tuple[date, date, bool]:
    """Task 2 (two days) after task 1 (Mon to Wed), so its links alone give Thu to Fri."""
    given = plans(task(1, MON, 3), task(2, FAR, 2, Constraint(kind, on)))
    result = schedule(given, [Link(1, 2)])
    return result[2].start, result[2].finish, result[2].violated


@pytest.mark.parametrize(
    ("kind", "on", "expected"),
    [
        (ConstraintKind.AS_SOON_AS_POSSIBLE, None, (THU, FRI, False)),
        (ConstraintKind.START_NO_EARLIER_THAN, NEXT_MON, (NEXT_MON, NEXT_TUE, False)),
        (ConstraintKind.START_NO_EARLIER_THAN, TUE, (THU, FRI, False)),
        (ConstraintKind.START_NO_EARLIER_THAN, SAT, (NEXT_MON, NEXT_TUE, False)),
        (ConstraintKind.MUST_START_ON, NEXT_MON, (NEXT_MON, NEXT_TUE, False)),
        (ConstraintKind.MUST_START_ON, THU, (THU, FRI, False)),
        (ConstraintKind.MUST_START_ON, TUE, (TUE, WED, True)),
        (ConstraintKind.FINISH_NO_EARLIER_THAN, NEXT_TUE, (NEXT_MON, NEXT_TUE, False)),
        (ConstraintKind.FINISH_NO_EARLIER_THAN, WED, (THU, FRI, False)),
        (ConstraintKind.MUST_FINISH_ON, NEXT_WED, (NEXT_TUE, NEXT_WED, False)),
        (ConstraintKind.MUST_FINISH_ON, SUN, (THU, FRI, False)),
        (ConstraintKind.MUST_FINISH_ON, THU, (WED, THU, True)),
        (ConstraintKind.START_NO_LATER_THAN, FRI, (THU, FRI, False)),
        (ConstraintKind.START_NO_LATER_THAN, THU, (THU, FRI, False)),
        (ConstraintKind.START_NO_LATER_THAN, WED, (THU, FRI, True)),
        (ConstraintKind.FINISH_NO_LATER_THAN, SAT, (THU, FRI, False)),
        (ConstraintKind.FINISH_NO_LATER_THAN, THU, (THU, FRI, True)),
    ],
)
def test_each_constraint_kind_places_a_task_and_flags_a_violation(
    kind: ConstraintKind, on: date | None, expected: tuple[date, date, bool]
) -> None:
    assert constrained(kind, on) == expected


@pytest.mark.parametrize(
    ("kind", "on", "expected"),
    [
        (ConstraintKind.AS_SOON_AS_POSSIBLE, None, (WED, THU, False)),
        (ConstraintKind.START_NO_EARLIER_THAN, TUE, (WED, THU, False)),
        (ConstraintKind.START_NO_EARLIER_THAN, FRI, (FRI, NEXT_MON, False)),
        (ConstraintKind.MUST_START_ON, MON, (MON, TUE, False)),
        (ConstraintKind.FINISH_NO_EARLIER_THAN, NEXT_TUE, (NEXT_MON, NEXT_TUE, False)),
        (ConstraintKind.MUST_FINISH_ON, TUE, (MON, TUE, False)),
        (ConstraintKind.START_NO_LATER_THAN, TUE, (WED, THU, True)),
        (ConstraintKind.FINISH_NO_LATER_THAN, THU, (WED, THU, False)),
    ],
)
def test_without_predecessors_a_constraint_works_from_the_tasks_own_start(
    kind: ConstraintKind, on: date | None, expected: tuple[date, date, bool]
) -> None:
    result = schedule(plans(task(1, WED, 2, Constraint(kind, on))), [])

    assert (result[1].start, result[1].finish, result[1].violated) == expected


def test_a_pinned_task_drives_its_successors_even_when_violated() -> None:
    pinned = Constraint(ConstraintKind.MUST_START_ON, TUE)
    given = plans(task(1, MON, 3), task(2, FAR, 2, pinned), task(3, FAR, 1))

    result = schedule(given, [Link(1, 2), Link(2, 3)])

    assert result[2].violated
    assert dates(result, 3) == (THU, THU)


def test_as_late_as_possible_moves_up_against_its_successor() -> None:
    late = Constraint(ConstraintKind.AS_LATE_AS_POSSIBLE)
    given = plans(task(1, MON, 5), task(2, MON, 1, late), task(3, FAR, 1))

    result = schedule(given, [Link(1, 3), Link(2, 3)])

    assert dates(result, 2) == (FRI, FRI)
    assert dates(result, 3) == (NEXT_MON, NEXT_MON)


def test_as_late_as_possible_without_successors_keeps_its_dates() -> None:
    # "As late as" the latest finish of the tasks given would depend on which part of a
    # project is being rescheduled; without successors, the task stays where it is.
    late = Constraint(ConstraintKind.AS_LATE_AS_POSSIBLE)
    given = plans(task(1, MON, 8), task(2, MON, 2, late))

    result = schedule(given, [])

    assert dates(result, 2) == (MON, TUE)
    assert dates(result, 1) == (MON, NEXT_WED)
    alone = schedule(plans(task(2, MON, 2, late)), [])
    assert dates(alone, 2) == dates(result, 2)


def test_as_late_as_possible_never_moves_a_successor() -> None:
    late = Constraint(ConstraintKind.AS_LATE_AS_POSSIBLE)
    # 1 -> 2 -> 3 is the long path; 4 (late) -> 5 -> 3 has slack, but 5 keeps its start.
    given = plans(
        task(1, MON, 5), task(2, FAR, 3), task(3, FAR, 1), task(4, MON, 1, late), task(5, MON, 1)
    )

    result = schedule(given, [Link(1, 2), Link(2, 3), Link(4, 5), Link(5, 3)])

    assert dates(result, 5) == (TUE, TUE)
    assert dates(result, 4) == (MON, MON)


def test_a_chain_of_late_tasks_packs_against_the_first_task_after_it() -> None:
    late = Constraint(ConstraintKind.AS_LATE_AS_POSSIBLE)
    given = plans(task(1, MON, 1, late), task(2, MON, 1, late), task(3, MON, 5), task(4, FAR, 1))

    result = schedule(given, [Link(1, 2), Link(2, 4), Link(3, 4)])

    assert dates(result, 1) == (THU, THU)
    assert dates(result, 2) == (FRI, FRI)
    assert dates(result, 4) == (NEXT_MON, NEXT_MON)


# -- fixed and unscheduled tasks ---------------------------------------------------------


def test_fixed_tasks_keep_their_dates_and_drive_the_rest() -> None:
    given = plans(task(1, MON, 5), task(2, TUE, 1), task(3, MON, 1))
    links = [Link(1, 2), Link(2, 3)]

    result = schedule(given, links, fixed={2})

    assert dates(result, 2) == (TUE, TUE)
    assert dates(result, 3) == (WED, WED)


def test_fixed_tasks_ignore_their_own_constraint() -> None:
    pinned = Constraint(ConstraintKind.MUST_START_ON, FRI)

    result = schedule(plans(task(1, MON, 1, pinned)), [], fixed=[1])

    assert (result[1].start, result[1].violated) == (MON, False)


def test_links_from_and_to_unscheduled_tasks_are_ignored() -> None:
    given = plans(task(1, None, 5), task(2, WED, 1), task(3, None, 1), task(4, FAR, 1))
    links = [Link(1, 2), Link(2, 3), Link(3, 4), Link(2, 99)]

    result = schedule(given, links)

    assert set(result) == {2, 4}
    assert dates(result, 2) == (WED, WED)
    assert dates(result, 4) == (FAR, FAR)


def test_nothing_to_schedule_gives_an_empty_schedule() -> None:
    assert schedule({}, []) == {}
    assert critical_path(plans(task(1, None)), []).critical == frozenset()


# -- cycles ------------------------------------------------------------------------------


def test_a_self_link_is_a_cycle() -> None:
    assert find_cycle([], Link(4, 4)) == [4, 4]


def test_linking_back_to_a_predecessor_is_a_cycle() -> None:
    assert find_cycle([Link(3, 5)], Link(5, 3)) == [3, 5, 3]


def test_a_long_cycle_is_reported_along_its_links() -> None:
    links = [Link(n, n + 1, SS) for n in range(1, 5)]

    assert find_cycle(links, Link(5, 1, FF)) == [1, 2, 3, 4, 5, 1]


def test_the_shortest_cycle_is_reported_smaller_numbers_first() -> None:
    links = [Link(1, 2), Link(1, 3), Link(2, 4), Link(3, 4), Link(1, 4)]

    assert find_cycle(links, Link(4, 1)) == [1, 4, 1]
    assert find_cycle(links[:4], Link(4, 1)) == [1, 2, 4, 1]
    assert find_cycle(reversed(links[:4]), Link(4, 1)) == [1, 2, 4, 1]


def test_a_diamond_has_no_cycle() -> None:
    links = [Link(1, 2), Link(1, 3), Link(2, 4), Link(3, 4)]

    assert find_cycle(links, Link(1, 4)) is None
    assert find_cycle(links, Link(2, 3)) is None
    assert find_cycle(links, Link(4, 5)) is None


def test_a_cycle_error_names_the_items_and_is_a_conflict() -> None:
    error = DependencyCycleError([3, 5, 3])

    assert str(error) == "#3 → #5 → #3 would be a cycle"
    assert error.cycle == (3, 5, 3)
    assert isinstance(error, ConflictError)


def test_scheduling_links_that_hold_a_cycle_raises_with_the_cycle() -> None:
    given = plans(task(1), task(2), task(3), task(4))
    links = [Link(1, 2), Link(2, 3), Link(3, 4), Link(4, 2)]

    with pytest.raises(DependencyCycleError) as raised:
        schedule(given, links)

    assert raised.value.cycle == (2, 3, 4, 2)


def test_a_cycle_through_an_unscheduled_task_does_not_stop_scheduling() -> None:
    given = plans(task(1), task(2, None))

    assert set(schedule(given, [Link(1, 2), Link(2, 1)])) == {1}


# -- critical path -----------------------------------------------------------------------


def diamond() -> dict[int, TaskPlan]:
    """1 (3 days) -> 2 (2 days) and 3 (5 days) -> 4 (1 day), from Monday 3rd."""
    return plans(task(1, MON, 3), task(2, FAR, 2), task(3, FAR, 5), task(4, FAR, 1))


DIAMOND = [Link(1, 2), Link(1, 3), Link(2, 4), Link(3, 4)]


def test_the_long_branch_of_a_diamond_is_critical_and_the_short_one_has_slack() -> None:
    path = critical_path(diamond(), DIAMOND)

    assert path.critical == {1, 3, 4}
    assert dict(path.slack) == {1: 0, 2: 3, 3: 0, 4: 0}
    assert path.finish == date(2024, 6, 13)
    assert dates(path.schedule, 2) == (THU, FRI)


def test_lags_count_in_the_backward_pass() -> None:
    links = [Link(1, 2), Link(1, 3), Link(2, 4, FS, 2), Link(3, 4)]

    path = critical_path(diamond(), links)

    assert dict(path.slack) == {1: 0, 2: 1, 3: 0, 4: 0}


@pytest.mark.parametrize(
    ("kind", "lag", "slack"),
    [
        (FS, 0, 3),
        (FS, 2, 1),
        (FS, 4, -1),
        (SS, 0, 5),
        (SS, -1, 6),
        (FF, 0, 5),
        (FF, 2, 3),
        (SF, 0, 6),
        (SF, 3, 3),
    ],
)
def test_every_link_kind_bounds_the_late_dates(kind: LinkKind, lag: int, slack: int) -> None:
    # 1 (Mon-Tue) -> 2 (pinned to Mon 10th-Tue 11th) by the link under test; 3 sets the finish.
    pinned = Constraint(ConstraintKind.MUST_START_ON, NEXT_MON)
    given = plans(task(1, MON, 2), task(2, FAR, 2, pinned), task(3, MON, 10))

    path = critical_path(given, [Link(1, 2, kind, lag)])

    assert path.slack[1] == slack
    assert path.slack[3] == 0


def test_a_missed_deadline_gives_negative_slack_up_the_chain() -> None:
    deadline = Constraint(ConstraintKind.FINISH_NO_LATER_THAN, NEXT_TUE)
    given = diamond() | {4: task(4, FAR, 1, deadline)}

    path = critical_path(given, DIAMOND)

    assert path.schedule[4].violated
    assert dict(path.slack) == {1: -2, 2: 1, 3: -2, 4: -2}
    assert path.critical == {1, 3, 4}


def test_a_pinned_task_has_no_slack() -> None:
    pinned = Constraint(ConstraintKind.MUST_START_ON, FRI)
    given = plans(task(1, MON, 10), task(2, MON, 1, pinned))

    path = critical_path(given, [])

    assert path.slack[2] == 0
    assert 2 in path.critical


# -- size --------------------------------------------------------------------------------


def test_a_chain_of_two_thousand_tasks_runs_end_to_end() -> None:
    count = 2000
    given = plans(*(task(n, MON, 3) for n in range(count)))
    links = [Link(n, n + 1) for n in range(count - 1)]

    result = schedule(given, links)
    path = critical_path(given, links)

    for link in links:
        assert result[link.successor].start == add_working_days(result[link.predecessor].finish, 1)
    assert result[count - 1].finish == add_working_days(MON, 3 * count - 1)
    assert path.critical == set(range(count))
    assert find_cycle(links, Link(count - 1, 0)) == [*range(count), 0]


def test_a_random_network_of_two_thousand_tasks_honours_every_link() -> None:
    rng = random.Random(20240603)
    count = 2000
    given = plans(
        *(task(n, MON + timedelta(days=rng.randrange(30)), rng.randrange(5)) for n in range(count))
    )
    links = []
    for _ in range(2000):
        a, b = sorted(rng.sample(range(count), 2))
        links.append(Link(a, b, rng.choice(list(LinkKind)), rng.randrange(-3, 4)))

    result = schedule(given, links)
    path = critical_path(given, links)

    for link in links:
        before, after = result[link.predecessor], result[link.successor]
        if link.kind is FS:
            assert after.start >= add_working_days(before.finish, 1 + link.lag_days)
        elif link.kind is SS:
            assert after.start >= add_working_days(before.start, link.lag_days)
        elif link.kind is FF:
            assert after.finish >= add_working_days(before.finish, link.lag_days)
        else:
            assert after.finish >= add_working_days(before.start, link.lag_days)
    assert path.schedule == result
    assert min(path.slack.values()) == 0
    assert path.finish == max(s.finish for s in result.values())
    assert find_cycle(links, Link(count, count + 1)) is None
