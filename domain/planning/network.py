"""A plan as a network of working-day offsets, and its passes in linear time.

Everything here is an integer: a task is its own start (a working-day index, see
`domain.planning.calendar`), its span (working days from start to finish) and its
constraint reduced to a bound on its start (`start_bound`); a link is one offset
(`link_offset`) such that, whatever its kind,

    successor start  >= predecessor start + offset   (the forward pass)
    predecessor late start <= successor late start - offset   (the backward pass)

so a pass costs one addition and one comparison per link and no date arithmetic at all.
The views store these numbers when they fold events, so a read does the passes only.

Tasks are positions 0..n-1 in the caller's lists; `passes` walks them in a topological
order found while it goes (Kahn's algorithm): O(V + E), no recursion. With `by_position`
the order takes the smallest ready position first (a heap, O((V + E) log V)): the
scheduler's answers come in that order, ties by number.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from functools import partial

from domain.errors import DependencyCycleError
from domain.planning.calendar import STANDARD, WorkCalendar
from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind


class Bound(IntEnum):
    """What a task's constraint does to its start, once reduced to one working day."""

    NONE = 0  # as soon as possible
    LATE = 1  # as late as possible: moved by its free slack after the forward pass
    ON = 2  # must start or finish on: pinned to the bound whatever its links say
    AFTER = 3  # start or finish no earlier than: start >= the bound
    BEFORE = 4  # start or finish no later than: stays, but the bound caps its late start
    KEPT = 5  # keeps its own start (a task the scheduler must not move)


# Plain ints for the passes' comparisons; `_NEVER` is before any working day.
_NONE, _LATE, _ON, _AFTER, _BEFORE, _KEPT = (int(bound) for bound in Bound)
_NEVER = -(1 << 62)

_START_KINDS = {
    ConstraintKind.MUST_START_ON: Bound.ON,
    ConstraintKind.START_NO_EARLIER_THAN: Bound.AFTER,
    ConstraintKind.START_NO_LATER_THAN: Bound.BEFORE,
}
_FINISH_KINDS = {
    ConstraintKind.MUST_FINISH_ON: Bound.ON,
    ConstraintKind.FINISH_NO_EARLIER_THAN: Bound.AFTER,
    ConstraintKind.FINISH_NO_LATER_THAN: Bound.BEFORE,
}

# (1 if the predecessor's finish counts, working days added, 1 if the successor's finish counts)
_LINK_TERMS: dict[str, tuple[int, int, int]] = {
    LinkKind.FINISH_TO_START: (1, 1, 0),
    LinkKind.START_TO_START: (0, 0, 0),
    LinkKind.FINISH_TO_FINISH: (1, 0, 1),
    LinkKind.START_TO_FINISH: (0, 0, 1),
}


def span_of(duration_days: int | None, milestone: bool) -> int:
    """Working days from start to finish: 0 for a milestone or a duration of 0 (or none)."""
    return 0 if milestone or not duration_days else max(duration_days - 1, 0)


def start_bound(
    kind: ConstraintKind, on: date | None, span: int, calendar: WorkCalendar = STANDARD
) -> tuple[Bound, int]:
    """The constraint as a bound on the start of a task of `span` (0 when it has no date).

    Start-kind dates on a day off move to the working day after, finish-kind dates back to
    the working day before, and a finish bound becomes a start bound by taking the span off.
    """
    if on is None:
        return (Bound.LATE if kind is ConstraintKind.AS_LATE_AS_POSSIBLE else Bound.NONE), 0
    if kind in _START_KINDS:
        return _START_KINDS[kind], calendar.index(on)
    return _FINISH_KINDS[kind], calendar.index(on) + calendar.is_working(on) - 1 - span


def link_offset(kind: str, lag_days: int, before_span: int, after_span: int) -> int:
    """The least working days from the predecessor's start to the successor's start.

    finish_to_start: after the predecessor's finish, plus the lag; start_to_start: the
    lag; finish_to_finish and start_to_finish: the same, less the successor's span
    (its finish is what is bound). `kind` is a `LinkKind` or its value.
    """
    before, days, after = _LINK_TERMS[kind]
    return before * before_span + days + lag_days - after * after_span


@dataclass(frozen=True, slots=True)
class Passes:
    """Each task's scheduled and late start, by position; `order` is topological."""

    order: list[int]
    start: list[int]
    late: list[int]
    violated: list[bool]
    end: int | None  # the latest finish; None without tasks


