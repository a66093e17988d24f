"""Report templates: the catalogue of templates and saved reports (`GET /reports`) and a
template or saved report run over a range of days (`GET /reports/{template}`), as JSON or
a CSV, XLSX or PDF attachment (the PDF with the company's branding, the chart, then the
table). Saved reports are saved and shared at `/reports/saved` (`api.routers.saved_reports`).

The time report (`/reports/timesheets`) and the SLA compliance report
(`/reports/sla-compliance`) are templates too, with routes of their own (`api.routers.reports`,
`api.routers.sla_views`), matched before the template path; the catalogue lists them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, ProjectScope, ServicesDep, fresh
from api.exports import EXPORT_TYPES, PDF, PdfPage, attachment, brand_of
from api.params import query_date
from api.problems import InvalidParameterError
from api.responses import OrjsonResponse, documented, reply
from api.routers.saved_views import SavedViewOut, visible_saved
from api.tags import Tag
from domain.company_settings import AppSwitchedOffError
from domain.errors import InvalidValueError, NotFoundError
from domain.views.custom_report import DATASETS, checked_custom
from domain.views.report import MAX_DAYS, days_asked
from projections.base import current_tables
from projections.reports.run import Asked, template_report
from projections.reports.templates import TEMPLATES, Template
from projections.timesheet_query import DIMENSIONS
from projections.views.saved import list_saved_views, teams_of

router = APIRouter(prefix="/api/v1/reports", tags=[Tag.REPORTS])

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
        "periods": [],  # (weeks and months are groupings there)
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
    datasets: dict[str, dict[str, list[str]]] | None = Field(
        default=None,
        description="The custom report's: each data set's dimensions and measures.",
    )


class SavedReportOut(SavedViewOut):
    path: str = Field(description="Where it runs: `/api/v1/reports/{id}`.")


class Catalogue(BaseModel):
    templates: list[TemplateOut]
    saved: list[SavedReportOut] = Field(description="The saved reports you may see, by name.")


class ReportChart(BaseModel):
    model_config = ConfigDict(extra="allow")

    chart: str
    labels: list[str]
    series: list[dict[str, Any]]


class TemplateReport(BaseModel):
    template: str
    report: dict[str, Any] | None = Field(description="The saved report run (`id`, `name`).")
    title: str
    range: dict[str, str] = Field(description="`from` and `to`, the days covered (inclusive).")
    period: str | None
    group_by: str | None
    columns: list[str]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    chart: ReportChart


def _days(
    since: str | None, until: str | None, defined: dict[str, Any], today: date
) -> tuple[date, date]:
    """The days asked (`domain.views.report.days_asked`); 422 naming what is wrong."""
    first, last = days_asked(query_date("from", since), query_date("to", until), defined, today)
    if last < first:
        raise InvalidParameterError("query", "to", "`to` is before `from`")
    if (last - first).days >= MAX_DAYS:
        raise InvalidParameterError("query", "from", f"at most {MAX_DAYS} days at a time")
    return first, last


class TemplateNotFoundError(NotFoundError):
    def __init__(self, key: str) -> None:
        known = ", ".join([*TEMPLATES, *(t["key"] for t in OWN_ROUTES)])
        super().__init__(f"no report template {key!r}; the templates are {known}")


@router.get(
    "",
    summary="Report templates and saved reports",
    responses={200: {"model": Catalogue}, **documented(401)},
    dependencies=[Depends(fresh("saved_views", "teams"))],
)
def catalogue(svc: ServicesDep, user: CurrentUser, response: Response) -> OrjsonResponse:
    """Every report template (what it shows, its path, what it may be grouped by) and the
    saved reports you may see (each run at `/api/v1/reports/{id}`)."""
    templates = [
        {
            "key": t.key,
            "name": t.name,
            "description": t.description,
            "path": f"/api/v1/reports/{t.key}",
            "group_by": list(t.group_by),
            "periods": ["day", "week", "month"] if t.uses_period else [],
            "formats": list(FORMATS),
            **({"datasets": DATASETS} if t.key == "custom" else {}),
        }
        for t in TEMPLATES.values()
    ]
    with svc.views.read() as tx:
        teams = teams_of(tx, current_tables(tx, "teams"), str(user.id))
        saved = list_saved_views(
            tx, current_tables(tx, "saved_views"), str(user.id), teams, "report"
        )
    # A switched-off app's or feature's reports are not offered (they answer 404).
    switches = svc.company.current()
    hidden = set() if switches["features"]["sla"] else {"response-times", "sla-compliance"}
    hidden |= set() if switches["apps"]["timesheets"] else {"timesheets"}
    offered = [t for t in [*templates, *OWN_ROUTES] if t["key"] not in hidden]
    listed = [
        {**report, "path": f"/api/v1/reports/{report['id']}"}
        for report in saved
        if report["definition"]["template"] not in hidden
    ]
    return reply(response, {"templates": offered, "saved": listed})


def _template(svc: ServicesDep, user_id: str, key: str) -> tuple[Template, dict[str, Any] | None]:
    """The template `key` names, or a saved report's (the id of one the caller may see)
    with the report."""
    found = TEMPLATES.get(key)
    if found is not None:
        return found, None
    try:
        report_id = UUID(key)
    except ValueError:
        raise TemplateNotFoundError(key) from None
    saved = visible_saved(svc, user_id, report_id, "report")
    return TEMPLATES[saved["definition"]["template"]], saved


def _custom(
    found: Template, saved: dict[str, Any] | None, given: dict[str, str]
) -> dict[str, Any] | None:
    """A custom report's definition: the saved one, with what the query gives instead;
    422 naming the parameter that is wrong (only the custom template takes them)."""
    if found.key != "custom":
        if given:
            name = sorted(given)[0]
            raise InvalidParameterError("query", name, f"only the custom report takes {name}")
        return None
    if not given and saved is None:
        raise InvalidParameterError(
            "query", "dataset", "a custom report needs a dataset, dimensions and measures"
        )
    # Another data set than the saved one's: none of its dimensions, measures or filters.
    base = saved if saved and given.get("dataset", saved["dataset"]) == saved["dataset"] else {}
    custom: dict[str, Any] = {**base, **given}
    if "filters" in given:
        try:
            custom["filters"] = orjson.loads(given["filters"]) if given["filters"] else []
        except orjson.JSONDecodeError:
            raise InvalidParameterError("query", "filters", "filters is JSON") from None
    try:
        return checked_custom(custom)
    except InvalidValueError as bad:
        name = bad.field.removeprefix("definition.custom.")
        raise InvalidParameterError("query", name, str(bad)) from None


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
    dependencies=[Depends(fresh("access", "saved_views", "teams", *READS))],
)
def run_template(
    template: Annotated[
        str, Path(max_length=60, description="A template's key, or a saved report's id.")
    ],
    svc: ServicesDep,
    user: CurrentUser,
    scope: ProjectScope,
    response: Response,
    since: Annotated[
        str | None,
        Query(
            alias="from",
            description="First day (YYYY-MM-DD); default: a saved report's range, else 29"
            " days before `to`.",
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(alias="to", description="Last day, inclusive; default: today (UTC)."),
    ] = None,
    period: Annotated[
        Literal["day", "week", "month"] | None,
        Query(description="Default: a saved report's, else week."),
    ] = None,
    group_by: Annotated[str | None, Query(max_length=40)] = None,
    project: Annotated[
        UUID | None, Query(description="Only this project's (of those you may see).")
    ] = None,
    output: Annotated[Literal["json", "csv", "xlsx", "pdf"], Query(alias="format")] = "json",
    dataset: Annotated[
        str | None, Query(max_length=40, description="A custom report's data set.")
    ] = None,
    dimensions: Annotated[
        str | None,
        Query(max_length=200, description="A custom report's dimensions, comma-separated."),
    ] = None,
    measures: Annotated[
        str | None,
        Query(max_length=200, description="A custom report's measures, comma-separated."),
    ] = None,
    filters: Annotated[
        str | None,
        Query(
            max_length=20_000,
            description="A custom report's filters, as JSON: `[{field, op, value}]`.",
        ),
    ] = None,
) -> Any:
    """The template's report — or a saved report, run as it says (any parameter given
    here instead) — over the days asked, for you: only the items, SLA targets and time
    entries you may see. Days are UTC days; weeks start on Monday."""
    found, saved = _template(svc, str(user.id), template)
    defined: dict[str, Any] = saved["definition"] if saved else {}
    switches = svc.company.current()
    if "sla" in found.reads and not switches["features"]["sla"]:
        raise AppSwitchedOffError("SLA feature")
    today = datetime.now(UTC).date()
    first, last = _days(since, until, defined, today)
    period = period or defined.get("period") or "week"
    if group_by == "":  # Asked for no grouping (a saved report's included).
        group_by = None
    elif group_by is None:
        group_by = defined.get("group_by")
    if group_by is not None and group_by not in found.group_by:
        choices = ", ".join(found.group_by) or "nothing"
        raise InvalidParameterError(
            "query", "group_by", f"{found.key} can be grouped by {choices}, not {group_by!r}"
        )
    given = {"dataset": dataset, "dimensions": dimensions, "measures": measures}
    given |= {"filters": filters}
    asked = Asked(
        first,
        last,
        period,
        group_by,
        str(project) if project else defined.get("project_id"),
        _custom(found, defined.get("custom"), {k: v for k, v in given.items() if v is not None}),
    )
    with svc.views.read() as tx:
        made = template_report(tx, found, asked, str(user.id), scope, switches, today)
    shown_period = period if found.uses_period else None
    title = saved["name"] if saved else found.name
    if output != "json":
        page = PdfPage(brand_of(svc), title, f"{asked.described(found)} · by {user.email}")
        return attachment(
            response,
            asked.file_name(found),
            output,
            made.columns,
            iter([made.rows]),
            page,
            chart=made.chart,
        )
    return reply(
        response,
        {
            "template": found.key,
            "report": {"id": saved["id"], "name": saved["name"]} if saved else None,
            "title": title,
            "range": {"from": first.isoformat(), "to": last.isoformat()},
            "period": shown_period,
            "group_by": group_by,
            "columns": made.columns,
            "rows": made.rows,
            "totals": made.totals,
            "chart": made.chart,
        },
    )
