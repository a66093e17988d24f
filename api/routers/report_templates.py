"""Report templates: the catalogue (`GET /reports`) and a template run over a range of days
(`GET /reports/{template}`), as JSON or a CSV, XLSX or PDF attachment (the PDF with the
company's branding, the chart, then the table).

The time report (`/reports/timesheets`) and the SLA compliance report
(`/reports/sla-compliance`) are templates too, with routes of their own (`api.routers.reports`,
`api.routers.sla_views`), matched before the template path; the catalogue lists them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, ProjectScope, ServicesDep, fresh
from api.exports import EXPORT_TYPES, PDF, PdfPage, attachment, brand_of
from api.params import query_date
from api.problems import InvalidParameterError
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from domain.company_settings import AppSwitchedOffError
from domain.errors import NotFoundError
from projections.base import current_tables
from projections.reports.templates import TEMPLATES, ReportRequest
from projections.timesheet_query import DIMENSIONS, EntryScope

router = APIRouter(prefix="/api/v1/reports", tags=[Tag.REPORTS])

MAX_DAYS = 3 * 366
DEFAULT_DAYS = 30
FORMATS = ("json", "csv", "xlsx", "pdf")
READS = sorted({view for t in TEMPLATES.values() for view in t.reads})
# The templates with routes of their own.
OWN_ROUTES: list[dict[str, Any]] = [
    {
        "key": "timesheets",
        "name": "Time",
        "description": "Minutes and hours logged per user, item, project, customer, week or"
        " month (the timesheet report).",
        "path": "/api/v1/reports/timesheets",
        "group_by": list(DIMENSIONS),
        "periods": ["week", "month"],
        "formats": ["json", "csv", "xlsx"],
    },
    {
        "key": "sla-compliance",
        "name": "SLA compliance",
        "description": "SLA targets met and breached per period, policy, priority and metric.",
        "path": "/api/v1/reports/sla-compliance",
        "group_by": [],
        "periods": ["day", "week", "month"],
        "formats": ["json"],
    },
]


class TemplateOut(BaseModel):
    key: str
    name: str
    description: str
    path: str
    group_by: list[str] = Field(description="What `group_by` may name (none: no grouping).")
    periods: list[str]
    formats: list[str]


class Catalogue(BaseModel):
    templates: list[TemplateOut]


class ReportChart(BaseModel):
    model_config = ConfigDict(extra="allow")

    chart: str
    labels: list[str]
    series: list[dict[str, Any]]


class TemplateReport(BaseModel):
    template: str
    title: str
    range: dict[str, str] = Field(description="`from` and `to`, the days covered (inclusive).")
    period: str | None
    group_by: str | None
    columns: list[str]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    chart: ReportChart


class TemplateNotFoundError(NotFoundError):
    def __init__(self, key: str) -> None:
        known = ", ".join([*TEMPLATES, *(t["key"] for t in OWN_ROUTES)])
        super().__init__(f"no report template {key!r}; the templates are {known}")


@router.get(
    "",
    summary="Report templates",
    responses={200: {"model": Catalogue}, **documented(401)},
)
def catalogue(user: CurrentUser, response: Response) -> OrjsonResponse:
    """Every report template: what it shows, its path, and what it may be grouped by."""
    templates = [
        {
            "key": t.key,
            "name": t.name,
            "description": t.description,
            "path": f"/api/v1/reports/{t.key}",
            "group_by": list(t.group_by),
            "periods": ["day", "week", "month"] if t.uses_period else [],
            "formats": list(FORMATS),
        }
        for t in TEMPLATES.values()
    ]
    return reply(response, {"templates": [*templates, *OWN_ROUTES]})


@router.get(
    "/{template}",
    summary="Run a report template",
    responses={
        200: {
            "model": TemplateReport,
            "content": {**EXPORT_TYPES, PDF: {}},
            "description": "The report as JSON, or a CSV, XLSX or PDF attachment (`format`).",
        },
        **documented(401, 403, 404, 422),
    },
    dependencies=[Depends(fresh("access", *READS))],
)
def run_template(
    template: Annotated[str, Path(max_length=60, description="A template's key.")],
    svc: ServicesDep,
    user: CurrentUser,
    scope: ProjectScope,
    response: Response,
    since: Annotated[
        str | None,
        Query(alias="from", description="First day (YYYY-MM-DD); default: 29 days before `to`."),
    ] = None,
    until: Annotated[
        str | None, Query(alias="to", description="Last day, inclusive; default: today (UTC).")
    ] = None,
    period: Annotated[Literal["day", "week", "month"], Query()] = "week",
    group_by: Annotated[str | None, Query(max_length=40)] = None,
    output: Annotated[Literal["json", "csv", "xlsx", "pdf"], Query(alias="format")] = "json",
) -> Any:
    """The template's report over the days asked, for you: only the items, SLA targets
    and time entries you may see. Days are UTC days; weeks start on Monday."""
    found = TEMPLATES.get(template)
    if found is None:
        raise TemplateNotFoundError(template)
    switches = svc.company.current()
    if "sla" in found.reads and not switches["features"]["sla"]:
        raise AppSwitchedOffError("SLA feature")
    today = datetime.now(UTC).date()
    last = query_date("to", until) or today
    first = query_date("from", since) or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise InvalidParameterError("query", "to", "`to` is before `from`")
    if (last - first).days >= MAX_DAYS:
        raise InvalidParameterError("query", "from", f"at most {MAX_DAYS} days at a time")
    if group_by is not None and group_by not in found.group_by:
        choices = ", ".join(found.group_by) or "nothing"
        raise InvalidParameterError(
            "query", "group_by", f"{template} can be grouped by {choices}, not {group_by!r}"
        )
    request = ReportRequest(
        since=first,
        until=last,
        period=period,
        group_by=group_by,
        projects=None if scope.all_projects else scope.project_ids,
        kinds=scope.kinds,
        entries=EntryScope.of(str(user.id), scope),
        today=today,
        timesheets=switches["apps"]["timesheets"],
    )
    with svc.views.read() as tx:
        tables: dict[str, Any] = {}

        def of(view: str) -> Any:
            if view not in tables:
                tables[view] = current_tables(tx, view)
            return tables[view]

        made = found.run(tx, of, request)
    shown_period = period if found.uses_period else None
    if output != "json":
        asked = f"{first} to {last}" + (f", per {period}" if shown_period else "")
        asked += f", by {group_by}" if group_by else ""
        page = PdfPage(brand_of(svc), found.name, f"{asked} · by {user.email}")
        name = f"{template}-{first}-{last}"
        return attachment(
            response, name, output, made.columns, iter([made.rows]), page, chart=made.chart
        )
    return reply(
        response,
        {
            "template": template,
            "title": found.name,
            "range": {"from": first.isoformat(), "to": last.isoformat()},
            "period": shown_period,
            "group_by": group_by,
            "columns": made.columns,
            "rows": made.rows,
            "totals": made.totals,
            "chart": made.chart,
        },
    )