def passes(
    numbers: Sequence[int],
    starts: Sequence[int],
    spans: Sequence[int],
    bounds: Sequence[int],
    bound_days: Sequence[int],
    links: Iterable[tuple[int, int, int]],
    *,
    backward: bool = True,
    by_position: bool = False,
) -> Passes:
    """The forward pass, the as-late-as-possible moves and (with `backward`) the backward
    pass over tasks given by position and links as (predecessor, successor, offset).

    A task starts as its links allow (its own start without links), then its bound
    applies; `violated` when a pin or a no-later-than bound is missed. As-late-as-possible
    tasks with successors then move as late as their free slack allows, successors first.
    The late start is bounded by every outgoing link, by the latest finish and by the
    task's own bound (a pin, a no-later-than). `numbers` only name a cycle: raises
    DependencyCycleError with it if the links hold one.
    """
    count = len(starts)
    outgoing: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    waiting = [0] * count
    for before, after, offset in links:
        outgoing[before].append((after, offset))
        waiting[after] += 1
    earliest = [_NEVER] * count  # from the links; _NEVER while a task has none
    start = list(starts)
    violated = [False] * count
    ready = [i for i in range(count) if not waiting[i]]
    order: list[int] = []
    if by_position:
        take: Callable[[], int] = partial(heapq.heappop, ready)
        give: Callable[[int], None] = partial(heapq.heappush, ready)
    else:
        take, give = ready.pop, ready.append
    done = order.append
    never, none, on, after_, before_, kept = _NEVER, _NONE, _ON, _AFTER, _BEFORE, _KEPT
    while ready:
        i = take()
        done(i)
        bound, first = bounds[i], earliest[i]
        at = start[i] if first == never else first
        if bound == none:
            pass
        elif bound == kept:
            at = start[i]
        elif bound == on:
            violated[i] = first != never and first > bound_days[i]
            at = bound_days[i]
        elif bound == after_:
            at = max(at, bound_days[i])
        elif bound == before_:
            violated[i] = at > bound_days[i]
        start[i] = at
        for j, offset in outgoing[i]:
            if at + offset > earliest[j]:
                earliest[j] = at + offset
            waiting[j] -= 1
            if not waiting[j]:
                give(j)
    if len(order) < count:
        raise DependencyCycleError(_stuck_cycle(numbers, waiting, outgoing))
    if not count:
        return Passes(order, start, [], violated, None)
    end = max(map(operator.add, start, spans))
    _move_late(order, start, spans, bounds, outgoing, end)
    late = _backward(order, start, spans, bounds, bound_days, outgoing, end) if backward else []
    return Passes(order, start, late, violated, end)


def _move_late(
    order: list[int],
    start: list[int],
    spans: Sequence[int],
    bounds: Sequence[int],
    outgoing: list[list[tuple[int, int]]],
    end: int,
) -> None:
    """Move as-late-as-possible tasks to the latest start that moves no successor.

    Successors come first (reverse topological order), so a chain of such tasks packs
    against the first task after it that is not one of them. Free slack, not total slack:
    moving into a successor's slack would reschedule that successor. A task with no
    successor stays where it is: "as late as" the latest finish of whichever tasks were
    given would make its dates depend on which part of a project was rescheduled.
    """
    if _LATE not in bounds:
        return
    for i in reversed(order):
        if bounds[i] != _LATE or not outgoing[i]:
            continue
        latest = end - spans[i]
        for after, offset in outgoing[i]:
            latest = min(latest, start[after] - offset)
        start[i] = max(start[i], latest)


def _backward(
    order: list[int],
    start: list[int],
    spans: Sequence[int],
    bounds: Sequence[int],
    bound_days: Sequence[int],
    outgoing: list[list[tuple[int, int]]],
    end: int,
) -> list[int]:
    late = [0] * len(start)
    on, before_ = _ON, _BEFORE
    for i in reversed(order):
        latest = end - spans[i]
        for j, offset in outgoing[i]:
            if late[j] - offset < latest:
                latest = late[j] - offset
        bound = bounds[i]
        if bound == on and start[i] < latest:
            latest = start[i]
        elif bound == before_ and bound_days[i] < latest:
            latest = bound_days[i]
        late[i] = latest
    return late


def _stuck_cycle(
    numbers: Sequence[int], waiting: list[int], outgoing: list[list[tuple[int, int]]]
) -> list[int]:
    """A cycle among the tasks a topological sort could not reach, read along the links
    from its smallest number.

    Every such task waits on another such task, so walking back from one must repeat.
    """
    stuck = {i for i, count in enumerate(waiting) if count > 0}
    before: dict[int, list[int]] = {i: [] for i in stuck}
    for i in stuck:
        for after, _ in outgoing[i]:
            if after in stuck:
                before[after].append(numbers[i])
    at = {numbers[i]: i for i in stuck}
    position: dict[int, int] = {}
    walk: list[int] = []
    number = min(at)
    while number not in position:
        position[number] = len(walk)
        walk.append(number)
        number = min(before[at[number]])
    cycle = walk[position[number] :][::-1]
    first = cycle.index(min(cycle))
    cycle = cycle[first:] + cycle[:first]
    return [*cycle, cycle[0]]
