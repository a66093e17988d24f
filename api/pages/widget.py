"""The embeddable widget: `/widget.js`, the script a website's pages load (vendored here,
no third-party request), and `/widget/{id}`, the frame it opens with the customer app's
tabs. The frame is a small script of its own over the portal's JSON API: a frame on another
site gets no cookie of ours (`SameSite=Lax`), so it keeps the customer's `ldc_` session (or
an anonymous chat's `ldk_` token) in its own storage and sends it as a bearer token.

Only the widget's allowed sites may frame it (`frame-ancestors`); the tabs follow the apps
switched on, read each time a page loads the frame."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from api.pages.rendering import render, services_of
from api.pages.requests import customer_types
from api.pages.switched import AppOffError
from domain.automated_messages import own_texts
from domain.errors import NotFoundError
from domain.widgets import tabs

SCRIPT = Path(__file__).resolve().parents[1] / "static" / "pages" / "widget" / "widget.js"
WidgetId = Annotated[UUID, PathParam()]

router = APIRouter(include_in_schema=False)


@router.get("/widget.js")
def widget_script(request: Request) -> Response:
    if not services_of(request).company.app_on("widget"):
        # A site that still embeds it loads nothing: no frame, no button.
        return Response(
            "/* The ledgerdesk widget is switched off. */\n",
            404,
            media_type="text/javascript",
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )
    return FileResponse(
        SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def frame_ancestors(origins: list[str]) -> str:
    """The CSP list of who may frame the widget: its sites, or nobody."""
    return " ".join(origins) if origins else "'none'"


@router.get("/widget/{widget_id}")
async def frame(request: Request, widget_id: WidgetId) -> Response:
    return await run_in_threadpool(_frame, request, widget_id)


def _frame(request: Request, widget_id: UUID) -> Response:
    svc = services_of(request)
    switches = svc.company.current()
    if not switches["apps"]["widget"]:
        raise AppOffError("widget")
    try:
        widget = svc.widgets.get(widget_id)
    except NotFoundError:
        return render(request, "not_found.html", 404)
    response = render(
        request,
        "widget/frame.html",
        widget=widget,
        tabs=tabs(switches["apps"]),  # One read of the switches for the whole page.
        anonymous_chats=switches["features"]["anonymous_chats"],
        types=customer_types(request),
        said=own_texts(svc.company.messages(), ("chat_welcome", "chat_ended")),
    )
    policy = response.headers["Content-Security-Policy"]
    head, _, _ = policy.rpartition("frame-ancestors ")
    response.headers["Content-Security-Policy"] = (
        f"{head}frame-ancestors {frame_ancestors(widget.allowed_origins)}"
    )
    if widget.allowed_origins:  # Else the page's own DENY stays, for older browsers too.
        del response.headers["X-Frame-Options"]
    return response
