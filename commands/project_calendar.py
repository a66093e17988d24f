"""A project's working days: the calendar its tasks are planned by (`domain.planning.calendar`).

Setting it changes no planned date: tasks keep the days they have until a change to their
plan (a date, a duration, a link) moves them, and then they move by the new calendar.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from commands.access import load_project, require_manager
from commands.models import Command, Context
from commands.unit_of_work import UnitOfWork
from domain.planning.calendar import MAX_EXCEPTIONS, WorkCalendar


class SetProjectCalendar(Command):
    project_id: UUID
    working_weekdays: list[str] = Field(min_length=1, max_length=7)
    holidays: list[date] = Field(default_factory=list, max_length=MAX_EXCEPTIONS)
    extra_days: list[date] = Field(default_factory=list, max_length=MAX_EXCEPTIONS)


def set_project_calendar(cmd: SetProjectCalendar, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """The project's managers set the working days its tasks are planned by."""
    project = load_project(uow, cmd.project_id, ctx)
    require_manager(uow, ctx, project, "change its calendar")
    calendar = WorkCalendar.named(cmd.working_weekdays, cmd.holidays, cmd.extra_days)
    project.set_calendar(calendar, ctx.actor, ctx.correlation_id)
    return [project]
