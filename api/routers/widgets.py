"""The embeddable widget: admins define widgets and take the snippet to paste into their
websites (`/api/v1/admin/widgets`); the widget's script reads its public face
(`GET /api/v1/widgets/{id}`, open to its allowed sites by CORS)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Response
from markupsafe import escape
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.widgets import Widget
from domain.widgets import MAX_NAME, MAX_ORIGIN, MAX_ORIGINS, tabs

router = APIRouter(prefix="/api/v1", tags=[Tag.ADMIN])
WidgetId = Annotated[UUID, Path(description="The widget's id.")]
Origins = Annotated[
    list[Annotated[str, Field(max_length=MAX_ORIGIN)]],
    Field(
        max_length=MAX_ORIGINS,
        description="The sites that may show the widget, as origins"
        " (`https://www.example.com`, with a port where it is not the scheme's own).",
        examples=[["https://www.example.com"]],
    ),
]


class WidgetCreate(Body):
    name: str = Field(min_length=1, max_length=MAX_NAME, examples=["Main website"])
    allowed_origins: Origins


class WidgetPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    allowed_origins: Origins | None = None


class WidgetOut(BaseModel):
    id: UUID
    name: str
    allowed_origins: list[str]


class WidgetList(BaseModel):
    items: list[WidgetOut]


class WidgetSnippet(BaseModel):
    widget_id: UUID
    install_url: str = Field(description="Where this install is reached (LEDGERDESK_PUBLIC_URL).")
    script_url: str
    snippet: str = Field(description="The HTML to paste before `</body>` on each page.")


Tab = Literal["chat", "new_request", "my_requests", "help"]


class WidgetBrand(BaseModel):
    name: str
    colour: str
    button_colour: str = Field(description="The launcher's colour, white text on it.")
    logo_url: str | None


class WidgetFace(BaseModel):
    id: UUID
    tabs: list[Tab] = Field(description="The tabs it shows, by the apps switched on.")
    brand: WidgetBrand
    frame_url: str


def _out(widget: Widget) -> dict[str, object]:
    return {"id": widget.id, "name": widget.name, "allowed_origins": widget.allowed_origins}


def snippet(base_url: str, widget_id: UUID) -> dict[str, object]:
    script = f"{base_url}/widget.js"
    html = f'<script src="{escape(script)}" data-ledgerdesk-widget="{widget_id}" async></script>'
    return {"widget_id": widget_id, "install_url": base_url, "script_url": script, "snippet": html}


@router.get(
    "/admin/widgets",
    summary="List the widgets",
    responses={200: {"model": WidgetList}, **documented(401, 403)},
)
def list_widgets(svc: ServicesDep, caller: AdminCaller, response: Response) -> OrjsonResponse:
    """Every widget, by name. Admins only."""
    return reply(response, {"items": [_out(w) for w in svc.widgets.all()]})


@router.post(
    "/admin/widgets",
    status_code=201,
    summary="Define a widget",
    responses={201: {"model": WidgetOut}, **documented(401, 403, 422)},
)
def create_widget(
    body: WidgetCreate, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A widget for the sites named: only they may frame it and read its face. Admins only."""
    widget, position = svc.widgets.create(body.model_dump(), ctx)
    written(response, position)
    response.headers["Location"] = f"/api/v1/admin/widgets/{widget.id}"
    return reply(response, _out(widget), 201)


@router.get(
    "/admin/widgets/{widget_id}",
    summary="Read a widget",
    responses={200: {"model": WidgetOut}, **documented(401, 403, 404, 422)},
)
def read_widget(
    widget_id: WidgetId, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """The widget: its name and the sites that may show it. Admins only."""
    return reply(response, _out(svc.widgets.get(widget_id)))


@router.patch(
    "/admin/widgets/{widget_id}",
    summary="Change a widget",
    responses={200: {"model": WidgetOut}, **documented(401, 403, 404, 422)},
)
def change_widget(
    widget_id: WidgetId,
    body: WidgetPatch,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Rename it, or change its sites (the whole list); what is left out stays. It holds at
    once: a site taken off can no longer frame it."""
    widget, position = svc.widgets.change(widget_id, body.model_dump(exclude_none=True), ctx)
    written(response, position)
    return reply(response, _out(widget))


@router.delete(
    "/admin/widgets/{widget_id}",
    status_code=204,
    summary="Remove a widget",
    responses=documented(401, 403, 404, 422),
)
def remove_widget(widget_id: WidgetId, svc: ServicesDep, caller: AdminCaller, ctx: Ctx) -> Response:
    """Its snippet stops showing anything; its history stays in the log."""
    position = svc.widgets.remove(widget_id, ctx)
    return Response(status_code=204, headers={"X-Log-Position": str(position)})


@router.get(
    "/admin/widgets/{widget_id}/snippet",
    summary="The snippet to paste",
    responses={200: {"model": WidgetSnippet}, **documented(401, 403, 404, 422)},
)
def widget_snippet(
    widget_id: WidgetId, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """The HTML to paste into each page of the allowed sites, with the install's URL and
    the widget's id."""
    widget = svc.widgets.get(widget_id)
    return reply(response, snippet(svc.public_url, widget.id))


@router.get(
    "/widgets/{widget_id}",
    summary="A widget's public face",
    tags=[Tag.PORTAL],
    responses={200: {"model": WidgetFace}, **documented(404, 422)},
    openapi_extra={"security": [{}]},
)
def widget_face(widget_id: WidgetId, svc: ServicesDep, response: Response) -> OrjsonResponse:
    """What the widget's script needs to show its launcher: the tabs it has now (none: it
    shows nothing), the company's brand and the frame to open. No sign-in; its allowed
    sites may read it from their pages (CORS)."""
    widget = svc.widgets.get(widget_id)
    brand = svc.mail_out.settings.current()
    content = {
        "id": widget.id,
        "tabs": tabs(svc.company.current()["apps"]),
        "brand": {
            "name": brand["company_name"],
            "colour": brand["colour"],
            "button_colour": brand["button_colour"],
            "logo_url": brand["logo_url"],
        },
        "frame_url": f"{svc.public_url}/widget/{widget.id}",
    }
    response.headers["Cache-Control"] = "no-cache"
    return reply(response, content)
