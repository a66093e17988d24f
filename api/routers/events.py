"""The event feed: the log's public events, in order, for integrations and auditors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api.deps import CurrentCaller, ProjectScope, ServicesDep, fresh
from api.params import named_list
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from domain.integrations import EVENT_NAMES
from projections.base import current_tables
from projections.integrations.feed_query import FeedScope, feed_page, feed_scope

router = APIRouter(prefix="/api/v1", tags=[Tag.INTEGRATIONS])
MAX_PAGE = 1000


class PublicEvent(BaseModel):
    id: str = Field(description="The event's id: its log position, as text.")
    position: int
    type: str = Field(examples=["item.status_changed"])
    occurred_at: str
    actor: str = Field(examples=["user:24a1c15f-1cf6-505a-b28b-fd35427b7822"])
    correlation_id: str
    causation_id: str | None = Field(
        description="The event that caused it (an automation rule's action), if any."
    )
    data: dict[str, Any]


class FeedPage(BaseModel):
    items: list[PublicEvent]
    next_after: int = Field(
        description="Send it as `after` for the next page (the last position of this page,"
        " or `after` itself when the page is empty)."
    )


def event_types(text: str | None) -> tuple[str, ...]:
    """The event names of a `types` parameter (comma-separated); 422 naming an unknown one."""
    return named_list(text, EVENT_NAMES, "types", "event")


def caller_feed_scope(svc: ServicesDep, caller: CurrentCaller, scope: ProjectScope) -> FeedScope:
    apps = svc.company.current()["apps"]
    return feed_scope(str(caller.user.id), scope, caller.user.takes_chats, apps)


@router.get(
    "/events",
    summary="Read the event feed",
    responses={200: {"model": FeedPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("feed", "access"))],
)
def read_events(
    svc: ServicesDep,
    scope: Annotated[FeedScope, Depends(caller_feed_scope)],
    response: Response,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="The position to read after (0: the start).")
    ] = 0,
    types: Annotated[
        str | None,
        Query(max_length=1000, description="Only these event types, comma-separated."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> OrjsonResponse:
    """The public events of the log after position `after`, oldest first, of the items,
    time entries and chats the caller may see, each with its actor, correlation and
    causation. Resume from `next_after`: the same events come again in the same order, so
    a consumer can stop anywhere and replay from any point. The event types are listed in
    docs/integrations.md."""
    wanted = event_types(types)
    with svc.views.read() as tx:
        items = feed_page(tx, current_tables(tx, "feed"), scope, after, wanted, limit)
    following = items[-1]["position"] if items else after
    if len(items) == limit:
        query = f"after={following}&limit={limit}" + (
            f"&types={','.join(wanted)}" if wanted else ""
        )
        response.headers["Link"] = f'</api/v1/events?{query}>; rel="next"'
    return reply(response, {"items": items, "next_after": following})
