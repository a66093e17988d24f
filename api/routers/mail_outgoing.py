"""Mail out, for admins: the mail settings (acknowledgements, branding, the SMTP server)
and the templates of each kind of mail, with a preview."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from domain.mail.templates import TEMPLATE_KINDS

router = APIRouter(prefix="/api/v1/mail", tags=[Tag.MAIL])
Kind = Annotated[
    Literal[TEMPLATE_KINDS],  # type: ignore[valid-type]
    Path(description="The kind of mail, or `layout` (the header and footer every mail shares)."),
]


class SmtpIn(Body):
    host: str = Field(min_length=1, max_length=255, examples=["smtp.example.com"])
    port: int = Field(ge=1, le=65535, examples=[587])
    security: Literal["tls", "starttls", "none"] = Field(
        default="starttls",
        description="`none` only without a user, or for a server on this machine.",
    )
    user: str | None = Field(default=None, max_length=320)
    password: str | None = Field(
        default=None,
        max_length=1000,
        description="Stored encrypted and never shown again; leave it out to keep the stored one.",
    )
    from_address: str | None = Field(
        default=None, max_length=320, description="The From address (default: the mailbox's)."
    )
    from_name: str | None = Field(default=None, max_length=200)


class SmtpOut(BaseModel):
    host: str
    port: int
    security: Literal["tls", "starttls", "none"]
    user: str | None
    password_set: bool
    from_address: str | None
    from_name: str | None


class MailSettingsIn(Body):
    acknowledge: bool = Field(
        default=True, description="Acknowledge new items opened by mail (auto-reply)."
    )
    company_name: str = Field(default="ledgerdesk", min_length=1, max_length=200)
    support_name: str | None = Field(
        default=None,
        max_length=200,
        description="The name mail from the support address shows (default: the company's"
        " name; an SMTP server's `from_name` wins).",
        examples=["Acme Support"],
    )
    logo_url: str | None = Field(default=None, max_length=2000)
    colour: str = Field(
        default="#1f6feb",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="The brand's colour: the pages' and mail's accents.",
    )
    button_colour: str = Field(
        default="#0a4cb5",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="Buttons and the widget's launcher, white text on it: it must contrast"
        " at least 4.5:1 with white (WCAG AA), else 422.",
    )
    smtp: SmtpIn | None = Field(
        default=None,
        description="The SMTP server mail leaves through (wins over LEDGERDESK_SMTP_URL).",
    )


class MailSettingsOut(BaseModel):
    acknowledge: bool
    company_name: str
    support_name: str | None
    logo_url: str | None
    colour: str
    button_colour: str
    smtp: SmtpOut | None


class TemplateParts(Body):
    subject: str | None = Field(default=None, max_length=100_000)
    html: str = Field(max_length=100_000)
    text: str = Field(max_length=100_000)


class TemplateOut(BaseModel):
    kind: str
    overridden: bool
    subject: str | None = None
    html: str
    text: str
    defaults: dict[str, str]


class TemplateList(BaseModel):
    items: list[TemplateOut]


class Preview(BaseModel):
    subject: str
    html: str
    text: str


def _parts(body: TemplateParts | None) -> dict[str, str] | None:
    if body is None:
        return None
    return {k: v for k, v in body.model_dump().items() if v is not None}


@router.get(
    "/settings",
    summary="Read the mail settings",
    responses={200: {"model": MailSettingsOut}, **documented(401, 403)},
)
def read_mail_settings(svc: ServicesDep, caller: AdminCaller, response: Response) -> OrjsonResponse:
    """Acknowledgements, branding and the SMTP server (its password never: `password_set`
    says whether one is stored). Admins only."""
    return reply(response, svc.mail_out.settings.shown())


@router.put(
    "/settings",
    summary="Change the mail settings",
    responses={200: {"model": MailSettingsOut}, **documented(401, 403, 422)},
)
def change_mail_settings(
    body: MailSettingsIn, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Replace every mail setting. An SMTP server given without a password keeps the stored
    one; `smtp: null` goes back to LEDGERDESK_SMTP_URL. A user on a server without TLS
    (`security: none`) is refused (422) unless the server is on this machine (localhost,
    127.0.0.0/8, ::1): its password would cross the network in plain text. Admins only."""
    position = svc.mail_out.settings.change(body.model_dump(), ctx)
    written(response, position)
    return reply(response, svc.mail_out.settings.shown())


class ConnectionTest(BaseModel):
    ok: bool
    server: str = Field(examples=["smtp.example.com:587 (starttls)"])
    detail: str = Field(description="What was done, or what went wrong.")


@router.post(
    "/settings/test",
    summary="Test the SMTP server",
    responses={200: {"model": ConnectionTest}, **documented(401, 403, 409)},
)
def test_smtp(svc: ServicesDep, caller: AdminCaller, response: Response) -> OrjsonResponse:
    """Connect to the SMTP server mail leaves through, secure the connection and log in,
    as a send would (no mail is sent): `ok` and what was done, or what went wrong (a
    refused login, no STARTTLS, a server away). 409 when no server is set. Admins only."""
    return reply(response, svc.mail_out.test_connection())


@router.get(
    "/templates",
    summary="List the mail templates",
    responses={200: {"model": TemplateList}, **documented(401, 403)},
)
def list_mail_templates(
    svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """Every kind of mail's templates in force, beside the shipped defaults. Admins only."""
    return reply(response, {"items": svc.mail_out.settings.templates()})


@router.get(
    "/templates/{kind}",
    summary="Read a mail template",
    responses={200: {"model": TemplateOut}, **documented(401, 403, 404, 422)},
)
def read_mail_template(
    kind: Kind, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """One kind's templates in force (subject, HTML, text; the layout has no subject)."""
    return reply(response, svc.mail_out.settings.template(kind))


@router.put(
    "/templates/{kind}",
    summary="Override a mail template",
    responses={200: {"model": TemplateOut}, **documented(401, 403, 404, 422)},
)
def override_mail_template(
    kind: Kind,
    body: TemplateParts,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Use these templates for this kind of mail (Jinja2, sandboxed). They are rendered with
    sample data first: one that does not compile or render is 422, naming the part and the
    line. Admins only."""
    parts = _parts(body)
    assert parts is not None
    position = svc.mail_out.settings.override(kind, parts, ctx)
    written(response, position)
    return reply(response, svc.mail_out.settings.template(kind))


@router.delete(
    "/templates/{kind}",
    status_code=204,
    summary="Go back to the shipped template",
    responses=documented(401, 403, 404, 422),
)
def reset_mail_template(kind: Kind, svc: ServicesDep, caller: AdminCaller, ctx: Ctx) -> Response:
    """Drop the override of this kind: the shipped templates apply again. Admins only."""
    position = svc.mail_out.settings.reset(kind, ctx)
    response = Response(status_code=204)
    written(response, position)
    return response


@router.post(
    "/templates/{kind}/preview",
    summary="Preview a mail template",
    responses={200: {"model": Preview}, **documented(401, 403, 404, 422)},
)
def preview_mail_template(
    kind: Kind,
    svc: ServicesDep,
    caller: AdminCaller,
    response: Response,
    body: TemplateParts | None = None,
) -> OrjsonResponse:
    """This kind of mail rendered with sample data, inside the layout: with the templates
    in the body (a draft, not saved) or, with no body, those in force. A template error is
    422 naming the part and the line."""
    rendered = svc.mail_out.settings.preview(kind, _parts(body))
    shown: dict[str, Any] = {
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
    }
    return reply(response, shown)
