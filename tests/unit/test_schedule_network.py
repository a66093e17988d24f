"""The passes over working-day offsets agree with the scheduler they replaced, on random
plans with every link kind, lags and leads, every constraint kind, weekend dates,
milestones and as-late-as-possible tasks."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from domain.errors import DependencyCycleError
from domain.planning.calendar import working_day_index
from domain.planning.constraints import ASAP, Constraint, ConstraintKind
from domain.planning.links import Link, LinkKind
from domain.planning.network import Bound, link_offset, span_of, start_bound
from domain.planning.schedule import TaskPlan, critical_path, schedule
from tests.unit.schedule_reference import reference_critical_path, reference_schedule

SAT = date(2024, 6, 8)
MON = date(2024, 6, 10)


def random_plan(seed: int, count: int, links: int) -> tuple[dict[int, TaskPlan], list[Link]]:
    """Tasks numbered sparsely, some undated, starting on any day (weekends too); links
    from a smaller to a larger position (no cycle), some naming unknown numbers."""
    rng = random.Random(seed)
    numbers = rng.sample(range(1, 10 * count), count)
    plans: dict[int, TaskPlan] = {}
    for number in numbers:
        start = None if rng.random() < 0.05 else MON + timedelta(days=rng.randrange(-20, 60))
        kind = rng.choice(list(ConstraintKind)) if rng.random() < 0.4 else None
        on = MON + timedelta(days=rng.randrange(-10, 80))
        constraint = ASAP if kind is None else Constraint(kind, on if kind.needs_date else None)
        plans[number] = TaskPlan(
            number, start, rng.randrange(0, 8), constraint, milestone=rng.random() < 0.1
        )
    made: dict[tuple[int, int], Link] = {}
    for _ in range(links):
        a, b = sorted(rng.sample(range(count), 2))
        before, after = numbers[a], numbers[b]
        if rng.random() < 0.02:
            after = 10 * count + rng.randrange(5)  # not in the plans
        kind = rng.choice(list(LinkKind))
        made[(before, after)] = Link(before, after, kind, rng.randrange(-3, 5))
    return plans, list(made.values())


@pytest.mark.parametrize("seed", range(40))
def test_the_critical_path_equals_the_reference_on_random_plans(seed: int) -> None:
    plans, links = random_plan(seed, count=random.Random(seed).randrange(1, 120), links=150)

    got, want = critical_path(plans, links), reference_critical_path(plans, links)

    assert dict(got.slack) == dict(want.slack)
    assert got.critical == want.critical
    assert got.finish == want.finish
    assert dict(got.schedule) == dict(want.schedule)


@pytest.mark.parametrize("seed", range(40))
def test_the_schedule_equals_the_reference_in_the_same_order(seed: int) -> None:
    plans, links = random_plan(seed, count=random.Random(seed).randrange(1, 120), links=150)
    fixed = set(random.Random(seed).sample(sorted(plans), min(5, len(plans))))

    got, want = schedule(plans, links, fixed), reference_schedule(plans, links, fixed)

    assert list(got.items()) == list(want.items())


def test_a_cycle_is_reported_as_the_reference_reports_it() -> None:
    plans = {n: TaskPlan(n, MON, 2) for n in (3, 7, 9, 12, 20)}
    links = [Link(3, 7), Link(7, 9, LinkKind.START_TO_START), Link(9, 12), Link(12, 7)]
    links += [Link(12, 20), Link(20, 9, LinkKind.FINISH_TO_FINISH)]

    with pytest.raises(DependencyCycleError) as got:
        critical_path(plans, links)
    with pytest.raises(DependencyCycleError) as want:
        reference_critical_path(plans, links)

    assert got.value.cycle == want.value.cycle == (7, 9, 12, 7)


@pytest.mark.parametrize(
    ("kind", "lag", "offset"),
    [
        (LinkKind.FINISH_TO_START, 0, 3 + 1),
        (LinkKind.FINISH_TO_START, -2, 3 + 1 - 2),
        (LinkKind.START_TO_START, 2, 2),
        (LinkKind.FINISH_TO_FINISH, 1, 3 + 1 - 4),
        (LinkKind.START_TO_FINISH, 0, -4),
    ],
)
def test_a_link_is_one_offset_between_the_two_starts(kind: LinkKind, lag: int, offset: int) -> None:
    # A predecessor spanning 3 working days after its start, a successor spanning 4.
    assert link_offset(kind, lag, 3, 4) == offset
    assert link_offset(kind.value, lag, 3, 4) == offset


def test_a_finish_bound_on_a_weekend_is_the_friday_before_less_the_span() -> None:
    friday = working_day_index(SAT - timedelta(days=1))

    assert start_bound(ConstraintKind.MUST_FINISH_ON, SAT, 2) == (Bound.ON, friday - 2)
    assert start_bound(ConstraintKind.START_NO_LATER_THAN, SAT, 2) == (Bound.BEFORE, friday + 1)
    assert start_bound(ConstraintKind.AS_LATE_AS_POSSIBLE, None, 2) == (Bound.LATE, 0)
    assert span_of(None, False) == span_of(5, True) == span_of(1, False) == 0
