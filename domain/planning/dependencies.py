"""A task's dependencies: the tasks it follows (its predecessors) and the tasks that follow
it (its successors), recorded on both streams.

`TaskDependencies` is part of the `Task` aggregate (`domain.task`): its methods check the
rules and record the events, whose classes and topics `Task` defines over the appliers here.
"""

from __future__ import annotations

from typing import Any

from domain.errors import TaskLinkError
from domain.planning.links import LinkKind
from domain.values import Actor
from domain.work_item import WorkItem


class TaskDependencies(WorkItem):
    """Links to other tasks of the same project; {number: [link kind, lag]} on each side."""

    predecessors: dict[str, list[Any]]
    successors: dict[str, list[Any]]

    def depend_on(
        self,
        predecessor: TaskDependencies,
        kind: LinkKind,
        lag_days: int,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """This task follows `predecessor` (both streams record it; saved together).
        The caller has checked that the link makes no cycle."""
        if predecessor.number == self.number:
            raise TaskLinkError("a task cannot depend on itself")
        if predecessor.project_id != self.project_id:
            raise TaskLinkError("dependencies link tasks of the same project")
        link = [kind.value, lag_days]
        if self.predecessors.get(str(predecessor.number)) == link:
            return
        self._dependency_added(
            predecessor=predecessor.number,
            kind=kind.value,
            lag_days=lag_days,
            actor=actor.ref,
            correlation_id=correlation_id,
        )
        predecessor._successor_added(
            successor=self.number,
            kind=kind.value,
            lag_days=lag_days,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def _dependency_added(
        self, predecessor: int, kind: str, lag_days: int, actor: str, correlation_id: str
    ) -> None:
        self.predecessors[str(predecessor)] = [kind, lag_days]

    def _successor_added(
        self, successor: int, kind: str, lag_days: int, actor: str, correlation_id: str
    ) -> None:
        self.successors[str(successor)] = [kind, lag_days]

    def drop_dependency(
        self, predecessor: TaskDependencies, actor: Actor, correlation_id: str
    ) -> None:
        if str(predecessor.number) not in self.predecessors:
            return
        self._dependency_removed(
            predecessor=predecessor.number, actor=actor.ref, correlation_id=correlation_id
        )
        predecessor._successor_removed(
            successor=self.number, actor=actor.ref, correlation_id=correlation_id
        )

    def _dependency_removed(self, predecessor: int, actor: str, correlation_id: str) -> None:
        self.predecessors.pop(str(predecessor), None)

    def _successor_removed(self, successor: int, actor: str, correlation_id: str) -> None:
        self.successors.pop(str(successor), None)
