"""Time: timesheet entries (log, edit, withdraw, submit, approve, reject, correct) and
timers (start, pause, resume, stop). Listing and reports are in `api.routers.reports`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Path, Response, UploadFile
from pydantic import BaseModel, Field

from api.deps import Ctx, ServicesDep, written
from api.params import Moment
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.errors import AttachmentTooLargeError
from commands.models import CommandResult
from commands.timesheets import (
    CorrectEntry,
    EditEntry,
    EntryAction,
    LogTime,
    RejectEntry,
    StopTimer,
    TimerCommand,
)
from domain.item_numbers import MAX_ITEM_NUMBER
from domain.timesheet import TimesheetEntry

router = APIRouter(prefix="/api/v1", tags=[Tag.TIME])
EntryId = Annotated[UUID, Path(description="The timesheet entry's id.")]
ItemNumber = Annotated[
    int, Path(ge=1, le=MAX_ITEM_NUMBER, description="A ticket's or task's number.")
]


class EntryOut(BaseModel):
    id: UUID
    user_id: UUID
    item: int
    project_id: UUID
    date: str = Field(examples=["2026-12-01"])
    minutes: int = Field(examples=[90])
    hours: float = Field(examples=[1.5])
    started_at: str | None
    finished_at: str | None
    billable: bool
    activity: str
    notes: str
    source: str = Field(examples=["manual"])
    state: str = Field(examples=["submitted"])
    corrects: UUID | None
    version: int


class EntryBody(Body):
    pass


class EntryCreate(EntryBody):
    item: int = Field(ge=1, le=MAX_ITEM_NUMBER, examples=[1042])
    date: dt.date
    hours: Decimal | None = Field(
        default=None, gt=0, le=24, max_digits=6, decimal_places=4, examples=["1.5"]
    )
    minutes: int | None = Field(default=None, gt=0, le=24 * 60)
    started_at: Moment | None = None
    finished_at: Moment | None = None
    billable: bool = True
    activity: str = Field(default="", max_length=100, examples=["Development"])
    notes: str = Field(default="", max_length=10_000)
    draft: bool = Field(default=False, description="Keep it for review; submit it later.")


class EntryPatch(EntryBody):
    date: dt.date | None = None
    hours: Decimal | None = Field(
        default=None,
        ge=-24,
        le=24,
        max_digits=6,
        decimal_places=4,
        description="A correction's may be negative.",
    )
    minutes: int | None = Field(default=None, ge=-24 * 60, le=24 * 60)
    started_at: Moment | None = None
    finished_at: Moment | None = None
    billable: bool | None = None
    activity: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=10_000)


class Rejection(EntryBody):
    reason: str = Field(min_length=1, max_length=2_000, examples=["Logged on the wrong task"])


class Correction(EntryBody):
    hours: Decimal | None = Field(default=None, ge=-24, le=24, max_digits=6, decimal_places=4)
    minutes: int | None = Field(default=None, ge=-24 * 60, le=24 * 60)
    notes: str = Field(default="", max_length=10_000)


class TimerStop(EntryBody):
    keep_for_review: bool = False
    billable: bool = True
    activity: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=10_000)


def entry_document(entry: TimesheetEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "user_id": entry.user_id,
        "item": entry.item_number,
        "project_id": entry.project_id,
        "date": entry.work_date,
        "minutes": entry.minutes,
        "hours": round(entry.minutes / 60, 4),
        "started_at": entry.started_at,
        "finished_at": entry.finished_at,
        "billable": entry.billable,
        "activity": entry.activity,
        "notes": entry.notes,
        "source": entry.source,
        "state": entry.state,
        "corrects": entry.corrects,
        "version": entry.version,
    }


def answer(
    svc: ServicesDep, response: Response, result: CommandResult, status: int = 200
) -> OrjsonResponse:
    """The entry as this write left it (from the write model, not a view)."""
    written(response, result.position, result.version)
    entry = svc.timesheets.entry_at(result.id, result.version)
    return reply(response, entry_document(entry), status)


WRITE = {200: {"model": EntryOut}, **documented(401, 403, 404, 409, 422)}


@router.post(
    "/timesheets",
    status_code=201,
    summary="Log time",
    responses={201: {"model": EntryOut}, **documented(401, 403, 404, 409, 422)},
)
def log_time(body: EntryCreate, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """Log your own time on an item: a date and a duration (`hours` as a decimal, or
    `minutes`) or a start and finish. Submitted for approval unless `draft`. The first
    time logged on a not-started item moves it to in progress; a task's percent complete
    and actual dates follow its timesheets."""
    cmd = LogTime(
        item=body.item,
        work_date=body.date,
        hours=body.hours,
        minutes=body.minutes,
        started_at=body.started_at,
        finished_at=body.finished_at,
        billable=body.billable,
        activity=body.activity,
        notes=body.notes,
        draft=body.draft,
    )
    result = svc.timesheets.log(cmd, ctx)
    response.headers["Location"] = f"/api/v1/timesheets/{result.id}"
    return answer(svc, response, result, 201)


@router.get(
    "/timesheets/{entry_id:uuid}",
    summary="Read an entry",
    responses={200: {"model": EntryOut}, **documented(401, 404)},
)
def read_entry(entry_id: EntryId, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """An entry of yours, or of a project you manage or lead."""
    entry = svc.timesheets.entry(entry_id, ctx)
    return reply(response, entry_document(entry), ETag=f'"{entry.version}"')


@router.patch("/timesheets/{entry_id:uuid}", summary="Edit an entry", responses=WRITE)
def edit_entry(
    entry_id: EntryId, body: EntryPatch, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Change your entry until it is approved (approved entries are locked: log a
    correction). A new duration replaces a start and finish."""
    changes: dict[str, Any] = {}
    given = body.model_fields_set
    if "date" in given and body.date is not None:
        changes["work_date"] = body.date
    for end in ("started_at", "finished_at"):  # One end alone keeps the other.
        if end in given:
            changes[end] = getattr(body, end)
    for field in ("billable", "activity", "notes"):
        if getattr(body, field) is not None:
            changes[field] = getattr(body, field)
    cmd = EditEntry(entry_id=entry_id, changes=changes, hours=body.hours, minutes=body.minutes)
    result = svc.timesheets.edit(cmd, ctx)
    return answer(svc, response, result)


