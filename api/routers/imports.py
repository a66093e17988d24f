"""Imports of tickets and tasks from CSV (`POST /imports/items`): every row checked, then
written (or, with `dry_run`, what would be written); the rules are in
`commands.imports.items`."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field

from api.deps import Ctx, ServicesDep, fresh, written
from api.problems import InvalidParameterError
from api.responses import OrjsonResponse, documented, reply
from api.routers.import_jobs import AsJob, ImportJobOut, queued_reply, runs_as_job
from api.tags import Tag
from commands.errors import AttachmentTooLargeError
from commands.imports.outcomes import item_result
from projections.item_places import Places

router = APIRouter(prefix="/api/v1/imports", tags=[Tag.ITEMS])
CHUNK = 64 * 1024


class ItemImportOut(BaseModel):
    rows: int = Field(examples=[120])
    created: dict[str, int] = Field(
        examples=[{"ticket": 100, "task": 20}],
        description="Items this import made (or would make, in a dry run), by kind.",
    )
    existing: int = Field(description="Rows whose item an earlier import of them made.")
    dry_run: bool
    import_id: str | None = Field(
        description="The import of this file by you (null in a dry run): sending the same"
        " file again finds it."
    )


def _mapping(given: str | None) -> dict[str, str]:
    """`{"Subject": "title", ...}`: a file's own header names and the columns they are."""
    if not given:
        return {}
    try:
        found = orjson.loads(given)
    except orjson.JSONDecodeError:
        found = None
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise InvalidParameterError(
            "body", "mapping", 'a JSON object of header names: {"Subject": "title"}'
        )
    return {key.strip(): value.strip() for key, value in found.items()}


def _chunks(file: UploadFile, limit: int) -> Any:
    """The upload a block at a time (never whole in memory), refused past `limit` bytes."""
    read = 0
    while block := file.file.read(CHUNK):
        read += len(block)
        if read > limit:
            raise AttachmentTooLargeError(limit)
        yield block


@router.post(
    "/items",
    status_code=201,
    dependencies=[Depends(fresh("hierarchy", "customers"))],
    summary="Import tickets and tasks (CSV)",
    responses={
        201: {"model": ItemImportOut, "description": "Imported (or found imported)."},
        200: {"model": ItemImportOut, "description": "A dry run: what would be imported."},
        202: {"model": ImportJobOut, "description": "A large file: queued as a job."},
        **documented(401, 403, 409, 413, 422, 503),
    },
)
def import_items(
    file: Annotated[UploadFile, File(description="A CSV file with a header row.")],
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
    mapping: Annotated[
        str | None,
        Form(
            description="Your file's header names and the columns they are, as JSON:"
            ' {"Subject": "title", "Type": "kind"}.'
        ),
    ] = None,
    dry_run: Annotated[
        bool, Query(description="Check every row and say what would be made; write nothing.")
    ] = False,
    job: AsJob = False,
) -> OrjsonResponse:
    """Import tickets and tasks. Columns: `title`, and optionally `external_id`, `kind`
    (ticket or task), `item_type`, `description`, `status`, `priority`, `requester_email`,
    `assignees` (emails separated by `;`), `team`, `project` (`Project` or
    `Customer/Project`), `folder`, `created_at`, `start`, `finish`, `points`. Every
    problem is reported with its row and column, and a file with any problem imports
    nothing. Importing the same file again (or any file with the same external ids)
    makes nothing twice."""
    rename = _mapping(mapping)
    if runs_as_job(file, svc.import_job_bytes, job):
        options = {"mapping": rename, "dry_run": dry_run}
        return queued_reply(svc, ctx, response, "items", file, options)
    with svc.views.read() as tx:
        places = Places.read(tx)

    def source() -> Any:  # The file from its start (it is read twice: checked, written).
        file.file.seek(0)
        return _chunks(file, svc.max_attachment_bytes)

    done = svc.item_imports.import_csv(source, ctx, places, rename, dry_run)
    body = item_result(done, dry_run)
    if done.imported is not None:
        written(response, done.imported.position)
    return reply(response, body, 200 if dry_run else 201)
