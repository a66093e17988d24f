"""A plan's links as links here: each keeps its kind, its lag becomes whole working days
(working time by the file's minutes per day, elapsed time by calendar days at the
calendar's working days a week, a percent by the predecessor's duration; half a day rounds
up), and a link that cannot be kept — to a task not in the file, to or from a summary task
that became a folder, a second link between two tasks, a link from itself, a lag past what a
lag may be — is a warning. Links that go round in a cycle (a file Microsoft Project itself
never saves) make the plan refused, naming the cycle."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.errors import InvalidValueError
from domain.msproject.plan import FileLink, FileTask, LagUnit
from domain.msproject.warnings import PlanWarning, warn
from domain.planning.links import LinkKind

MAX_LAG_DAYS = 10_000  # as a dependency's lag may be (the API's bound)


@dataclass(frozen=True, slots=True)
class PlannedLink:
    predecessor_uid: int
    successor_uid: int
    kind: LinkKind
    lag_days: int


def plan_links(
    tasks: Sequence[FileTask],
    by_uid: dict[int, FileTask],
    kinds: dict[int, tuple[str, int | None]],
    minutes_per_day: int,
    days_a_week: int,
    warnings: list[PlanWarning],
) -> list[PlannedLink]:
    links: list[PlannedLink] = []
    seen: set[tuple[int, int]] = set()
    for task in tasks:
        for link in task.predecessors:
            before = by_uid.get(link.predecessor_uid)
            if before is None:
                warnings.append(
                    warn(
                        task,
                        f"its link from task UID {link.predecessor_uid} is not kept:"
                        " no such task in the file",
                    )
                )
                continue
            folders = [t.name for t in (before, task) if kinds[t.uid][0] == "folder"]
            if folders:
                if kinds[task.uid][0] != "folder":  # (A folder's own links: warned once.)
                    warnings.append(
                        warn(
                            task,
                            f"its link from {before.name!r} is not kept: a summary"
                            " task that became a folder has no links here",
                        )
                    )
                continue
            if before.uid == task.uid:
                warnings.append(warn(task, "its link from itself is not kept"))
                continue
            if (before.uid, task.uid) in seen:
                warnings.append(warn(task, f"its second link from {before.name!r} is not kept"))
                continue
            seen.add((before.uid, task.uid))
            lag = _lag_days(link, before, task, minutes_per_day, days_a_week, warnings)
            if abs(lag) > MAX_LAG_DAYS:
                warnings.append(
                    warn(
                        task,
                        f"its link from {before.name!r} lags {lag} working days, past"
                        f" the {MAX_LAG_DAYS:,} a lag may be: not kept",
                    )
                )
                continue
            links.append(PlannedLink(before.uid, task.uid, link.kind, lag))
    refuse_cycles(links, by_uid)
    return links


def _lag_days(
    link: FileLink,
    before: FileTask,
    task: FileTask,
    minutes_per_day: int,
    days_a_week: int,
    warnings: list[PlanWarning],
) -> int:
    """The lag in whole working days, with a warning where that is not what the file says
    (elapsed days count `days_a_week` working days to the week)."""
    if link.lag == 0:
        return 0
    if link.lag_unit == LagUnit.PERCENT:
        span = (before.duration_minutes or 0) / minutes_per_day
        days = link.lag / 100 * span
        said = f"{link.lag:g}% of {before.name!r}'s duration"
    elif link.lag_unit == LagUnit.ELAPSED:
        days = link.lag / (24 * 60) * days_a_week / 7
        said = f"{link.lag / (24 * 60):g} elapsed days"
    else:
        days = link.lag / minutes_per_day
        said = f"{days:g} working days"
    whole = int(math.copysign(math.floor(abs(days) + 0.5), days))  # Half a day up.
    if link.lag_unit != LagUnit.WORKING or whole != days:
        warnings.append(
            warn(task, f"its link from {before.name!r} lags {said}: here {whole} working days")
        )
    return whole


class PlanCycleError(InvalidValueError):
    """Raised for a plan whose links go round in a cycle (a file Microsoft Project itself
    would not save): it is refused, naming the cycle."""

    def __init__(self, names: list[str], uids: list[int]) -> None:
        path = " → ".join(repr(name) for name in names)
        super().__init__(
            "file",
            f"the plan's links go round in a cycle: {path} (task UIDs"
            f" {', '.join(map(str, uids))}); mend the file",
        )


def refuse_cycles(links: Sequence[PlannedLink], by_uid: dict[int, FileTask]) -> None:
    """Raise `PlanCycleError` naming one cycle if the links make any (O(V + E))."""
    if not _has_cycle(links):
        return
    uids = _a_cycle(links)
    raise PlanCycleError([by_uid[uid].name for uid in uids], uids)


def _a_cycle(links: Sequence[PlannedLink]) -> list[int]:
    """One cycle of the links (which have one), as UIDs from a task back to it."""
    successors: dict[int, list[int]] = defaultdict(list)
    for link in links:
        successors[link.predecessor_uid].append(link.successor_uid)
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for root in list(successors):
        if root in state:
            continue
        path, stack = [root], [iter(successors[root])]
        state[root] = 1
        while stack:
            after = next(stack[-1], None)
            if after is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(after) == 1:
                return [*path[path.index(after) :], after]
            elif after not in state:
                state[after] = 1
                path.append(after)
                stack.append(iter(successors[after]))
    raise AssertionError("no cycle")  # (Only called when there is one.)


def _has_cycle(links: Iterable[PlannedLink]) -> bool:
    successors: dict[int, list[int]] = defaultdict(list)
    waiting: dict[int, int] = defaultdict(int)
    for link in links:
        successors[link.predecessor_uid].append(link.successor_uid)
        waiting[link.successor_uid] += 1
        waiting.setdefault(link.predecessor_uid, 0)
    ready = deque(uid for uid, count in waiting.items() if count == 0)
    done = 0
    while ready:
        uid = ready.popleft()
        done += 1
        for after in successors[uid]:
            waiting[after] -= 1
            if waiting[after] == 0:
                ready.append(after)
    return done < len(waiting)
