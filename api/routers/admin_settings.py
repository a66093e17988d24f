"""The company's settings: which apps and features are on (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ServicesDep, fresh, written
from api.params import named_list
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.errors import AttachmentTooLargeError
from domain.errors import InvalidValueError
from domain.mail.settings import logo_type
from projections.admin_audit import AUDITED, audit_page
from projections.base import current_tables

router = APIRouter(prefix="/api/v1/admin", tags=[Tag.ADMIN])


class Apps(Body):
    tickets: bool | None = Field(
        default=None,
        description="Tickets: their API for staff and customers (the portal's requests, the"
        " widget's request tabs); mail to the desk is quarantined while it is off.",
    )
    tasks: bool | None = Field(
        default=None, description="Tasks: their API, their recurrence and the Gantt chart."
    )
    timesheets: bool | None = Field(
        default=None, description="Time entries, their report and the timers."
    )
    portal: bool | None = Field(
        default=None, description="The customer portal: its pages and its API."
    )
    knowledge_base: bool | None = Field(
        default=None, description="The knowledge base: its API and its pages (/kb)."
    )
    web_forms: bool | None = Field(
        default=None, description="The web forms: their API and the public pages (/forms/{form})."
    )
    messenger: bool | None = Field(
        default=None,
        description="The chats: their API for customers and staff, their live events and the"
        " widget's Chat tab (their history stays).",
    )
    widget: bool | None = Field(
        default=None, description="The embeddable widget: its script, its frame and its API."
    )


class Features(Body):
    timers: bool | None = Field(default=None, description="Timers on items.")
    timesheet_approval: bool | None = Field(
        default=None, description="Submitting time entries, approving and rejecting them."
    )
    recurring_items: bool | None = Field(
        default=None, description="Recurring tasks: their rule, and the items made on time."
    )
    sla: bool | None = Field(
        default=None,
        description="Service levels: the policies, the items' targets, their view and report;"
        " no target is measured while it is off.",
    )
    automations: bool | None = Field(
        default=None, description="Automation rules: their API; no rule runs while it is off."
    )
    customer_status_changes: bool | None = Field(
        default=None, description="Customers may close and reopen their requests in the portal."
    )
    anonymous_forms: bool | None = Field(
        default=None,
        description="Forms marked anonymous take submissions from people not signed in, once"
        " they confirm their address by email.",
    )
    anonymous_chats: bool | None = Field(
        default=None,
        description="People not signed in may open a chat with a name and an address (not"
        " confirmed).",
    )


class SettingsPatch(Body):
    apps: Apps = Field(default_factory=Apps)
    features: Features = Field(default_factory=Features)


class AppsOut(BaseModel):
    tickets: bool
    tasks: bool
    timesheets: bool
    portal: bool
    knowledge_base: bool
    web_forms: bool
    messenger: bool
    widget: bool


class FeaturesOut(BaseModel):
    timers: bool
    timesheet_approval: bool
    recurring_items: bool
    sla: bool
    automations: bool
    customer_status_changes: bool
    anonymous_forms: bool
    anonymous_chats: bool


class SettingsOut(BaseModel):
    apps: AppsOut
    features: FeaturesOut


@router.get(
    "/settings",
    summary="Read the company settings",
    responses={200: {"model": SettingsOut}, **documented(401, 403)},
)
def read_settings(svc: ServicesDep, caller: AdminCaller, response: Response) -> OrjsonResponse:
    """Which apps and features are switched on. Admins only."""
    return reply(response, svc.company.current())


@router.patch(
    "/settings",
    summary="Switch apps and features",
    responses={200: {"model": SettingsOut}, **documented(401, 403, 422)},
)
def change_settings(
    body: SettingsPatch, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Switch apps and features on or off; a switch left out is not changed. It holds at
    once in every process. Admins only."""
    position = svc.company.change(
        body.apps.model_dump(exclude_none=True), body.features.model_dump(exclude_none=True), ctx
    )
    written(response, position)
    return reply(response, svc.company.current())


class AuditEntry(BaseModel):
    position: int
    type: str = Field(examples=["CompanySettings.Changed"])
    subject_id: str = Field(description="The id of what was changed (a webhook, a user, ...).")
    occurred_at: str
    actor: str
    correlation_id: str
    changes: dict[str, Any] = Field(description="The event's fields; secrets `[redacted]`.")


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_before: int | None


def audited_types(text: str | None) -> tuple[str, ...]:
    return named_list(text, AUDITED, "types", "audited kind")


@router.get(
    "/audit",
    summary="Read the admin audit trail",
    responses={200: {"model": AuditPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("admin_audit"))],
)
def read_audit(
    svc: ServicesDep,
    caller: AdminCaller,
    response: Response,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="`next_before` of the previous page.")
    ] = None,
    types: Annotated[
        str | None,
        Query(
            max_length=500,
            description="Only changes of these, comma-separated: " + ", ".join(AUDITED) + ".",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OrjsonResponse:
    """Every change admins made to the install's configuration (and ledgerdesk's own, such
    as a webhook it disabled), newest first: who, when, what, with secrets redacted. Each is
    an event of the log. Admins only."""
    wanted = audited_types(types)
    with svc.views.read() as tx:
        items = audit_page(tx, current_tables(tx, "admin_audit"), before, wanted, limit)
    following = items[-1]["position"] if len(items) == limit else None
    return reply(response, {"items": items, "next_before": following})


MAX_LOGO_BYTES = 512 * 1024


class BrandOut(BaseModel):
    company_name: str
    logo_url: str | None
    colour: str
    button_colour: str


def _brand(svc: ServicesDep) -> dict[str, Any]:
    values = svc.mail_out.settings.current()
    return {k: values[k] for k in ("company_name", "logo_url", "colour", "button_colour")}


@router.put(
    "/branding/logo",
    summary="Upload the logo",
    responses={200: {"model": BrandOut}, **documented(401, 403, 413, 422)},
)
def upload_logo(
    file: Annotated[
        UploadFile, File(description="A PNG, JPEG, GIF or WebP image, 512 KB at most.")
    ],
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Use this image as the company's logo on the portal, the widget and mail; it is
    served from this install (`logo_url`). The type is told by the file's content, not its
    name: SVG and anything else is 422. Admins only."""
    head = file.file.read(16)
    file.file.seek(0)
    media_type = logo_type(head)
    if media_type is None:
        raise InvalidValueError("file", "a PNG, JPEG, GIF or WebP image")
    try:
        sha256, _ = svc.commands.blobs.put(file.file, MAX_LOGO_BYTES)
    except AttachmentTooLargeError:
        raise InvalidValueError("file", f"a logo of {MAX_LOGO_BYTES // 1024} KB at most") from None
    logo = {"sha256": sha256, "media_type": media_type}
    position = svc.mail_out.settings.set_logo(logo, f"{svc.public_url}/brand/logo/{sha256}", ctx)
    written(response, position)
    return reply(response, _brand(svc))


@router.delete(
    "/branding/logo",
    summary="Remove the logo",
    responses={200: {"model": BrandOut}, **documented(401, 403)},
)
def remove_logo(
    svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """No logo: the company's name shows instead. Admins only."""
    position = svc.mail_out.settings.set_logo(None, None, ctx)
    written(response, position)
    return reply(response, _brand(svc))
