"""Documented shapes of the timesheet list and the time reports."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TimesheetRow(BaseModel):
    id: str
    user_id: str
    user_name: str | None
    item: int = Field(examples=[1042], description="The item the time was logged on.")
    reported_item: int = Field(
        examples=[1057],
        description="The item the time is reported under: the task a ticket became, or `item`.",
    )
    item_kind: str | None = Field(examples=["task"])
    item_title: str | None
    project_id: str = Field(description="The item's project when the time was logged.")
    project_name: str | None
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
    rejection_reason: str | None
    corrects: str | None
    created_at: str
    updated_at: str
    version: int


class TimesheetPage(BaseModel):
    items: list[TimesheetRow]
    next_cursor: str | None


class ReportTotals(BaseModel):
    entries: int
    minutes: int = Field(examples=[570])
    hours: float = Field(examples=[9.5], description="Minutes / 60, to two decimals.")
    billable_minutes: int
    billable_hours: float
    non_billable_minutes: int
    non_billable_hours: float
    draft_minutes: int
    draft_hours: float
    submitted_minutes: int
    submitted_hours: float
    approved_minutes: int
    approved_hours: float
    rejected_minutes: int
    rejected_hours: float


class ReportGroup(ReportTotals):
    """One group: the key (and labels) of each grouping asked for, then its totals."""

    user_id: str | None = None
    user_name: str | None = None
    item_number: int | None = Field(default=None, description="A converted ticket's time is here.")
    item_kind: str | None = None
    item_title: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    customer_id: str | None = Field(default=None, description="null: in no customer folder.")
    customer_name: str | None = None
    week: str | None = Field(default=None, examples=["2026-W49"], description="ISO week.")
    week_start: str | None = Field(default=None, examples=["2026-11-30"], description="Monday.")
    month: str | None = Field(default=None, examples=["2026-12"])


class ReportOut(BaseModel):
    group_by: list[str] = Field(examples=[["user", "month"]])
    filters: dict[str, str | bool | None] = Field(
        examples=[{"from": "2026-01-01", "to": "2026-12-31", "state": None, "billable": None}]
    )
    groups: list[ReportGroup]
    totals: ReportTotals = Field(
        description="Every entry counted once (a by-customer report can add up to more)."
    )
    next_cursor: str | None
