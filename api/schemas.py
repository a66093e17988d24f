"""Request bodies and documented response shapes of the API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.json_types import accepts, field_types, json_type
from domain.errors import InvalidValueError
from domain.item_numbers import MAX_ITEM_NUMBER
from domain.values import Priority, State


class Body(BaseModel):
    """A request body: no unknown members, and every value of the JSON type its schema says."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _of_its_json_type(cls, value: Any, info: ValidationInfo) -> Any:
        types = field_types(cls).get(info.field_name or "")
        if types is not None and not accepts(types, value):
            wanted = " or ".join(sorted(types))
            raise ValueError(f"expected {wanted}, not {json_type(value)}")
        return value

    def given(self, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The members the request set; null only for those in `nullable` (any other null
        is an InvalidValueError naming it)."""
        found = self.model_dump(exclude_unset=True)
        for key, value in found.items():
            if value is None and key not in nullable:
                raise InvalidValueError(key, f"{key} may not be null")
        return found


class TicketCreate(Body):
    title: str = Field(min_length=1, max_length=500, examples=["Printer on floor 3 is jammed"])
    project_id: UUID | None = Field(default=None, description="Default: the Inbox.")
    folder_id: UUID | None = Field(default=None, description="A folder of that project.")
    description: str = Field(default="", max_length=200_000)
    priority: Priority = Priority.NORMAL
    requester_email: str | None = Field(default=None, max_length=320, examples=["ada@example.com"])
    item_type: str | None = Field(
        default=None,
        max_length=40,
        description="An item type of tickets (`GET /api/v1/item-types`); default `ticket`."
        " Without `project_id`, the ticket goes where its type puts its items.",
        examples=["bug_report"],
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        max_length=30,
        description="Values of the type's custom fields, by key (none is required of staff).",
    )


class TicketPatch(Body):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    project_id: UUID | None = Field(
        default=None, description="Move to this project (with `folder_id`, or to its top)."
    )
    folder_id: UUID | None = Field(default=None, description="Move to this folder.")
    description: str | None = Field(default=None, max_length=200_000)
    priority: Priority | None = None
    status: str | None = Field(
        default=None, min_length=1, max_length=100, examples=["Waiting on customer"]
    )


class RecurrenceIn(Body):
    frequency: Literal["daily", "weekly", "monthly", "yearly"] = Field(examples=["weekly"])
    starts: date | None = Field(default=None, description="Default: the task's start.")
    interval: int = Field(default=1, ge=1, le=1000, description="Every n days/weeks/...")
    weekdays: list[Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]] = Field(
        default_factory=list, examples=[["MO", "TH"]]
    )
    month_days: list[int] = Field(default_factory=list, examples=[[1, 15, -1]])
    count: int | None = Field(default=None, ge=1, le=10_000, description="How many in all.")
    until: date | None = Field(default=None, description="The last day an occurrence may be.")


class TaskCreate(Body):
    title: str = Field(min_length=1, max_length=500, examples=["Replace the printer fuser"])
    project_id: UUID | None = Field(default=None, description="Default: the Inbox.")
    folder_id: UUID | None = Field(default=None, description="A folder of that project.")
    parent: int | None = Field(
        default=None, ge=1, le=MAX_ITEM_NUMBER, description="Make it a subtask of this task."
    )
    description: str = Field(default="", max_length=200_000)
    priority: Priority = Priority.NORMAL
    requester_email: str | None = Field(default=None, max_length=320)
    start: date | None = Field(default=None, examples=["2026-12-01"])
    finish: date | None = Field(default=None, examples=["2026-12-04"])
    duration_days: int | None = Field(
        default=None, ge=0, le=100_000, description="Working days (Mon-Fri)."
    )
    work_hours: float | None = Field(default=None, ge=0)
    points: float | None = Field(default=None, ge=0, description="Agile points.")
    milestone: bool = False
    constraint: str | None = Field(
        default=None, examples=["must_start_on"], description="Default: as_soon_as_possible."
    )
    constraint_on: date | None = None
    recurrence: RecurrenceIn | None = None


class TaskPatch(Body):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    project_id: UUID | None = None
    folder_id: UUID | None = None
    description: str | None = Field(default=None, max_length=200_000)
    priority: Priority | None = None
    status: str | None = Field(default=None, min_length=1, max_length=100, examples=["Done"])
    start: date | None = None
    finish: date | None = None
    duration_days: int | None = Field(default=None, ge=0, le=100_000)
    constraint: str | None = None
    constraint_on: date | None = None
    work_hours: float | None = Field(default=None, ge=0)
    points: float | None = Field(default=None, ge=0)
    percent_complete: int | None = Field(default=None, ge=0, le=100)
    actual_start: date | None = None
    actual_finish: date | None = None
    milestone: bool | None = None
    parent: int | None = Field(
        default=None, ge=0, le=MAX_ITEM_NUMBER, description="0 takes it out of its parent."
    )


class DependencyCreate(Body):
    predecessor: int = Field(ge=1, le=MAX_ITEM_NUMBER, examples=[1041])
    kind: Literal["finish_to_start", "start_to_start", "finish_to_finish", "start_to_finish"] = (
        "finish_to_start"
    )
    lag_days: int = Field(default=0, ge=-10_000, le=10_000, description="Working days.")


class Reschedule(Body):
    start: date = Field(examples=["2026-12-07"])
    finish: date | None = Field(default=None, description="Default: keep the duration.")


class CloneAsRecurring(Body):
    recurrence: RecurrenceIn


class MessageCreate(Body):
    body: str = Field(min_length=1, max_length=200_000, examples=["We are on it."])
    visibility: Literal["customer", "internal"] = Field(examples=["customer"])
    in_reply_to: UUID | None = None


class ReadOut(BaseModel):
    read: int = Field(description="How many messages were new to you.", examples=[2])


class MessageOut(BaseModel):
    id: UUID
    visibility: Literal["customer", "internal"]
    author: str = Field(examples=["user:8f3e845d-5239-53a9-bf6a-2b41f6b63879"])
    body: str
    created_at: str = Field(examples=["2026-11-22T20:56:27.962732Z"])
    in_reply_to: UUID | None


class AttachmentOut(BaseModel):
    id: UUID
    name: str
    size: int
    media_type: str
    visibility: Literal["customer", "internal"]
    sha256: str
    author: str
    created_at: str


class SlaPolicyRef(BaseModel):
    id: UUID
    name: str


class ItemSlaSummary(BaseModel):
    policy: SlaPolicyRef | None = Field(description="The SLA policy the item is held to.")
    state: Literal["on_track", "warning", "breached", "met"] | None = Field(
        description="The worst state of its targets."
    )
    next_due: str | None = Field(description="The next warning or due time.")
    due: str | None = Field(
        description="The earliest due time of a target still owed, a breached one's included."
    )


SLA_FIELD = Field(
    default=None,
    description="Its SLA in brief, as last recorded (on reads; a write's answer leaves it out,"
    " as the SLA is measured after the write). `GET /api/v1/items/{number}/sla` has each"
    " target.",
)


class TicketOut(BaseModel):
    id: UUID
    kind: Literal["ticket"]
    number: int = Field(examples=[1042])
    title: str
    description: str
    status: str = Field(examples=["New"])
    state: State
    priority: Priority
    requester_email: str | None
    channel: str = Field(examples=["webform"])
    item_type: str = Field(examples=["ticket"])
    fields: dict[str, str] = Field(description="The type's custom fields filled in, by key.")
    project_id: UUID
    folder_id: UUID | None
    team_id: UUID | None
    assignees: list[UUID]
    followers: list[UUID]
    messages: list[MessageOut]
    attachments: list[AttachmentOut]
    version: int
    created_at: str
    created_by: str
    updated_at: str
    reported_at: str | None = Field(
        default=None,
        description="When it was first reported in the system it was imported from (null:"
        " created here, at `created_at`).",
    )
    sla: ItemSlaSummary | None = SLA_FIELD


class LinkOut(BaseModel):
    number: int
    kind: str
    lag_days: int


class TaskOut(BaseModel):
    id: UUID
    kind: Literal["task"]
    number: int = Field(examples=[1043])
    title: str
    description: str
    status: str = Field(examples=["Not started"])
    state: State
    priority: Priority
    requester_email: str | None
    project_id: UUID
    folder_id: UUID | None
    team_id: UUID | None
    assignees: list[UUID]
    followers: list[UUID]
    messages: list[MessageOut]
    attachments: list[AttachmentOut]
    converted_from_ticket: int | None
    planned: dict[str, object] = Field(
        examples=[{"start": "2026-12-01", "finish": "2026-12-04", "duration_days": 4}]
    )
    actual: dict[str, object]
    constraint: dict[str, object] = Field(examples=[{"kind": "as_soon_as_possible", "on": None}])
    work_hours: float | None
    points: float | None
    percent_complete: int
    milestone: bool
    parent: int | None
    subtasks: list[int]
    predecessors: list[LinkOut]
    successors: list[LinkOut]
    recurrence: dict[str, object] | None
    series: int | None
    occurrence_date: str | None
    version: int
    created_at: str
    created_by: str
    updated_at: str
    reported_at: str | None = Field(
        default=None,
        description="When it was first reported in the system it was imported from (null:"
        " created here, at `created_at`).",
    )
    sla: ItemSlaSummary | None = SLA_FIELD


class HistoryEntry(BaseModel):
    position: int
    type: str = Field(examples=["Ticket.Retitled"])
    occurred_at: str
    actor: str
    correlation_id: str
    changes: dict[str, object] = Field(examples=[{"title": "New title"}])


class FlatItem(BaseModel):
    id: UUID
    number: int
    kind: str
    item_type: str = Field(description="`task` for every task; a ticket's item type.")
    title: str
    status: str
    state: State
    priority: Priority
    requester_email: str | None
    assignees: list[UUID]
    project_id: UUID
    folder_id: UUID | None
    team_id: UUID | None
    converted_from_ticket: int | None = Field(
        default=None, description="The ticket number this task was converted from."
    )
    created_at: str
    updated_at: str
    sla_state: Literal["on_track", "warning", "breached", "met"] | None = Field(
        default=None,
        description="The worst state of its SLA targets (null: held to no policy, or one"
        " that sets no target for its priority).",
    )
    sla_due: str | None = Field(
        default=None,
        description="The earliest due time of an SLA target still owed, a breached one's"
        " included (null: none owed, or paused).",
    )
    sla_policy_id: UUID | None = Field(
        default=None, description="The SLA policy the item is held to."
    )


class FlatPage(BaseModel):
    items: list[FlatItem]
    next_cursor: str | None
    as_of: str | None = Field(
        default=None, description="With `as_of` (the flat view only): the moment read."
    )


class FailedView(BaseModel):
    view: str = Field(examples=["flat"])
    generation: int
    position: int = Field(
        description="Where the view is stuck: it shows every event up to this log position,"
        " and cannot apply the next one it reads."
    )
    error: str | None = Field(
        default=None,
        examples=["KeyError: 'title'"],
        description="Shown to admins only (send an admin's token).",
    )
    first_failed_at: str = Field(examples=["2026-11-22T20:56:27.962732Z"])
    last_failed_at: str
    attempts: int = Field(description="Tries at this position so far; retried, backing off.")


class BehindView(BaseModel):
    view: str = Field(examples=["flat"])
    position: int
    head: int


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="`degraded`: the API serves, but the views in `failed_views` have stopped"
        " following the log (they show what they had)."
    )
    failed_views: list[FailedView] = Field(
        default_factory=list, description="Present when degraded: each view that has failed."
    )
    behind_views: list[BehindView] = Field(
        default_factory=list,
        description="Views that did not reach, within 10 s, a position the log had: no runner"
        " follows them, or it cannot keep up.",
    )


class Liveness(BaseModel):
    status: Literal["ok"] = Field(description="Always `ok`: the process answers.")


class LaggingView(BaseModel):
    view: str = Field(examples=["flat"])
    position: int
    head: int
    lag: int = Field(description="Events of the log the view has not applied yet.")


class Readiness(BaseModel):
    status: Literal["ready", "not ready"] = Field(
        description="`ready` (200): send traffic here. `not ready` (503): `problems` says why."
    )
    checks: dict[str, str] = Field(
        examples=[{"database": "ok", "broker": "not configured", "views": "ok"}],
        description="Each check: `database` (the event store and the views answer), `broker`"
        " (answers, when LEDGERDESK_BROKER_URL is set; else `not configured`), `views` (none"
        " has failed, none lags the log by more than LEDGERDESK_READY_MAX_VIEW_LAG events):"
        " `ok` or `failed` (`views`: `unknown` while the database does not answer).",
    )
    problems: list[str] = Field(
        default_factory=list,
        examples=[["view flat has failed at position 1204"]],
        description="What is wrong, one sentence each; empty when ready.",
    )
    failed_views: list[str] = Field(default_factory=list)
    lagging_views: list[LaggingView] = Field(default_factory=list)


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=["/problems/not-found"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    # Extension members, each present only on the problems that name it.
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Each problem of an invalid request: `location`, `message`."
    )
    current_version: int | None = Field(default=None, description="On 412: the version now.")
    task_number: int | None = Field(
        default=None, description="On a converted ticket: the task it became."
    )
    import_id: str | None = Field(default=None, description="On an interrupted import.")
    limit: int | None = Field(default=None, description="On 413: the limit, in bytes.")
