"""The scheduler as it was before the passes over working-day offsets
(`domain.planning.network`): a heap-ordered walk over `Link` objects and `_Bar`s with the
link arithmetic per kind. Kept as the reference the linear-time passes must agree with.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from domain.errors import DependencyCycleError
from domain.planning.calendar import previous_working_day, working_day_at, working_day_index
from domain.planning.constraints import Constraint, ConstraintKind
from domain.planning.links import Link, LinkKind
from domain.planning.schedule import CriticalPath, Scheduled, TaskPlan

_ALAP = ConstraintKind.AS_LATE_AS_POSSIBLE


@dataclass(slots=True)
class _Bar:
    start: int
    span: int
    violated: bool = False

    @property
    def finish(self) -> int:
        return self.start + self.span


@dataclass(slots=True)
class _Network:
    """The scheduled tasks in topological order and the links between them."""

    order: list[int]
    incoming: dict[int, list[Link]]
    outgoing: dict[int, list[Link]]


def reference_schedule(
    plans: Mapping[int, TaskPlan], links: Iterable[Link], fixed: Collection[int] = ()
) -> dict[int, Scheduled]:
    """Every scheduled task's dates, in topological order (ties by number).

    A forward pass: each task starts as its links and constraint allow (see `_constrain`);
    then tasks as late as possible move as late as they can without moving any successor or
    the latest finish. Numbers in `fixed` keep their own dates. Raises DependencyCycleError
    if the links hold a cycle.
    """
    network = _network(plans, links)
    bars = _forward(plans, network, frozenset(fixed))
    return _results(bars)


def reference_critical_path(plans: Mapping[int, TaskPlan], links: Iterable[Link]) -> CriticalPath:
    """Total slack per scheduled task, from a backward pass off the latest finish.

    A task's late start is bounded by every outgoing link (lags honoured), by the latest
    finish, and by its own constraint: must-start/finish-on pins it, no-later-than caps it.
    Slack is late start minus scheduled start; a task is critical when its slack is <= 0
    (negative slack means a constraint or a successor's pinned date is already missed).
    """
    network = _network(plans, links)
    bars = _forward(plans, network, frozenset())
    if not bars:
        return CriticalPath({}, {}, frozenset(), None)
    end = max(bar.finish for bar in bars.values())
    late: dict[int, _Bar] = {}
    for number in reversed(network.order):
        bar = bars[number]
        latest = _latest_allowed(network.outgoing[number], late, bar.span, end)
        deadline = _deadline(plans[number].constraint, bar)
        late[number] = _Bar(latest if deadline is None else min(latest, deadline), bar.span)
    slack = {number: late[number].start - bars[number].start for number in network.order}
    critical = frozenset(number for number, days in slack.items() if days <= 0)
    return CriticalPath(_results(bars), slack, critical, working_day_at(end))


def _network(plans: Mapping[int, TaskPlan], links: Iterable[Link]) -> _Network:
    numbers = [number for number, plan in plans.items() if plan.start is not None]
    incoming: dict[int, list[Link]] = {number: [] for number in numbers}
    outgoing: dict[int, list[Link]] = {number: [] for number in numbers}
    for link in links:
        if link.predecessor in outgoing and link.successor in incoming:
            outgoing[link.predecessor].append(link)
            incoming[link.successor].append(link)
    waiting = {number: len(incoming[number]) for number in numbers}
    ready = [number for number, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        number = heapq.heappop(ready)
        order.append(number)
        for link in outgoing[number]:
            waiting[link.successor] -= 1
            if waiting[link.successor] == 0:
                heapq.heappush(ready, link.successor)
    if len(order) < len(numbers):
        raise DependencyCycleError(_stuck_cycle(waiting, incoming))
    return _Network(order, incoming, outgoing)


def _stuck_cycle(waiting: Mapping[int, int], incoming: Mapping[int, list[Link]]) -> list[int]:
    """A cycle among the tasks a topological sort could not reach, read along the links
    from its smallest number.

    Every such task waits on another such task, so walking back from one must repeat.
    """
    stuck = {number for number, count in waiting.items() if count > 0}
    position: dict[int, int] = {}
    walk: list[int] = []
    number = min(stuck)
    while number not in position:
        position[number] = len(walk)
        walk.append(number)
        number = min(link.predecessor for link in incoming[number] if link.predecessor in stuck)
    cycle = walk[position[number] :][::-1]
    first = cycle.index(min(cycle))
    cycle = cycle[first:] + cycle[:first]
    return [*cycle, cycle[0]]


def _forward(
    plans: Mapping[int, TaskPlan], network: _Network, fixed: frozenset[int]
) -> dict[int, _Bar]:
    bars: dict[int, _Bar] = {}
    for number in network.order:
        plan = plans[number]
        assert plan.start is not None  # the network holds scheduled tasks only
        own = working_day_index(plan.start)
        if number in fixed:
            bars[number] = _Bar(own, plan.span)
            continue
        earliest = max(
            (
                _earliest_start(link, bars[link.predecessor], plan.span)
                for link in network.incoming[number]
            ),
            default=None,
        )
        bars[number] = _constrain(plan.constraint, own, earliest, plan.span)
    _move_late(plans, network, fixed, bars)
    return bars


def _finish_index(day: date) -> int:
    """The index of the working day a finish on `day` means (a weekend: the Friday before)."""
    return working_day_index(previous_working_day(day))


def _constrain(constraint: Constraint, own: int, earliest: int | None, span: int) -> _Bar:
    """Where the constraint puts a task the links allow to start on `earliest`.

    Without predecessors (`earliest` None) the task's own start stands in for it, except
    that must-start/finish-on pin the date whatever the own start was.
    """
    kind, on = constraint.kind, constraint.on
    start = own if earliest is None else earliest
    if on is None:  # as soon / as late as possible; the late move comes after the pass
        return _Bar(start, span)
    if kind is ConstraintKind.START_NO_EARLIER_THAN:
        return _Bar(max(start, working_day_index(on)), span)
    if kind is ConstraintKind.FINISH_NO_EARLIER_THAN:
        return _Bar(max(start, _finish_index(on) - span), span)
    if kind is ConstraintKind.MUST_START_ON:
        pinned = working_day_index(on)
        return _Bar(pinned, span, earliest is not None and earliest > pinned)
    if kind is ConstraintKind.MUST_FINISH_ON:
        pinned = _finish_index(on) - span
        return _Bar(pinned, span, earliest is not None and earliest > pinned)
    if kind is ConstraintKind.START_NO_LATER_THAN:
        return _Bar(start, span, start > working_day_index(on))
    return _Bar(start, span, start + span > _finish_index(on))  # finish no later than


def _move_late(
    plans: Mapping[int, TaskPlan], network: _Network, fixed: frozenset[int], bars: dict[int, _Bar]
) -> None:
    """Move as-late-as-possible tasks to the latest start that moves no successor.

    Successors come first (reverse topological order), so a chain of such tasks packs
    against the first task after it that is not one of them. Free slack, not total slack:
    moving into a successor's slack would reschedule that successor. A task with no
    successor stays where it is: "as late as" the latest finish of whichever tasks were
    given would make its dates depend on which part of a project was rescheduled.
    """
    if not bars:
        return
    end = max(bar.finish for bar in bars.values())
    for number in reversed(network.order):
        if number in fixed or plans[number].constraint.kind is not _ALAP:
            continue
        if not network.outgoing[number]:
            continue
        bar = bars[number]
        latest = _latest_allowed(network.outgoing[number], bars, bar.span, end)
        bar.start = max(bar.start, latest)


def _latest_allowed(
    outgoing: Iterable[Link], successors: Mapping[int, _Bar], span: int, end: int
) -> int:
    """The latest start of a task of `span` that its links and the latest finish allow."""
    latest = end - span
    for link in outgoing:
        latest = min(latest, _latest_start(link, successors[link.successor], span))
    return latest


def _earliest_start(link: Link, predecessor: _Bar, span: int) -> int:
    """The earliest start of a successor of `span` that the link allows."""
    lag = link.lag_days
    if link.kind is LinkKind.FINISH_TO_START:
        return predecessor.finish + 1 + lag
    if link.kind is LinkKind.START_TO_START:
        return predecessor.start + lag
    if link.kind is LinkKind.FINISH_TO_FINISH:
        return predecessor.finish + lag - span
    return predecessor.start + lag - span  # start to finish


def _latest_start(link: Link, successor: _Bar, span: int) -> int:
    """The latest start of a predecessor of `span` that the link allows: `_earliest_start`
    solved the other way round."""
    lag = link.lag_days
    if link.kind is LinkKind.FINISH_TO_START:
        return successor.start - 1 - lag - span
    if link.kind is LinkKind.START_TO_START:
        return successor.start - lag
    if link.kind is LinkKind.FINISH_TO_FINISH:
        return successor.finish - lag - span
    return successor.finish - lag  # start to finish


def _deadline(constraint: Constraint, bar: _Bar) -> int | None:
    """The latest start a task's own constraint allows in the backward pass, if any."""
    kind, on = constraint.kind, constraint.on
    if kind in (ConstraintKind.MUST_START_ON, ConstraintKind.MUST_FINISH_ON):
        return bar.start
    if on is not None and kind is ConstraintKind.START_NO_LATER_THAN:
        return working_day_index(on)
    if on is not None and kind is ConstraintKind.FINISH_NO_LATER_THAN:
        return _finish_index(on) - bar.span
    return None


def _results(bars: Mapping[int, _Bar]) -> dict[int, Scheduled]:
    return {
        number: Scheduled(
            number, working_day_at(bar.start), working_day_at(bar.finish), bar.violated
        )
        for number, bar in bars.items()
    }
