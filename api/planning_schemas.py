"""Documented shapes of the planning views (Gantt, status board, calendar)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import Body
from domain.item_numbers import MAX_ITEM_NUMBER


class Span(BaseModel):
    start: date | None
    finish: date | None


class GanttTask(BaseModel):
    number: int = Field(examples=[1042])
    parent: int | None
    title: str = Field(examples=["Pour the foundations"])
    status: str = Field(examples=["In progress"])
    state: str
    planned: Span
    duration_days: int | None = Field(
        description="Working days of the project's calendar (by default Monday to Friday)."
    )
    actual: Span
    milestone: bool
    percent_complete: int
    points: float | None
    work_hours: float | None
    constraint: dict[str, str | None] = Field(examples=[{"kind": "as_soon_as_possible"}])
    assignees: list[str]
    converted_from_ticket: int | None
    critical: bool = Field(description="On the critical path (no slack).")
    slack_days: int | None = Field(description="Total slack in working days; None if undated.")
    updated_at: str


class GanttDependency(BaseModel):
    predecessor: int
    successor: int
    kind: str = Field(examples=["finish_to_start"])
    lag_days: int


class GanttOut(BaseModel):
    project_id: str
    as_of: datetime | None
    tasks: list[GanttTask]
    dependencies: list[GanttDependency]
    critical_path: list[int] = Field(description="Critical tasks by scheduled start.")
    finish: date | None = Field(description="When the scheduled plan finishes.")


class Card(BaseModel):
    number: int = Field(examples=[1042])
    kind: Literal["ticket", "task"]
    title: str
    status: str
    state: str
    priority: str
    points: float | None
    assignees: list[str]


class Column(BaseModel):
    status: str = Field(examples=["In progress"])
    state: str
    count: int = Field(description="Cards in this column.")
    cards: list[Card]
    next_cursor: str | None = Field(description="Pass as `cursor` for this column's next cards.")


class BoardOut(BaseModel):
    project_id: str
    kind: Literal["ticket", "task"]
    columns: list[Column]
    as_of: str | None = Field(default=None, description="With `as_of`: the moment read.")


class CardMove(Body):
    number: int = Field(ge=1, le=MAX_ITEM_NUMBER, examples=[1042])
    status: str = Field(min_length=1, max_length=100, examples=["In progress"])


class CalendarDay(BaseModel):
    date: date
    working_day: bool


class CalendarItem(BaseModel):
    kind: Literal["task", "ticket"]
    number: int
    title: str
    project_id: str
    planned: Span
    actual: Span
    milestone: bool


class CalendarOut(BaseModel):
    month: str = Field(examples=["2026-12"])
    days: list[CalendarDay]
    items: list[CalendarItem]
    next_cursor: str | None
