"""Items of any kind by number: who could see one at a past moment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from api.deps import CurrentUser, ServicesDep, fresh
from api.params import Moment
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from domain.item_numbers import MAX_ITEM_NUMBER
from projections.base import current_tables, iso
from projections.customers import contact_candidates
from projections.db import ViewDatabase
from projections.users import staff_candidates

router = APIRouter(prefix="/api/v1/items", tags=[Tag.ITEMS])
Number = Annotated[
    int, Path(ge=1, le=MAX_ITEM_NUMBER, description="The item's number.", examples=[1042])
]


class StaffSeerOut(BaseModel):
    user_id: str
    email: str
    via: str
    role: str | None


class CustomerSeerOut(BaseModel):
    contact_id: str
    email: str
    via: Literal["requester", "organisation"]


class AudienceOut(BaseModel):
    as_of: datetime
    project_id: str
    staff: list[StaffSeerOut]
    customers: list[CustomerSeerOut]


class ViewDirectory:
    """Candidates from the users and customers views: whoever is an admin, manages projects
    or is in the organisation now, plus whoever changed since the moment (their state now
    may not be their state then). Each is then decided from their own events."""

    def __init__(self, views: ViewDatabase) -> None:
        self.views = views

    def staff_candidates(self, as_of: datetime) -> Iterable[str]:
        with self.views.read() as tx:
            return staff_candidates(tx, current_tables(tx, "users"), iso(as_of))

    def contact_candidates(self, organisation_id: str, as_of: datetime) -> Iterable[str]:
        with self.views.read() as tx:
            t = current_tables(tx, "customers")
            return contact_candidates(tx, t, organisation_id, iso(as_of))


@router.get(
    "/{number}/audience",
    summary="Who could see an item",
    responses={200: {"model": AudienceOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("users", "customers"))],
)
def item_audience(
    number: Number,
    svc: ServicesDep,
    user: CurrentUser,
    response: Response,
    as_of: Annotated[
        Moment | None,
        Query(
            description="RFC 3339 moment: who could see the item then (404 before it existed);"
            " default: now."
        ),
    ] = None,
) -> OrjsonResponse:
    """The staff (and why) and the customers who could see the item at `as_of`, from the
    events up to then; admins and staff who manage projects only."""
    as_of = as_of or datetime.now(UTC)
    # The candidate lists come from views: let them catch up with the log first.
    reached = svc.runner.wait_for(
        svc.runner.log.head(), ("users", "customers"), svc.read_wait_seconds, until_failed=True
    )
    response.headers["X-View-Fresh"] = "true" if reached else "false"
    report = svc.audience.audience(user, number, as_of, ViewDirectory(svc.views))
    return reply(
        response,
        {
            "as_of": iso(report.as_of),
            "project_id": report.project_id,
            "staff": [asdict(s) for s in report.audience.staff],
            "customers": [asdict(c) for c in report.audience.customers],
        },
    )
