"""Microsoft Project plans: `POST /imports/msproject` imports one (MSPDI XML; MPP and MPT
with the msproject extra) into a new or existing project. The rules are in
`commands.msproject` and `domain.msproject`."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field

from api.deps import Ctx, ServicesDep, fresh, written
from api.responses import OrjsonResponse, attachment, documented, reply, with_headers
from api.routers.import_jobs import AsJob, ImportJobOut, queued_reply, runs_as_job
from api.routers.planning import TaskScope, visible_project
from api.tags import Tag
from commands.access import ProjectNotFoundError
from commands.errors import AttachmentTooLargeError
from commands.imports.outcomes import plan_result
from commands.msproject.export import ExportFolder, ExportLink, ExportTask, Person, project_plan
from commands.msproject.importer import target_for
from commands.msproject.mspdi import write_mspdi
from commands.msproject.plan_files import read_plan_file
from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind
from projections.gantt import GanttBar
from projections.item_places import Places
from projections.plan_export import plan_rows
from projections.users import staff_by_name

import_router = APIRouter(prefix="/api/v1/imports", tags=[Tag.PLANNING])
CHUNK = 64 * 1024


class PlanWarningOut(BaseModel):
    task_uid: int | None = Field(description="The task's UID in the file (null: the plan).")
    task: str = Field(description="The task's name in the file.")
    message: str = Field(examples=["its link from 'Design' lags 50% of ...: here 2 working days"])


class PlanImportOut(BaseModel):
    import_id: str | None = Field(description="This import (null in a dry run).")
    project_id: str | None = Field(description="The project (null in a dry run into a new one).")
    project_name: str
    project_created: bool
    created: dict[str, int] = Field(
        examples=[{"tasks": 40, "subtasks": 12, "folders": 3, "links": 35, "assignments": 20}],
        description="What this import made (or would, in a dry run).",
    )
    existing: int = Field(description="Tasks of the plan an earlier import of it made.")
    warnings: list[PlanWarningOut] = Field(
        description="What of the file could not be kept as it is, task by task."
    )
    dry_run: bool


def read_upload(file: UploadFile, limit: int) -> bytes:
    """The whole upload (a plan is read whole), refused past `limit` bytes."""
    parts, read = [], 0
    while block := file.file.read(CHUNK):
        read += len(block)
        if read > limit:
            raise AttachmentTooLargeError(limit)
        parts.append(block)
    return b"".join(parts)


@import_router.post(
    "/msproject",
    status_code=201,
    dependencies=[Depends(fresh("hierarchy", "customers", "users"))],
    summary="Import a Microsoft Project plan",
    responses={
        201: {"model": PlanImportOut, "description": "Imported (or found imported)."},
        200: {"model": PlanImportOut, "description": "A dry run: what would be imported."},
        202: {"model": ImportJobOut, "description": "A large file: queued as a job."},
        **documented(401, 403, 404, 409, 413, 415, 422),
    },
)
def import_msproject(
    file: Annotated[
        UploadFile, File(description="An MS Project XML file (MSPDI); MPP or MPT with the extra.")
    ],
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
    project: Annotated[
        str | None,
        Form(
            description="The project's id, name or `Customer/Project` path; a name no"
            " project has makes a new project (none: a new project named as the plan)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, Query(description="Read and map the plan and say what would be made; write nothing.")
    ] = False,
    job: AsJob = False,
) -> OrjsonResponse:
    """Import a plan's tasks (names, notes, dates, durations, work, percent complete,
    milestones, constraints), its outline (summary tasks become parent tasks or folders),
    its dependencies with their lags, and its resources' assignments (staff matched by
    email or name). What cannot be kept is listed in `warnings`; the dates are the file's
    (nothing is rescheduled). Importing the same plan again adds nothing."""
    sees = svc.plan_imports.sees(ctx)
    with svc.views.read() as tx:
        target = target_for(project, Places.read(tx), sees)
    if target.project_id is not None and not sees(str(target.project_id)):
        raise ProjectNotFoundError(target.project_id)  # At once, not in a job.
    if runs_as_job(file, svc.import_job_bytes, job):
        # The project as named now (a job run later does not look the name up again).
        where = str(target.project_id) if target.project_id else target.name
        options = {"project": where, "dry_run": dry_run}
        return queued_reply(svc, ctx, response, "msproject", file, options)
    data = read_upload(file, svc.max_attachment_bytes)
    plan = read_plan_file(data)
    done = svc.plan_imports.import_plan(
        plan, hashlib.sha256(data).hexdigest(), target, ctx, staff_by_name(svc.views), dry_run
    )
    if done.position:
        written(response, done.position)
    return reply(response, plan_result(done, dry_run), 200 if dry_run else 201)


export_router = APIRouter(prefix="/api/v1/projects", tags=[Tag.PLANNING])


@export_router.get(
    "/{project_id}/export.xml",
    summary="A project as a Microsoft Project plan (XML)",
    response_class=Response,
    responses={
        200: {"content": {"application/xml": {}}, "description": "The plan as MSPDI XML."},
        **documented(401, 403, 404),
    },
    dependencies=[Depends(fresh("gantt", "access", "hierarchy", "users", "flat"))],
)
def export_msproject(
    project_id: UUID, svc: ServicesDep, scope: TaskScope, response: Response
) -> Response:
    """The project's folders (as summary tasks), tasks, subtasks, dates, durations, work,
    progress, milestones, constraints, dependencies and assignees, as MS Project XML
    (MSPDI) that Microsoft Project opens. A working day runs 08:00 to 17:00, on the
    project's working days (its calendar). Importing the file gives the same tasks, links,
    constraints, dates and calendar."""
    found = visible_project(svc, scope, project_id)
    with svc.views.read() as tx:
        rows = plan_rows(tx, str(project_id))
    plan = project_plan(
        found["name"],
        [ExportFolder(f["id"], f["name"], f["parent_id"]) for f in rows.folders],
        [_export_task(bar, rows.notes.get(bar.number, "")) for bar in rows.bars],
        [ExportLink(k.predecessor, k.successor, LinkKind(k.kind), k.lag_days) for k in rows.links],
        [Person(p["id"], p["name"], p["email"]) for p in rows.people],
        rows.calendar,
    )
    response.headers["Content-Disposition"] = attachment(f"{found['name']}.xml", "plan.xml")
    return with_headers(response, write_mspdi(plan), "application/xml")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _export_task(bar: GanttBar, notes: str) -> ExportTask:
    return ExportTask(
        number=bar.number, title=bar.title, folder_id=bar.folder_id, parent=bar.parent,
        start=_day(bar.start), finish=_day(bar.finish), duration_days=bar.duration_days,
        milestone=bar.milestone, percent_complete=bar.percent_complete,
        work_hours=bar.work_hours, constraint=ConstraintKind(bar.constraint_kind),
        constraint_on=_day(bar.constraint_on), actual_start=_day(bar.actual_start),
        actual_finish=_day(bar.actual_finish), assignees=tuple(bar.assignees),
        description=notes,
    )  # fmt: skip


routers = (import_router, export_router)
