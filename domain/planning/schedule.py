"""Task scheduling: the forward pass, as-late-as-possible moves and the critical path.

Pure and standard library only. Dates become working-day indexes of the project's calendar
(`domain.planning.calendar`: Monday to Friday with no holidays unless the project set its own)
before any arithmetic, so a day off can never be a start or a finish and every pass is a
walk over tasks and links in a topological order kept deterministic by a heap:
O((V + E) log V), no recursion. The critical path needs no such order: one forward and one
backward pass in any topological order, O(V + E) (`domain.planning.network`, which the Gantt
view also runs over offsets it stored).

Semantics, in working days, for a task starting on S with duration d:
- finish = S + (d - 1); a milestone (or a duration of 0) finishes on its start day.
- A start on a day off moves to the working day after; a finish on one back to the one before.
  Constraint dates follow the same rule: start-kind dates forward, finish-kind dates back.
- Links, with lag L (negative lag is lead):
  finish_to_start  successor start  >= predecessor finish + 1 + L (a milestone too: the
                   successor starts the working day after the milestone's day)
  start_to_start   successor start  >= predecessor start + L
  finish_to_finish successor finish >= predecessor finish + L
  start_to_finish  successor finish >= predecessor start + L (finishing on the day the
                   predecessor starts is allowed)
- Tasks without a start are unscheduled: links from or to them are ignored, as are links
  naming numbers not in the plans.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from domain.errors import InvalidValueError
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import ASAP, Constraint
from domain.planning.links import Link
from domain.planning.network import Bound, Passes, link_offset, passes, span_of, start_bound

# -- values ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskPlan:
    """What the scheduler needs of a task; `start` None means unscheduled."""

    number: int
    start: date | None
    duration_days: int
    constraint: Constraint = ASAP
    milestone: bool = False

    def __post_init__(self) -> None:
        if self.duration_days < 0:
            raise InvalidValueError("duration_days", "duration_days must not be negative")

    @property
    def span(self) -> int:
        """Working days from start to finish: 0 for a milestone or a duration of 0."""
        return span_of(self.duration_days, self.milestone)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """Where a task lands; `violated` when its constraint could not be honoured."""

    number: int
    start: date
    finish: date
    violated: bool = False


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """The schedule, each task's total slack in working days, and the critical tasks."""

    schedule: Mapping[int, Scheduled]
    slack: Mapping[int, int]
    critical: frozenset[int]
    finish: date | None


# -- scheduling --------------------------------------------------------------------------


def schedule(
    plans: Mapping[int, TaskPlan],
    links: Iterable[Link],
    fixed: Collection[int] = (),
    calendar: WorkCalendar = STANDARD,
) -> dict[int, Scheduled]:
    """Every scheduled task's dates, in topological order (ties by number).

    A forward pass: each task starts as its links and constraint allow (see
    `domain.planning.network.passes`); then tasks as late as possible move as late as they
    can without moving any successor or the latest finish. Numbers in `fixed` keep their
    own dates. Raises DependencyCycleError if the links hold a cycle.
    """
    network = _network(plans, links, frozenset(fixed), calendar)
    done = network.run(backward=False, by_number=True)
    return {network.numbers[i]: network.scheduled(done, i) for i in done.order}


def critical_path(
    plans: Mapping[int, TaskPlan], links: Iterable[Link], calendar: WorkCalendar = STANDARD
) -> CriticalPath:
    """Total slack per scheduled task, from a backward pass off the latest finish.

    A task's late start is bounded by every outgoing link (lags honoured), by the latest
    finish, and by its own constraint: must-start/finish-on pins it, no-later-than caps it.
    Slack is late start minus scheduled start; a task is critical when its slack is <= 0
    (negative slack means a constraint or a successor's pinned date is already missed).
    One forward and one backward pass over working-day offsets: O(V + E).
    """
    network = _network(plans, links, frozenset(), calendar)
    done = network.run(backward=True, by_number=False)
    if done.end is None:
        return CriticalPath({}, {}, frozenset(), None)
    numbers = network.numbers
    slack = {numbers[i]: done.late[i] - done.start[i] for i in done.order}
    critical = frozenset(number for number, days in slack.items() if days <= 0)
    schedule = {numbers[i]: network.scheduled(done, i) for i in done.order}
    return CriticalPath(schedule, slack, critical, calendar.at(done.end))


@dataclass(slots=True)
class _Network:
    """The scheduled tasks by number, as working-day offsets, and the links between them."""

    numbers: list[int]
    starts: list[int]
    spans: list[int]
    bounds: list[int]
    bound_days: list[int]
    links: list[tuple[int, int, int]]
    calendar: WorkCalendar

    def run(self, *, backward: bool, by_number: bool) -> Passes:
        return passes(
            self.numbers,
            self.starts,
            self.spans,
            self.bounds,
            self.bound_days,
            self.links,
            backward=backward,
            by_position=by_number,
        )

    def scheduled(self, done: Passes, i: int) -> Scheduled:
        start = done.start[i]
        return Scheduled(
            self.numbers[i],
            self.calendar.at(start),
            self.calendar.at(start + self.spans[i]),
            done.violated[i],
        )


def _network(
    plans: Mapping[int, TaskPlan],
    links: Iterable[Link],
    fixed: frozenset[int],
    calendar: WorkCalendar,
) -> _Network:
    """Positions by number (so the smallest ready position is the smallest number);
    links from or to unscheduled or unknown tasks are left out."""
    numbers = sorted(number for number, plan in plans.items() if plan.start is not None)
    at = {number: i for i, number in enumerate(numbers)}
    network = _Network(numbers, [], [], [], [], [], calendar)
    for number in numbers:
        plan = plans[number]
        assert plan.start is not None
        bound, day = start_bound(plan.constraint.kind, plan.constraint.on, plan.span, calendar)
        network.starts.append(calendar.index(plan.start))
        network.spans.append(plan.span)
        network.bounds.append(Bound.KEPT if number in fixed else bound)
        network.bound_days.append(day)
    for link in links:
        before, after = at.get(link.predecessor), at.get(link.successor)
        if before is not None and after is not None:
            spans = network.spans[before], network.spans[after]
            offset = link_offset(link.kind, link.lag_days, *spans)
            network.links.append((before, after, offset))
    return network
