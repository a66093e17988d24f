"""What service levels look like across items: the SLA view (the items you see, grouped by
policy and state) and the SLA compliance report (targets met and breached per policy,
priority, metric and period)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api.deps import ProjectScope, ServicesDep, fresh
from api.params import query_date
from api.problems import InvalidParameterError, located
from api.responses import OrjsonResponse, documented, reply
from api.schemas import FlatItem, SlaPolicyRef
from api.tags import Tag
from domain.errors import PermissionDeniedError
from domain.sla.business_hours import time_zone
from projections.base import current_tables
from projections.sla.compliance import ComplianceQuery, compliance
from projections.sla.groups import sla_groups

views_router = APIRouter(prefix="/api/v1/views", tags=[Tag.VIEWS])
reports_router = APIRouter(prefix="/api/v1/reports", tags=[Tag.REPORTS])
routers = (views_router, reports_router)

SlaState = Literal["on_track", "warning", "breached", "met"]
MAX_DAYS = 3 * 366


class SlaGroup(BaseModel):
    policy: SlaPolicyRef
    state: SlaState | None = Field(
        description="The items' worst SLA state (null: the policy sets no target for their"
        " priority)."
    )
    count: int = Field(description="How many items you see are in this group.")
    items: list[FlatItem] = Field(
        description="The first of them, earliest owed due time first; the flat list's"
        " `sla_policy` and `sla_state` filters list them all."
    )


class SlaGroups(BaseModel):
    groups: list[SlaGroup]


@views_router.get(
    "/sla",
    summary="The SLA view",
    responses={200: {"model": SlaGroups}, **documented(401, 422)},
    dependencies=[Depends(fresh("flat", "access"))],
)
def sla_view(
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    policy: Annotated[UUID | None, Query(description="Only this policy's items.")] = None,
    state: Annotated[SlaState | None, Query(description="Only items in this state.")] = None,
    per_group: Annotated[int, Query(ge=0, le=100, description="Items shown per group.")] = 10,
) -> OrjsonResponse:
    """The items you may see that are held to an SLA policy, grouped by policy (by name)
    and state (breached, warning, on track, met), with each group's count and its first
    items, the most urgent first."""
    with svc.views.read() as tx:
        groups = sla_groups(
            tx,
            current_tables(tx, "flat"),
            None if scope.all_projects else scope.project_ids,
            scope.kinds,
            str(policy) if policy else None,
            state,
            per_group,
        )
    return reply(response, {"groups": groups})


class ComplianceRow(BaseModel):
    period_start: str = Field(examples=["2026-11-01"], description="Its period's first day.")
    policy: SlaPolicyRef
    priority: str | None = Field(
        examples=["urgent"], description="The priority it was judged by (null: not recorded)."
    )
    metric: Literal["first_response", "next_response", "resolution"]
    met: int
    breached: int
    compliance: float | None = Field(examples=[0.95], description="met / (met + breached).")


class ComplianceTotals(BaseModel):
    met: int
    breached: int
    compliance: float | None


class ComplianceReport(BaseModel):
    from_: str = Field(alias="from")
    to: str
    period: Literal["day", "week", "month"]
    time_zone: str
    rows: list[ComplianceRow]
    totals: ComplianceTotals


@reports_router.get(
    "/sla-compliance",
    summary="SLA compliance",
    responses={200: {"model": ComplianceReport}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("sla", "access"))],
)
def sla_compliance(
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    since: Annotated[
        str | None,
        Query(
            alias="from",
            description="First day (YYYY-MM-DD), inclusive; default: 90 days before `to`.",
        ),
    ] = None,
    until: Annotated[
        str | None, Query(alias="to", description="Last day, inclusive; default: today.")
    ] = None,
    period: Annotated[Literal["day", "week", "month"], Query()] = "month",
    zone_name: Annotated[
        str,
        Query(
            alias="time_zone", max_length=60, description="The IANA time zone days are counted in."
        ),
    ] = "UTC",
    policy: Annotated[UUID | None, Query(description="Only this policy.")] = None,
) -> OrjsonResponse:
    """How many SLA targets were met and how many breached, per period, policy, priority
    and metric. A target counts in the period its outcome was decided: a met one when it
    was answered, a breached one when it fell due. Each is judged by the policy and
    priority recorded with its outcome, so a past period's figures never change. For staff
    who see every project (it counts every item)."""
    if not scope.all_projects:
        raise PermissionDeniedError("the SLA compliance report counts every project's items")
    with located(time_zone=("query", "time_zone")):
        zone = time_zone(zone_name)
    last = query_date("to", until) or datetime.now(UTC).astimezone(zone).date()
    first = query_date("from", since) or last - timedelta(days=89)
    if last < first:
        raise InvalidParameterError("query", "to", "`to` is before `from`")
    if (last - first).days >= MAX_DAYS:
        raise InvalidParameterError("query", "from", f"at most {MAX_DAYS} days at a time")
    query = ComplianceQuery(first, last, period, zone_name, str(policy) if policy else None)
    with svc.views.read() as tx:
        found = compliance(tx, current_tables(tx, "sla"), query)
    return reply(response, found)
