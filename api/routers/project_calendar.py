"""A project's working days: the calendar its tasks are planned by."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from api.deps import Ctx, ExpectedVersion, ProjectScope, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.project_calendar import SetProjectCalendar
from domain.errors import PermissionDeniedError
from domain.planning.calendar import MAX_EXCEPTIONS
from domain.project import Project

router = APIRouter(prefix="/api/v1/projects", tags=[Tag.PROJECTS])


class CalendarBody(Body):
    working_weekdays: list[str] = Field(
        min_length=1,
        max_length=7,
        examples=[["monday", "tuesday", "wednesday", "thursday", "friday"]],
        description="The weekdays the project works, by their English names.",
    )
    holidays: list[date] = Field(
        default_factory=list,
        max_length=MAX_EXCEPTIONS,
        examples=[["2026-12-24", "2026-12-25"]],
        description="Days off that fall on a working weekday.",
    )
    extra_days: list[date] = Field(
        default_factory=list,
        max_length=MAX_EXCEPTIONS,
        examples=[["2026-12-19"]],
        description="Days worked that fall on another weekday.",
    )


def _shown(project: Project) -> dict[str, object]:
    calendar = project.work_calendar
    return {"project_id": project.id, "standard": calendar.standard, **calendar.as_dict()}


@router.get(
    "/{project_id}/calendar",
    summary="Read a project's working days",
    responses=documented(401, 403, 404, 422),
    dependencies=[Depends(fresh("access"))],
)
def read_calendar(
    project_id: UUID, svc: ServicesDep, scope: ProjectScope, response: Response
) -> OrjsonResponse:
    """The weekdays the project works, its holidays and extra working days (members).
    Without a calendar of its own a project works Monday to Friday (`standard`)."""
    project = svc.projects.project(project_id)
    if not scope.sees(str(project_id)):
        raise PermissionDeniedError("you are not a member of this project; ask to join")
    return reply(response, _shown(project), ETag=f'"{project.version}"')


@router.put(
    "/{project_id}/calendar",
    summary="Set a project's working days",
    responses=documented(401, 403, 404, 409, 412, 422),
)
def set_calendar(
    project_id: UUID,
    body: CalendarBody,
    svc: ServicesDep,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Plan the project's tasks by these working days (managers). Planned dates stay as
    they are; a change to a task's plan (a date, a duration, a link) moves it and those that
    follow it by the new calendar. Monday to Friday with no exceptions is the standard."""
    cmd = SetProjectCalendar(project_id=project_id, **body.model_dump())
    result = svc.projects.set_calendar(cmd, ctx, version)
    project = svc.projects.project(project_id)
    written(response, result.position, project.version)
    return reply(response, _shown(project))
