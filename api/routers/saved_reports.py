"""Saved reports: a report template and how to run it (grouped by what, per which period,
over which days, for which project), saved and shared like a view
(`/reports/saved`); run by `GET /reports/{report_id}` (`api.routers.report_templates`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from api.routers.saved_views import SHARING
from api.routers.shared_definitions import add_routes
from api.schemas import Body
from api.tags import Tag

router = APIRouter(prefix="/api/v1/reports/saved", tags=[Tag.REPORTS])

DEFINITION = (
    "`template` (a template's key), `group_by` (one the template takes, or null), `period`"
    " (`day`, `week`, `month`), `range` (`{last_days: n}` or `{previous: week | month}`)"
    " and `project_id` (null: every project the reader sees)."
)
EXAMPLE = {
    "template": "tickets",
    "group_by": "priority",
    "period": "week",
    "range": {"previous": "month"},
}


class SavedReportCreate(Body):
    name: str = Field(min_length=1, max_length=120, examples=["Tickets last month"])
    definition: dict[str, Any] = Field(description=DEFINITION, examples=[EXAMPLE])
    sharing: dict[str, Any] | None = Field(default=None, description=SHARING)


class SavedReportPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    definition: dict[str, Any] | None = Field(default=None, description=DEFINITION)
    sharing: dict[str, Any] | None = Field(default=None, description=SHARING)


add_routes(
    router, "report", "saved report", "report_id", SavedReportCreate, SavedReportPatch,
    "a bad template, grouping, period or range",
)  # fmt: skip
