"""Query parameter types shared by several routers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import Depends, Query
from pydantic import AfterValidator, BeforeValidator

from api.problems import InvalidParameterError
from domain.values import Priority, State
from projections.access import StaffScope
from projections.flat import FlatQuery

_RFC3339_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def utc_moment(value: datetime) -> datetime:
    """An RFC 3339 moment in UTC; a moment without a time zone, or one that has no UTC form
    (year 1 or 9999 at an offset), or one before the year 1000 (stored times are
    fixed-width text), is a 422 naming the parameter, never a 500."""
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-11-22T10:00:00Z")
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("this moment is out of range once it is turned into UTC") from None
    if moment.year < 1000:  # (Stored times are fixed-width text: four-digit years.)
        raise ValueError("a moment from the year 1000 on")
    return moment


def rfc3339_text(value: object) -> object:
    """Only an RFC 3339 text is a moment here (pydantic alone would read `0.5` as a Unix
    time, which the documented `date-time` format does not allow)."""
    if isinstance(value, str) and not _RFC3339_START.match(value):
        raise ValueError("an RFC 3339 moment such as 2026-11-22T10:00:00Z")
    return value


Moment = Annotated[datetime, BeforeValidator(rfc3339_text), AfterValidator(utc_moment)]


FlatSort = Literal[
    "number",
    "-number",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "priority",
    "-priority",
    "title",
    "-title",
    "status",
    "-status",
    "sla_due",
    "-sla_due",
]
SlaStateFilter = Literal["on_track", "warning", "breached", "met"]


class FlatFilters:
    """The flat view's filters, sort and page, as query parameters (shared by the flat view
    and the ticket and task lists)."""

    def __init__(
        self,
        status: Annotated[str | None, Query(max_length=100, examples=["Open"])] = None,
        state: State | None = None,
        assignee: Annotated[str | None, Query(max_length=100, description="A user id.")] = None,
        priority: Priority | None = None,
        project: Annotated[UUID | None, Query(description="A project id.")] = None,
        folder: Annotated[UUID | None, Query(description="A folder id.")] = None,
        team: Annotated[UUID | None, Query(description="A team id.")] = None,
        item_type: Annotated[
            str | None,
            Query(
                max_length=40,
                description="An item type's key (`ticket`, `bug_report`, …).",
                examples=["bug_report"],
            ),
        ] = None,
        sla_state: Annotated[
            SlaStateFilter | None,
            Query(description="The worst state of the item's SLA targets."),
        ] = None,
        sla_policy: Annotated[
            UUID | None, Query(description="The SLA policy the item is held to (its id).")
        ] = None,
        q: Annotated[
            str | None, Query(max_length=200, description="Words in title or text.")
        ] = None,
        sort: Annotated[
            FlatSort,
            Query(
                description="A field, `-` before it for descending; `sla_due` (the earliest"
                " due time of an SLA target still owed) puts items without one last (first"
                " with `-sla_due`)."
            ),
        ] = "-number",
        cursor: Annotated[str | None, Query(max_length=500)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> None:
        self.status, self.state, self.assignee, self.priority = status, state, assignee, priority
        self.project, self.folder, self.team, self.q = project, folder, team, q
        self.item_type, self.sla_state, self.sla_policy = item_type, sla_state, sla_policy
        self.sort, self.cursor, self.limit = sort, cursor, limit

    def query(self, scope: StaffScope, kind: str | None) -> FlatQuery:
        """The view query for what `scope` may see, of one kind of item or both."""
        return FlatQuery(
            status=self.status,
            state=self.state.value if self.state else None,
            assignee=self.assignee,
            priority=self.priority.value if self.priority else None,
            project=str(self.project) if self.project else None,
            folder=str(self.folder) if self.folder else None,
            team=str(self.team) if self.team else None,
            kind=kind,
            item_type=self.item_type,
            sla_state=self.sla_state,
            sla_policy=str(self.sla_policy) if self.sla_policy else None,
            q=self.q,
            sort=self.sort,
            cursor=self.cursor,
            limit=self.limit,
            visible_projects=None if scope.all_projects else scope.project_ids,
            visible_kinds=scope.kinds,
        )


Filters = Annotated[FlatFilters, Depends()]


class HistoryPage:
    """A page of an item's history: `limit` entries after `cursor`."""

    def __init__(
        self,
        cursor: Annotated[
            str | None,
            Query(max_length=500, description="`X-Next-Cursor` of the page before."),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="Entries per page.")] = 100,
    ) -> None:
        self.cursor, self.limit = cursor, limit


HISTORY_HEADERS = {
    "X-Next-Cursor": {
        "description": "Pass it back as `cursor` for the next page; absent on the last page.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page, as `<url>; rel="next"` (RFC 8288); absent on the last.',
        "schema": {"type": "string"},
    },
}
History = Annotated[HistoryPage, Depends()]


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def query_date(name: str, text: str | None) -> date | None:
    """The date in query parameter `name` (`YYYY-MM-DD`), if given; 422 naming it if not a
    date."""
    if text is None:
        return None
    try:
        if not ISO_DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidParameterError("query", name, "expected a date, e.g. 2026-12-01") from error


def named_list(text: str | None, known: Sequence[str], field: str, what: str) -> tuple[str, ...]:
    """The names a comma-separated query parameter gives (none: empty), each once; 422
    naming `field` and the first `what` not among `known`."""
    if text is None or not text.strip():
        return ()
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",")))
    for name in names:
        if name not in known:
            raise InvalidParameterError(
                "query", field, f"no {what} {name!r}; known: {', '.join(known)}"
            )
    return names
