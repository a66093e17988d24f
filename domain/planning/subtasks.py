"""A task's subtasks: one level only, in the parent's project; the parent records its
subtasks too.

`TaskSubtasks` is part of the `Task` aggregate (`domain.task`): its methods check the rules
and record the events, whose classes and topics `Task` defines over the appliers here.
"""

from __future__ import annotations

from domain.errors import SubtaskLevelError
from domain.values import Actor
from domain.work_item import WorkItem


class TaskSubtasks(WorkItem):
    """The parent of a subtask, and the subtasks of a parent."""

    parent: int | None
    subtasks: list[int]

    def make_subtask_of(
        self, parent: TaskSubtasks | None, actor: Actor, correlation_id: str
    ) -> None:
        """Put this task under `parent` (one level only), or take it out with None. The
        old and new parents record it too (the caller saves them together)."""
        if parent is not None:
            self._check_parent(parent)
        target = parent.number if parent is not None else None
        if target == self.parent:
            return
        self._parent_set(parent=target, actor=actor.ref, correlation_id=correlation_id)
        if parent is not None:
            parent._subtask_added(
                subtask=self.number, actor=actor.ref, correlation_id=correlation_id
            )

    def _check_parent(self, parent: TaskSubtasks) -> None:
        if parent.number == self.number:
            raise SubtaskLevelError("a task cannot be its own subtask")
        if parent.parent is not None:
            raise SubtaskLevelError(f"#{parent.number} is itself a subtask")
        if self.subtasks:
            raise SubtaskLevelError(f"#{self.number} has subtasks of its own")
        if parent.project_id != self.project_id:
            raise SubtaskLevelError("a subtask is in its parent's project")

    def release_subtask(self, number: int, actor: Actor, correlation_id: str) -> None:
        if number in self.subtasks:
            self._subtask_removed(subtask=number, actor=actor.ref, correlation_id=correlation_id)

    def _parent_set(self, parent: int | None, actor: str, correlation_id: str) -> None:
        self.parent = parent

    def _subtask_added(self, subtask: int, actor: str, correlation_id: str) -> None:
        self.subtasks.append(subtask)

    def _subtask_removed(self, subtask: int, actor: str, correlation_id: str) -> None:
        self.subtasks.remove(subtask)
