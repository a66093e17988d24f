"""What of a plan file cannot be kept as the file has it: a warning, never a silent drop."""

from __future__ import annotations

from dataclasses import dataclass

from domain.msproject.plan import FileTask


@dataclass(frozen=True, slots=True)
class PlanWarning:
    """What could not be kept as the file has it; `task_uid` None for the plan itself."""

    message: str
    task_uid: int | None = None
    task: str = ""  # the task's name in the file


def warn(task: FileTask, message: str) -> PlanWarning:
    return PlanWarning(message, task.uid, task.name)
