"""The FastAPI application: routers, problem mapping, OpenAPI."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp

from api import openapi, pages, problems
from api.body_limit import BodyLimitMiddleware, BodyLimits
from api.correlation import CorrelationIds
from api.cors import WidgetSitesCors
from api.deps import Services
from api.read_your_writes import RecordWrites
from api.responses import OrjsonResponse
from api.routers import (
    admin_messages,
    admin_settings,
    auth,
    automations,
    changes,
    chat_files,
    chats,
    contacts,
    conversation,
    customers,
    dashboards,
    docs,
    events,
    folders,
    health,
    hooks,
    import_jobs,
    imports,
    intake,
    items,
    knowledge_base,
    mail,
    mail_outgoing,
    mailboxes,
    me,
    metrics,
    notifications,
    people,
    planning,
    plans,
    portal,
    portal_kb,
    portfolios,
    project_calendar,
    projects,
    report_schedules,
    report_templates,
    reports,
    saved_reports,
    saved_views,
    sla,
    sla_views,
    statuses,
    streams,
    tasks,
    teams,
    tickets,
    timesheets,
    tree,
    users,
    views,
    webhooks,
    widgets,
)
from api.switches import switched_on
from api.tags import TAG_METADATA
from api.text_input import refuse_disallowed_text


class LedgerDeskAPI(FastAPI):
    """The API with its correlation ids outside everything, Starlette's error middleware
    included: a 500 too carries its `X-Correlation-ID`, and its log lines the request's id,
    actor and status."""

    def build_middleware_stack(self) -> ASGIApp:
        return CorrelationIds(super().build_middleware_stack())


def create_app(services: Services) -> FastAPI:
    """Build the HTTP application over already-built services."""
    app = LedgerDeskAPI(
        title="ledgerdesk",
        version="0.1.0",
        summary="Help desk and project management in one event-sourced system.",
        description=(
            "Every write answers with `X-Log-Position`. Your reads (same token or portal"
            " session) see your own writes without asking; send another caller's"
            " `X-Log-Position` as `X-Min-Position` to see theirs. Every error is an RFC 9457"
            " problem document."
        ),
        openapi_tags=TAG_METADATA,
        default_response_class=OrjsonResponse,
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,  # Served from vendored assets by api.routers.docs, not from a CDN.
        redoc_url=None,
        # Before every route's own dependencies: nothing runs on text no store can keep.
        # Then the company's switches: nothing of a switched-off app or feature runs.
        dependencies=[Depends(refuse_disallowed_text), Depends(switched_on)],
    )
    app.state.services = services
    problems.install(app)
    docs.install(app)
    for module in (
        health,
        auth,
        me,
        notifications,
        users,
        teams,
        portfolios,
        projects,
        project_calendar,
        folders,
        customers,
        contacts,
        tickets,
        timesheets,
        saved_views,
        dashboards,
        changes,
        views,
        planning,
        portal,
        tree,
        items,
        mail,
        mail_outgoing,
        mailboxes,
        metrics,
        admin_settings,
        admin_messages,
        knowledge_base,
        intake,
        sla,
        statuses,
        automations,
        chats,
        chat_files,
        streams,
        widgets,
        portal_kb,
        events,
        webhooks,
        hooks,
        imports,
        import_jobs,
    ):
        app.include_router(module.router)
    for router in (*tasks.routers, *conversation.routers, *people.routers):
        app.include_router(router)
    for router in (*reports.routers, *sla_views.routers, *plans.routers):
        app.include_router(router)
    # After the reports with routes of their own: `/reports/{template}` matches the rest.
    app.include_router(saved_reports.router)
    app.include_router(report_schedules.router)
    app.include_router(report_templates.router)

    openapi.install(app)
    pages.install(app)

    app.add_middleware(RecordWrites, positions=services.positions)
    # Around the app: nothing reads a byte of a body before its size is checked.
    app.add_middleware(
        BodyLimitMiddleware,
        limits=BodyLimits(
            services.max_json_bytes,
            services.max_attachment_bytes,
            services.max_mail_bytes,
            problems.routes_accepting_uploads(app),
        ),
        page=pages.too_large if services.pages is not None else None,
    )
    # The widgets' sites may call the customer API from their pages (preflights answered).
    app.add_middleware(WidgetSitesCors, origins=services.widgets.origins)
    return app