@router.delete("/timesheets/{entry_id:uuid}", summary="Withdraw an entry", responses=WRITE)
def withdraw_entry(
    entry_id: EntryId, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Withdraw your entry (until it is approved); its time no longer counts."""
    result = svc.timesheets.withdraw(EntryAction(entry_id=entry_id), ctx)
    return answer(svc, response, result)


@router.post("/timesheets/{entry_id:uuid}/submission", summary="Submit a draft", responses=WRITE)
def submit_entry(
    entry_id: EntryId, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Send a draft (or a rejected entry you have edited) to approval."""
    result = svc.timesheets.submit(EntryAction(entry_id=entry_id), ctx)
    return answer(svc, response, result)


@router.post("/timesheets/{entry_id:uuid}/approval", summary="Approve an entry", responses=WRITE)
def approve_entry(
    entry_id: EntryId, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Approve a submitted entry (managers and leads of its project); it is then locked."""
    result = svc.timesheets.approve(EntryAction(entry_id=entry_id), ctx)
    return answer(svc, response, result)


@router.post("/timesheets/{entry_id:uuid}/rejection", summary="Reject an entry", responses=WRITE)
def reject_entry(
    entry_id: EntryId, body: Rejection, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Reject a submitted entry with a reason (managers and leads of its project); its
    time stops counting until it is edited and submitted again."""
    result = svc.timesheets.reject(RejectEntry(entry_id=entry_id, reason=body.reason), ctx)
    return answer(svc, response, result)


@router.post(
    "/timesheets/{entry_id:uuid}/corrections",
    status_code=201,
    summary="Correct an approved entry",
    responses={201: {"model": EntryOut}, **documented(401, 403, 404, 409, 422)},
)
def correct_entry(
    entry_id: EntryId, body: Correction, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A new entry that adjusts an approved one by `hours` or `minutes` (negative to take
    time off); it names the original (`corrects`) and goes to approval."""
    cmd = CorrectEntry(entry_id=entry_id, hours=body.hours, minutes=body.minutes, notes=body.notes)
    result = svc.timesheets.correct(cmd, ctx)
    response.headers["Location"] = f"/api/v1/timesheets/{result.id}"
    return answer(svc, response, result, 201)


class ImportOut(BaseModel):
    rows: int = Field(examples=[120])
    imported: int = Field(examples=[120], description="New entries (0 for a file seen before).")
    import_id: UUID = Field(
        description="The import of this file by you: sending the same file again finds it."
    )


@router.post(
    "/timesheets/import",
    summary="Import timesheets (CSV)",
    responses={200: {"model": ImportOut}, **documented(401, 403, 413, 422, 503)},
)
def import_timesheets(
    file: Annotated[UploadFile, File(description="A CSV file with a header row.")],
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Import entries from CSV. Columns: `item`, `user_email`, `date` (YYYY-MM-DD), `hours`
    (1.5 or 1:30), optional `billable`, `activity`, `notes`. Every problem is reported with
    its row and column, and a file with any bad row imports nothing. Importing the same
    file again creates no duplicates. Your own rows need a role that logs time; other
    people's, manager or lead of the item's project. Large files are written in batches
    that show nowhere until the last one is written; if the server stops meanwhile (503),
    send the same file again to complete the import."""
    content = file.file.read(svc.max_attachment_bytes + 1)
    if len(content) > svc.max_attachment_bytes:
        raise AttachmentTooLargeError(svc.max_attachment_bytes)
    done = svc.timesheets.import_csv(content, ctx)
    written(response, done.imported.position)
    return reply(
        response,
        {
            "rows": done.rows,
            "imported": done.imported.count,
            "import_id": str(done.imported.import_id),
        },
    )


# --- timers ------------------------------------------------------------------------------


class TimerOut(BaseModel):
    item: int
    state: str = Field(examples=["running"])
    seconds: int
    since: str | None


def _timers(svc: ServicesDep, ctx: Ctx) -> list[dict[str, Any]]:
    timers, now = svc.timesheets.timers(ctx)
    if timers is None:
        return []
    return [
        {
            "item": int(number),
            "state": timer["state"],
            "seconds": timers.seconds(int(number), now),
            "since": timer["since"],
        }
        for number, timer in sorted(timers.timers.items(), key=lambda kv: int(kv[0]))
    ]


@router.get(
    "/me/timers",
    summary="Your timers",
    responses={200: {"model": list[TimerOut]}, **documented(401)},
)
def my_timers(svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """Your running and paused timers, with the time on each so far."""
    return reply(response, _timers(svc, ctx))


def _timer_action(
    action: str, number: int, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    result = svc.timesheets.timer(action, TimerCommand(item=number), ctx)
    written(response, result.position)
    return reply(response, _timers(svc, ctx))


TIMER = {200: {"model": list[TimerOut]}, **documented(401, 403, 404, 409, 422)}


@router.post("/items/{number}/timer/start", summary="Start a timer", responses=TIMER)
def start_timer(
    number: ItemNumber, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Start timing your work on the item (resume it, if paused). By default one timer
    runs at a time: the running one is paused. Answers with your timers."""
    return _timer_action("start", number, svc, ctx, response)


@router.post("/items/{number}/timer/pause", summary="Pause a timer", responses=TIMER)
def pause_timer(
    number: ItemNumber, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Pause your running timer on the item."""
    return _timer_action("pause", number, svc, ctx, response)


@router.post("/items/{number}/timer/resume", summary="Resume a timer", responses=TIMER)
def resume_timer(
    number: ItemNumber, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Resume your paused timer on the item (pausing the running one, by default)."""
    return _timer_action("resume", number, svc, ctx, response)


@router.delete("/items/{number}/timer", summary="Discard a timer", responses=TIMER)
def discard_timer(
    number: ItemNumber, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Throw your timer on the item away without logging its time (also the way out of a
    timer you may no longer log time from, e.g. after leaving the project)."""
    return _timer_action("discard", number, svc, ctx, response)


@router.post(
    "/items/{number}/timer/stop",
    status_code=201,
    summary="Stop a timer",
    responses={201: {"model": EntryOut}, **documented(401, 403, 404, 409, 422)},
)
def stop_timer(
    number: ItemNumber,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
    body: TimerStop,
) -> OrjsonResponse:
    """Stop your timer on the item: its time (whole minutes, at least one) becomes a
    timesheet entry dated today, submitted for approval, or a draft with
    `keep_for_review`. Answers with the entry. Send `{}` for the defaults."""
    cmd = StopTimer(item=number, **body.model_dump())
    result = svc.timesheets.timer("stop", cmd, ctx)
    response.headers["Location"] = f"/api/v1/timesheets/{result.id}"
    return answer(svc, response, result, 201)
