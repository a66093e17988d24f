"""Scheduled reports: a saved report mailed as a PDF, CSV or XLSX attachment to recipients
weekly or monthly (`/reports/schedules`), and each period's run with its outcome
(`/reports/schedules/{id}/runs`). The runs are made by the workers' tick
(`workers.reports`), once per period."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import Ctx, CurrentCaller, ExpectedVersion, ServicesDep, fresh, written
from api.problems import InvalidParameterError
from api.responses import OrjsonResponse, documented, reply
from api.routers.saved_views import as_admin
from api.schemas import Body
from api.tags import Tag
from domain.views.report_schedule import ReportSchedule, ReportScheduleNotFoundError
from domain.views.schedule import FORMATS
from projections.base import current_tables, iso
from projections.reports.schedules import runs_of, schedule_of, schedules_of

router = APIRouter(prefix="/api/v1/reports/schedules", tags=[Tag.REPORTS])
SEEN = [Depends(fresh("report_schedules"))]
ScheduleId = Annotated[UUID, Path(description="A report schedule's id.")]

SCHEDULE = (
    "`{every: week, weekday, time, time_zone}` or `{every: month, day, time, time_zone}`:"
    " `weekday` monday to sunday, `day` 1 to 31 (past a month's end: its last day),"
    " `time` HH:MM (24-hour), `time_zone` an IANA zone (default UTC)."
)
EXAMPLE = {"every": "week", "weekday": "monday", "time": "08:00", "time_zone": "Europe/Paris"}


class ScheduleCreate(Body):
    report_id: UUID = Field(description="The saved report to send (one you may see).")
    recipients: list[str] = Field(min_length=1, max_length=50, examples=[["client@example.com"]])
    format: str = Field(default="pdf", description=f"One of {', '.join(FORMATS)}.")
    schedule: dict[str, Any] = Field(description=SCHEDULE, examples=[EXAMPLE])
    active: bool = True


class SchedulePatch(Body):
    recipients: list[str] | None = Field(default=None, min_length=1, max_length=50)
    format: str | None = None
    schedule: dict[str, Any] | None = Field(default=None, description=SCHEDULE)
    active: bool | None = None


class ScheduleOut(BaseModel):
    id: str
    report_id: str
    owner_id: str
    recipients: list[str]
    format: str
    schedule: dict[str, Any]
    active: bool
    next_run_at: str | None = Field(description="When it is next due (null: switched off).")
    last_period: str | None = Field(description="The last period sent, given up or missed.")
    version: int


class ScheduleList(BaseModel):
    items: list[ScheduleOut]


class RunMail(BaseModel):
    recipient: str
    state: str = Field(description="`queued`, `sent` or `failed`.")
    error: str | None


class ScheduleRun(BaseModel):
    period: str = Field(description="The occurrence the run is for (UTC).")
    outcome: str = Field(
        description="`making`, `sending`, `sent`, `retrying`, `failed` or `missed`."
    )
    attempts: int
    error: str | None
    retry_at: str | None
    days: dict[str, str] | None = Field(description="`from` and `to`, the days it covers.")
    file: dict[str, Any] | None = Field(description="`name`, `media_type` and `size`.")
    mails: list[RunMail]


class ScheduleRuns(BaseModel):
    items: list[ScheduleRun]


def shown(schedule: ReportSchedule) -> dict[str, Any]:
    """A schedule as recorded (a write's answer)."""
    upcoming = schedule.next_run_at
    return {
        "id": str(schedule.id),
        "report_id": schedule.report_id,
        "owner_id": schedule.owner,
        "recipients": schedule.recipients,
        "format": schedule.format,
        "schedule": schedule.schedule,
        "active": schedule.active,
        "next_run_at": iso(upcoming) if upcoming else None,
        "last_period": schedule.last_period,
        "version": schedule.version,
    }


def _answer(
    svc: ServicesDep, response: Response, schedule_id: UUID, position: int, status: int = 200
) -> OrjsonResponse:
    found = svc.schedules.find(schedule_id)
    if found is None:
        raise ReportScheduleNotFoundError(str(schedule_id))
    written(response, position, found.version)
    extra = {"Location": f"{router.prefix}/{found.id}"} if status == 201 else {}
    return reply(response, shown(found), status, **extra)


def _visible(svc: ServicesDep, caller: CurrentCaller, schedule_id: UUID) -> dict[str, Any]:
    """The schedule if it is the caller's, or they are an admin; 404 otherwise."""
    with svc.views.read() as tx:
        found = schedule_of(tx, current_tables(tx, "report_schedules"), str(schedule_id))
    if found is None or not (found["owner_id"] == str(caller.user.id) or caller.user.is_admin):
        raise ReportScheduleNotFoundError(str(schedule_id))
    return found


@router.get(
    "",
    summary="List report schedules",
    responses={200: {"model": ScheduleList}, **documented(401)},
    dependencies=SEEN,
)
def list_schedules(
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    every_owner: Annotated[
        bool, Query(alias="all", description="An admin's: every user's schedules.")
    ] = False,
) -> OrjsonResponse:
    """Your report schedules, oldest first (an admin, with `all=true`: everyone's)."""
    owner = None if every_owner and caller.user.is_admin else str(caller.user.id)
    with svc.views.read() as tx:
        items = schedules_of(tx, current_tables(tx, "report_schedules"), owner)
    return reply(response, {"items": items})


@router.post(
    "",
    status_code=201,
    summary="Schedule a saved report",
    responses={201: {"model": ScheduleOut}, **documented(401, 403, 404, 422)},
)
def create_schedule(
    body: ScheduleCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Mail a saved report you may see to `recipients`, weekly or monthly, as you see it
    when each run is made. The first run is the first occurrence from now on; a saved report
    you may not see is 404; a bad address, format or schedule is 422 naming it."""
    given = body.model_dump(mode="json")
    result = svc.schedules.create(given, ctx)
    return _answer(svc, response, result.id, result.position, 201)


@router.get(
    "/{schedule_id}",
    summary="Read a report schedule",
    responses={200: {"model": ScheduleOut}, **documented(401, 404, 422)},
    dependencies=SEEN,
)
def read_schedule(
    schedule_id: ScheduleId, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """One of your schedules (an admin: anyone's); 404 otherwise."""
    found = _visible(svc, caller, schedule_id)
    return reply(response, found, ETag=f'"{found["version"]}"')


@router.patch(
    "/{schedule_id}",
    summary="Change a report schedule",
    responses={200: {"model": ScheduleOut}, **documented(401, 403, 404, 412, 422)},
)
def change_schedule(
    schedule_id: ScheduleId,
    body: SchedulePatch,
    svc: ServicesDep,
    caller: CurrentCaller,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Change the recipients, format, schedule or `active`, in one write: its owner, or an
    admin (with the admin scope). A new schedule, or one switched on again, counts from
    now: a period before the change is not sent."""
    given = body.model_dump(exclude_unset=True)
    for name, value in given.items():
        if value is None:
            raise InvalidParameterError("body", name, f"{name} cannot be null")
    result = svc.schedules.change(schedule_id, given, ctx, version, as_admin(caller))
    return _answer(svc, response, schedule_id, result.position)


@router.delete(
    "/{schedule_id}",
    status_code=204,
    summary="Delete a report schedule",
    responses={204: {"description": "Deleted."}, **documented(401, 403, 404, 422)},
)
def delete_schedule(
    schedule_id: ScheduleId, svc: ServicesDep, caller: CurrentCaller, ctx: Ctx
) -> Response:
    """Stop and delete a schedule (as for changing it); its runs go with it."""
    result = svc.schedules.delete(schedule_id, ctx, as_admin(caller))
    answer = Response(status_code=204)
    written(answer, result.position)
    return answer


@router.get(
    "/{schedule_id}/runs",
    summary="A report schedule's runs",
    responses={200: {"model": ScheduleRuns}, **documented(401, 404, 422)},
    dependencies=SEEN,
)
def schedule_runs(
    schedule_id: ScheduleId,
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OrjsonResponse:
    """Each period's run, latest first: its outcome (`making`, `sending`, `sent`,
    `retrying`, `failed`, `missed`), attempts, error, the days and file it sent, and each
    recipient's mail."""
    _visible(svc, caller, schedule_id)
    with svc.views.read() as tx:
        items = runs_of(tx, current_tables(tx, "report_schedules"), str(schedule_id), limit)
    return reply(response, {"items": items})
