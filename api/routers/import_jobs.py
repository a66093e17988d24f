"""Imports as jobs: a large file (over `LEDGERDESK_IMPORT_JOB_BYTES`, or any with `job=true`)
is stored and queued, and its route answers `202 Accepted` with the job's `Location`;
`GET /imports/{job_id}` follows it to its end — its state, progress and outcome (the result
the route would have answered, or the problem). Workers run the jobs
(`commands.imports.jobs`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, UploadFile
from pydantic import BaseModel, Field

from api.deps import Ctx, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from commands.imports.jobs import ImportJobNotFoundError
from domain.values import Actor
from projections.base import current_tables, iso
from projections.import_jobs import find_job, job_document

router = APIRouter(prefix="/api/v1/imports", tags=[Tag.ITEMS])

AsJob = Annotated[
    bool,
    Query(
        description="Run the import as a job (202 and a job to follow) whatever the file's"
        " size; larger files run as jobs anyway."
    ),
]


class JobProgressOut(BaseModel):
    stage: str | None = Field(description="checking, writing, reading, done (null: not begun).")
    done: int = Field(description="Rows (or tasks) done in this stage.")
    total: int | None = Field(description="How many in all (null while not known).")


class JobFileOut(BaseModel):
    name: str
    size: int


class ImportJobOut(BaseModel):
    id: str
    kind: str = Field(examples=["items", "msproject"])
    state: str = Field(examples=["queued", "running", "succeeded", "failed"])
    progress: JobProgressOut
    file: JobFileOut
    attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None = Field(
        description="Once succeeded: what the import route answers with (201 or, for a dry"
        " run, 200)."
    )
    problem: dict[str, Any] | None = Field(
        description="Once failed: the RFC 9457 problem the import route would have answered"
        " with (`status`, `type`, `detail`, and `errors` naming each problem)."
    )
    version: int


def runs_as_job(file: UploadFile, limit: int, asked: bool) -> bool:
    """Whether this upload is imported by a job: asked for, or larger than `limit`."""
    if asked:
        return True
    file.file.seek(0, 2)  # The spooled upload's size, whatever the client declared.
    size = file.file.tell()
    file.file.seek(0)
    return size > limit


def queued_reply(
    svc: ServicesDep, ctx: Ctx, response: Response, kind: str, file: UploadFile,
    options: dict[str, Any],
) -> OrjsonResponse:  # fmt: skip
    """Store the upload, queue its import, and answer 202 with where to follow it."""
    queued = svc.import_jobs.queue(
        kind, file.file, file.filename or "upload", options, ctx, svc.max_attachment_bytes
    )
    job = svc.import_jobs.job(queued.job_id)
    written(response, queued.position)
    location = f"/api/v1/imports/{queued.job_id}"
    body = job_document(
        {
            "id": str(job.id),
            "kind": job.kind,
            "state": job.state,
            "stage": None,
            "done": 0,
            "total": None,
            "file_name": job.file_name,
            "file_size": job.file_size,
            "attempts": job.attempts,
            "created_at": iso(job.created_on),
            "started_at": None,
            "finished_at": None,
            "result": None,
            "problem": None,
            "version": job.version,
        }
    )  # fmt: skip  (as the view shows a job just queued)
    return reply(response, body, 202, Location=location, ETag=f'"{job.version}"')


@router.get(
    "/{job_id:uuid}",
    summary="An import job: its state, progress and outcome",
    responses={200: {"model": ImportJobOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("import_jobs"))],
)
def import_job(job_id: UUID, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """A job queued by `POST /imports/items` or `POST /imports/msproject` (202): `state`
    queued, running, succeeded or failed; `progress`; and at the end its `result` or its
    `problem`. Only the person who sent the file (or an admin) sees it."""
    with svc.views.read() as tx:
        row = find_job(tx, current_tables(tx, "import_jobs"), str(job_id))
    if row is None or not _may_see(svc, ctx.actor, row["requested_by"]):
        raise ImportJobNotFoundError(job_id)
    return reply(response, job_document(row), ETag=f'"{row["version"]}"')


def _may_see(svc: ServicesDep, actor: Actor, requested_by: str) -> bool:
    if actor.ref == requested_by or actor.kind == "system":
        return True
    return actor.kind == "user" and svc.accounts.user(UUID(actor.ident)).is_admin
