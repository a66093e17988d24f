"""Dependency links between tasks, by item number, and the cycle a new link would close."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import UnknownLinkKindError


class LinkKind(StrEnum):
    FINISH_TO_START = "finish_to_start"
    START_TO_START = "start_to_start"
    FINISH_TO_FINISH = "finish_to_finish"
    START_TO_FINISH = "start_to_finish"

    @classmethod
    def parse(cls, value: str) -> LinkKind:
        try:
            return cls(value)
        except ValueError:
            raise UnknownLinkKindError(value, [known.value for known in cls]) from None


@dataclass(frozen=True, slots=True)
class Link:
    """A dependency between two items, by number; the lag is in working days."""

    predecessor: int
    successor: int
    kind: LinkKind = LinkKind.FINISH_TO_START
    lag_days: int = 0


def find_cycle(links: Iterable[Link], new: Link) -> list[int] | None:
    """The cycle adding `new` would close, or None.

    The cycle reads along the links and starts and ends with `new.successor`:
    [successor, ..., predecessor, successor] (a self-link gives [n, n]). Of several cycles
    it is a shortest one, ties going to the smaller numbers.
    """
    if new.predecessor == new.successor:
        return [new.successor, new.successor]
    successors: dict[int, list[int]] = defaultdict(list)
    for link in links:
        successors[link.predecessor].append(link.successor)
    came_from = {new.successor: new.successor}
    queue = deque([new.successor])
    while queue:
        number = queue.popleft()
        if number == new.predecessor:
            return [*_path_back(came_from, number), new.successor]
        for successor in sorted(successors.get(number, ())):
            if successor not in came_from:
                came_from[successor] = number
                queue.append(successor)
    return None


def _path_back(came_from: Mapping[int, int], number: int) -> list[int]:
    path = [number]
    while came_from[number] != number:
        number = came_from[number]
        path.append(number)
    path.reverse()
    return path
