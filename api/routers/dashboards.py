"""Dashboards: staff save dashboards of widgets, share them like views, and read each
widget's data as JSON or as an SVG chart (`/dashboards`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    CurrentUser,
    ProjectScope,
    ServicesDep,
    fresh,
)
from api.responses import OrjsonResponse, documented, reply, with_headers
from api.routers.saved_views import (
    SHARING,
    SavedViewOut,
    visible_saved,
)
from api.routers.shared_definitions import add_routes
from api.schemas import Body
from api.tags import Tag
from api.widget_charts import widget_svg
from domain.errors import NotFoundError
from domain.views.dashboard import WIDGETS
from projections.access import StaffScope
from projections.reports.dashboard import READS, WidgetScope, dashboard_data
from projections.timesheet_query import EntryScope

router = APIRouter(prefix="/api/v1/dashboards", tags=[Tag.REPORTS])

KIND = "dashboard"
DEFINITION = (
    "The widgets, in order: `{widgets: [{type, title?, ...settings}]}`. Types and their"
    f" settings: {', '.join(WIDGETS)} (see docs/views-and-reports.md#dashboards)."
)
DEFINITION_EXAMPLE = {
    "widgets": [
        {"type": "counts", "by": "status", "kinds": ["ticket"]},
        {"type": "created_vs_finished", "weeks": 8},
        {"type": "sla_compliance"},
        {"type": "burn_down", "project_id": "6a1c0f7e-3c1d-4b7a-9d51-0f2b9f6a7e11"},
    ]
}
# Every view a widget may read, and those that say who sees the dashboard.
WIDGET_VIEWS = sorted({view for views in READS.values() for view in views})
FRESH = Depends(fresh("saved_views", "teams", "access", *WIDGET_VIEWS))


class DashboardCreate(Body):
    name: str = Field(min_length=1, max_length=120, examples=["Support this week"])
    definition: dict[str, Any] = Field(description=DEFINITION, examples=[DEFINITION_EXAMPLE])
    sharing: dict[str, Any] | None = Field(
        default=None, description=SHARING, examples=[{"teams": [], "users": [], "all_staff": True}]
    )


class DashboardPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    definition: dict[str, Any] | None = Field(default=None, description=DEFINITION)
    sharing: dict[str, Any] | None = Field(default=None, description=SHARING)


class WidgetSeries(BaseModel):
    name: str
    values: list[float | None]


class WidgetOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    chart: str = Field(description="How to draw it: bar, stacked_bar, horizontal_bar, line.")
    labels: list[str] = Field(description="The points along the axis (a week's Monday, …).")
    series: list[WidgetSeries] = Field(description="One value per label in each series.")


class DashboardWidgets(BaseModel):
    dashboard: SavedViewOut
    today: date = Field(description="The last day the widgets show (UTC).")
    widgets: list[WidgetOut]


class WidgetNotFoundError(NotFoundError):
    def __init__(self, index: int) -> None:
        super().__init__(f"the dashboard has no widget {index}")


def widget_scope(svc: ServicesDep, user_id: str, scope: StaffScope) -> WidgetScope:
    """What the caller's widgets may show (and the company's switches allow), as of now."""
    switches = svc.company.current()
    return WidgetScope(
        projects=None if scope.all_projects else scope.project_ids,
        kinds=scope.kinds,
        entries=EntryScope.of(user_id, scope),
        today=datetime.now(UTC).date(),
        timesheets=switches["apps"]["timesheets"],
        sla=switches["features"]["sla"],
    )


def _widget(svc: ServicesDep, user_id: str, scope: StaffScope, view_id: UUID, index: int) -> Any:
    doc = visible_saved(svc, user_id, view_id, KIND)
    widgets = doc["definition"]["widgets"]
    if index >= len(widgets):
        raise WidgetNotFoundError(index)
    with svc.views.read() as tx:
        return dashboard_data(tx, [widgets[index]], widget_scope(svc, user_id, scope))[0]


add_routes(router, KIND, "dashboard", "dashboard_id", DashboardCreate, DashboardPatch,
           "a widget's bad setting")  # fmt: skip


@router.get(
    "/{dashboard_id}/widgets",
    summary="Every widget's data",
    responses={200: {"model": DashboardWidgets}, **documented(401, 404, 422)},
    dependencies=[FRESH],
)
def dashboard_widgets(
    dashboard_id: UUID,
    svc: ServicesDep,
    user: CurrentUser,
    scope: ProjectScope,
    response: Response,
) -> OrjsonResponse:
    """Each widget's data, in order, computed for you: a shared dashboard shows each viewer
    only the items, targets and time entries they may see."""
    doc = visible_saved(svc, str(user.id), dashboard_id, KIND)
    shown = widget_scope(svc, str(user.id), scope)
    with svc.views.read() as tx:
        widgets = dashboard_data(tx, doc["definition"]["widgets"], shown)
    return reply(response, {"dashboard": doc, "today": shown.today, "widgets": widgets})


Index = Annotated[int, Path(ge=0, le=1000, description="The widget's place, from 0.")]


@router.get(
    "/{dashboard_id}/widgets/{index}.svg",
    summary="A widget as an SVG chart",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The chart."},
        **documented(401, 404, 422),
    },
    dependencies=[FRESH],
)
def widget_chart(
    dashboard_id: UUID,
    index: Index,
    svc: ServicesDep,
    user: CurrentUser,
    scope: ProjectScope,
    response: Response,
) -> Response:
    """The widget drawn as a chart: a standalone SVG with no script, fetching nothing."""
    data = _widget(svc, str(user.id), scope, dashboard_id, index)
    return with_headers(response, widget_svg(data), "image/svg+xml")


@router.get(
    "/{dashboard_id}/widgets/{index}",
    summary="One widget's data",
    responses={200: {"model": WidgetOut}, **documented(401, 404, 422)},
    dependencies=[FRESH],
)
def widget(
    dashboard_id: UUID,
    index: Index,
    svc: ServicesDep,
    user: CurrentUser,
    scope: ProjectScope,
    response: Response,
) -> OrjsonResponse:
    """One widget's data, computed for you (404 past the last widget)."""
    return reply(response, _widget(svc, str(user.id), scope, dashboard_id, index))
