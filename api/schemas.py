"""Request bodies and documented response shapes of the API."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.values import Priority, State


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketCreate(Body):
    title: str = Field(min_length=1, max_length=500, examples=["Printer on floor 3 is jammed"])
    description: str = Field(default="", max_length=200_000)
    priority: Priority = Priority.NORMAL
    requester_email: str | None = Field(default=None, max_length=320, examples=["ada@example.com"])


class TicketPatch(Body):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=200_000)
    priority: Priority | None = None
    status: str | None = Field(
        default=None, min_length=1, max_length=100, examples=["Waiting on customer"]
    )


class MessageCreate(Body):
    body: str = Field(min_length=1, max_length=200_000, examples=["We are on it."])
    visibility: Literal["customer", "internal"] = Field(examples=["customer"])
    in_reply_to: UUID | None = None


class UserCreate(Body):
    email: str = Field(max_length=320, examples=["grace@example.com"])
    name: str = Field(max_length=200, examples=["Grace Hopper"])
    is_admin: bool = False


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
    sha256: str
    author: str
    created_at: str


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
    channel: str
    assignees: list[UUID]
    followers: list[UUID]
    messages: list[MessageOut]
    attachments: list[AttachmentOut]
    version: int
    created_at: str
    created_by: str
    updated_at: str


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
    title: str
    status: str
    state: State
    priority: Priority
    requester_email: str | None
    assignees: list[UUID]
    created_at: str
    updated_at: str


class FlatPage(BaseModel):
    items: list[FlatItem]
    next_cursor: str | None


class UserOut(BaseModel):
    id: UUID
    email: str
    name: str
    is_admin: bool


class Health(BaseModel):
    status: Literal["ok"]


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=["/problems/not-found"])
    title: str
    status: int
    detail: str
    instance: str | None = None
