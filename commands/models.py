"""Command models: what a caller asks the write side to do (imperative, frozen)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from domain.user import Apps, CompanyRole, Flag, Scope
from domain.values import Actor, Channel, Priority


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Context(BaseModel):
    """Who asks, and the correlation id that ties their events together."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    actor: Actor
    correlation_id: str


class CommandResult(BaseModel):
    """What every command returns: the aggregate, its version and the log position."""

    model_config = ConfigDict(frozen=True)
    id: UUID
    number: int | None
    version: int
    position: int


class OpenTicket(Command):
    title: str = Field(min_length=1, max_length=500)
    project_id: UUID | None = None
    folder_id: UUID | None = None
    description: str = Field(default="", max_length=200_000)
    priority: Priority = Priority.NORMAL
    requester_email: str | None = Field(default=None, max_length=320)
    channel: Channel = Channel.API
    item_type: str | None = Field(default=None, max_length=40)
    fields: dict[str, str] = Field(default_factory=dict, max_length=30)


class MoveTicket(Command):
    project_id: UUID
    folder_id: UUID | None = None


class RetitleTicket(Command):
    title: str = Field(min_length=1, max_length=500)


class EditTicketDescription(Command):
    description: str = Field(max_length=200_000)


class ReprioritiseTicket(Command):
    priority: Priority


class ChangeTicketStatus(Command):
    status: str = Field(min_length=1, max_length=100)


class AssignUser(Command):
    user_id: UUID


class UnassignUser(Command):
    user_id: UUID


class AssignTeam(Command):
    team_id: UUID | None


class AddFollower(Command):
    user_id: UUID


class RemoveFollower(Command):
    user_id: UUID


class PostMessage(Command):
    message_id: UUID
    body: str = Field(min_length=1, max_length=200_000)
    visibility: str = Field(pattern="^(customer|internal)$")
    in_reply_to: UUID | None = None


class AddAttachment(Command):
    attachment_id: UUID
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    media_type: str = Field(min_length=1, max_length=255)
    visibility: str = Field(default="internal", pattern="^(customer|internal)$")


class RegisterUser(Command):
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    role: CompanyRole = CompanyRole.MEMBER
    apps: Apps = Apps.BOTH
    flags: list[Flag] = Field(default_factory=list)
    password: SecretStr | None = Field(default=None, min_length=10, max_length=1024)


class InviteUser(Command):
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    role: CompanyRole = CompanyRole.MEMBER
    apps: Apps = Apps.BOTH
    flags: list[Flag] = Field(default_factory=list)


class AcceptInvitation(Command):
    token: SecretStr = Field(min_length=1, max_length=500)
    password: SecretStr = Field(min_length=10, max_length=1024)


class LogIn(Command):
    email: str = Field(max_length=320)
    password: SecretStr = Field(min_length=1, max_length=1024)


class ChangePassword(Command):
    user_id: UUID
    current_password: SecretStr = Field(min_length=1, max_length=1024)
    new_password: SecretStr = Field(min_length=10, max_length=1024)
    keep_session: str | None = None


class ChangeUser(Command):
    """Admin (or, for the name, the user themselves) changes a staff user."""

    user_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: CompanyRole | None = None
    apps: Apps | None = None
    flags: list[Flag] | None = None
    active: bool | None = None


class IssueToken(Command):
    email: str = Field(max_length=320)
    label: str = Field(default="", max_length=200)
    scopes: list[Scope] = Field(default_factory=list)
    expires_at: datetime | None = None
    # The id of the token making the request, which bounds the new one (none: the CLI).
    minted_with: str | None = None


class RevokeToken(Command):
    user_id: UUID
    token_id: str = Field(min_length=1, max_length=64)


class RecurrenceRule(Command):
    """An RFC 5545 subset: every `interval` days/weeks/months/years from `starts`."""

    frequency: str = Field(pattern="^(daily|weekly|monthly|yearly)$")
    starts: date | None = None
    interval: int = Field(default=1, ge=1, le=1000)
    weekdays: list[str] = Field(default_factory=list, max_length=7)
    month_days: list[int] = Field(default_factory=list, max_length=31)
    count: int | None = Field(default=None, ge=1, le=10_000)
    until: date | None = None


class OpenTask(Command):
    title: str = Field(min_length=1, max_length=500)
    project_id: UUID | None = None
    folder_id: UUID | None = None
    parent: int | None = Field(default=None, ge=1)
    description: str = Field(default="", max_length=200_000)
    priority: Priority = Priority.NORMAL
    requester_email: str | None = Field(default=None, max_length=320)
    start: date | None = None
    finish: date | None = None
    duration_days: int | None = Field(default=None, ge=0, le=100_000)
    work_hours: float | None = Field(default=None, ge=0)
    points: float | None = Field(default=None, ge=0)
    milestone: bool = False
    constraint: str | None = None
    constraint_on: date | None = None
    recurrence: RecurrenceRule | None = None


class PlanTask(Command):
    """Change the planned dates: what is not given stays (a new start keeps the duration;
    a new finish or duration keeps the start); a start of None unschedules the task."""

    start: date | None = None
    finish: date | None = None
    duration_days: int | None = Field(default=None, ge=0, le=100_000)


class RescheduleTask(Command):
    """What dragging a Gantt bar does: records the matching constraint."""

    start: date
    finish: date | None = None


class SetConstraint(Command):
    constraint: str
    constraint_on: date | None = None


class EstimateWork(Command):
    work_hours: float | None = Field(ge=0)


class EstimatePoints(Command):
    points: float | None = Field(ge=0)


class SetProgress(Command):
    percent_complete: int = Field(ge=0, le=100)


class RecordActuals(Command):
    actual_start: date | None
    actual_finish: date | None = None


class MarkMilestone(Command):
    milestone: bool


class SetParent(Command):
    parent: int | None = Field(ge=1)


class AddDependency(Command):
    predecessor: int = Field(ge=1)
    kind: str = "finish_to_start"
    lag_days: int = Field(default=0, ge=-10_000, le=10_000)


class RemoveDependency(Command):
    predecessor: int = Field(ge=1)


class SetRecurrence(Command):
    rule: RecurrenceRule


class StopRecurrence(Command):
    pass


TicketCommand = (
    MoveTicket
    | RetitleTicket
    | EditTicketDescription
    | ReprioritiseTicket
    | ChangeTicketStatus
    | AssignUser
    | UnassignUser
    | AssignTeam
    | AddFollower
    | RemoveFollower
    | PostMessage
    | AddAttachment
)

TaskCommand = (
    TicketCommand
    | PlanTask
    | RescheduleTask
    | SetConstraint
    | EstimateWork
    | EstimatePoints
    | SetProgress
    | RecordActuals
    | MarkMilestone
    | SetParent
    | AddDependency
    | RemoveDependency
    | SetRecurrence
    | StopRecurrence
)
