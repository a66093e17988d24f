"""The FastAPI application: routers, problem mapping, OpenAPI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request
from starlette.responses import Response

from api import openapi, problems
from api.deps import Services
from api.responses import OrjsonResponse, problem
from api.routers import (
    auth,
    contacts,
    conversation,
    customers,
    docs,
    folders,
    health,
    items,
    me,
    people,
    planning,
    portal,
    portfolios,
    projects,
    reports,
    tasks,
    teams,
    tickets,
    timesheets,
    tree,
    users,
    views,
)
from api.tags import TAG_METADATA
from api.text_input import refuse_disallowed_text

BODY_OVERHEAD = 64 * 1024


def create_app(services: Services) -> FastAPI:
    """Build the HTTP application over already-built services."""
    app = FastAPI(
        title="ledgerdesk",
        version="0.1.0",
        summary="Help desk and project management in one event-sourced system.",
        description=(
            "Every write answers with `X-Log-Position`; send it back as `X-Min-Position` on a"
            " read to see your own write. Every error is an RFC 9457 problem document."
        ),
        openapi_tags=TAG_METADATA,
        default_response_class=OrjsonResponse,
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,  # Served from vendored assets by api.routers.docs, not from a CDN.
        redoc_url=None,
        # Before every route's own dependencies: nothing runs on text no store can keep.
        dependencies=[Depends(refuse_disallowed_text)],
    )
    app.state.services = services
    problems.install(app)
    docs.install(app)
    for module in (
        health,
        auth,
        me,
        users,
        teams,
        portfolios,
        projects,
        folders,
        customers,
        contacts,
        tickets,
        timesheets,
        views,
        planning,
        portal,
        tree,
        items,
    ):
        app.include_router(module.router)
    for router in (*tasks.routers, *conversation.routers, *people.routers):
        app.include_router(router)
    for router in reports.routers:
        app.include_router(router)

    openapi.install(app)

    limit = services.max_attachment_bytes + BODY_OVERHEAD

    @app.middleware("http")
    async def refuse_huge_bodies(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse a body larger than any upload may be before reading it."""
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return problem(
                413,
                "too-large",
                "Upload too large",
                f"request body of {length} bytes exceeds the limit of {limit}",
                request.url.path,
                limit=services.max_attachment_bytes,
            )
        return await call_next(request)

    return app
