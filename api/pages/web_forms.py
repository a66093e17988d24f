"""The public web forms: `/forms/{form}` offers one item type. A signed-in contact's request
opens at once; anyone else (where the form and the switches allow it) gets a mail with a
link that confirms their address, and their request opens when they follow it.

Spam defences, without third parties: a field people never see (a bot fills it in), a
signed time the form was shown (sent back sooner than MIN_SECONDS is a bot's speed), and a
limit of submissions per client. Pages only translate: the rules are the intake commands'."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import Correlation, client_address
from api.pages.forms import Form, read_form
from api.pages.portal import caller_of, customer_context
from api.pages.rendering import config_of, redirect, render, services_of
from api.pages.requests import WITH_FILES, sent_values, stored_files
from api.pages.switched import apps_on
from api.throttle import TooManyAttemptsError
from commands.errors import AttachmentTooLargeError
from commands.intake.submissions import FormUnavailableError, SubmitForm
from commands.models import Context
from commands.portal import OpenPortalTicket, PortalCaller
from domain.automated_messages import own_text
from domain.errors import DomainError, InvalidCredentialsError, InvalidEmailError
from domain.intake.item_types import FieldValueError, check_submission
from domain.values import Actor, Channel, normalise_email

HONEYPOT = "website"
MIN_SECONDS = 3
MAX_SECONDS = 86_400
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


router = APIRouter(include_in_schema=False, dependencies=[Depends(apps_on("web_forms", "tickets"))])


def shown_stamp(secret: bytes, key: str, moment: int) -> str:
    """When form `key` was shown, signed with the install's key (the client cannot forge it,
    nor take one form's for another)."""
    mac = hmac.new(secret, f"form-shown:{key}:{moment}".encode(), hashlib.sha256)
    return f"{moment}.{mac.hexdigest()[:32]}"


def sent_like_a_person(request: Request, key: str, form: Form) -> bool:
    """The hidden field empty, and the form shown between MIN_SECONDS and a day ago."""
    if form.text(HONEYPOT):
        return False
    sent = form.text("shown")
    moment = sent.partition(".")[0]
    if not moment.isdigit() or len(moment) > 12:
        return False
    if not hmac.compare_digest(shown_stamp(config_of(request).secret, key, int(moment)), sent):
        return False
    return MIN_SECONDS <= time.time() - int(moment) <= MAX_SECONDS


def _page(
    request: Request,
    key: str,
    caller: PortalCaller | None,
    status: int = 200,
    values: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    """The form's page: its fields for a signed-in contact or (anonymous forms) anyone, a
    sign-in prompt otherwise, and "not available" when it takes nothing now."""
    submissions = services_of(request).submissions
    anonymous = caller is None
    try:
        form = submissions.form(key, anonymous=anonymous)
    except FormUnavailableError:
        if caller is not None:
            return render(request, "forms/unavailable.html", 404, contact=caller.contact)
        try:
            form = submissions.form(key, anonymous=False)
        except FormUnavailableError:
            return render(request, "forms/unavailable.html", 404, contact=None)
        return render(request, "forms/sign_in.html", 200, form=form, contact=None)
    return render(
        request, "forms/form.html", status, form=form, kind=form["type"], values=values or {},
        problem=problem, error=error, contact=caller.contact if caller else None,
        shown=shown_stamp(config_of(request).secret, key, int(time.time())), honeypot=HONEYPOT,
    )  # fmt: skip


def signed_in(request: Request) -> PortalCaller | None:
    """The contact signed in to the portal, while the portal is on (off, nobody is: a
    request opened as them would lead to a page they cannot open)."""
    if not services_of(request).company.app_on("portal"):
        return None
    return caller_of(request)


@router.get("/forms/{key}")
def form_page(request: Request, key: Key) -> Response:
    return _page(request, key, signed_in(request))


@router.post("/forms/{key}", openapi_extra=WITH_FILES)
async def submit(request: Request, key: Key, correlation_id: Correlation) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_submit, request, key, form, correlation_id)


def _submit(request: Request, key: str, form: Form, correlation_id: str) -> Response:
    svc = services_of(request)
    caller = signed_in(request)
    try:
        definition = svc.submissions.form(key, anonymous=caller is None)
    except FormUnavailableError:
        return _page(request, key, caller)
    kind = definition["type"]
    values = sent_values(form, kind)
    values.update(email=form.text("email").strip(), name=form.text("name").strip())
    if caller is None and not sent_like_a_person(request, key, form):
        return _page(request, key, caller, 422, values, error="too-fast")
    try:
        svc.throttle.submission(client_address(request))
        sent = check_submission(kind, values)  # Before storing any bytes.
        if caller is None:  # The sender, before any file is stored.
            normalise_email(values["email"][:320], "email")
            if len(values["email"]) > 320 or len(values["name"]) > 200:
                return _page(request, key, caller, 422, values, error="sender-too-long")
            svc.throttle.request(client_address(request), values["email"])
        stored = stored_files(request, form)
    except TooManyAttemptsError:
        return _page(request, key, caller, 429, values, error="throttled")
    except FieldValueError as wrong:
        problem = {"field": wrong.field, "code": wrong.code}
        return _page(request, key, caller, 422, values, problem)
    except InvalidEmailError:
        return _page(request, key, caller, 422, values, error="email")
    except AttachmentTooLargeError:
        return _page(request, key, caller, 413, values, error="too-large")
    if caller is not None:
        cmd = OpenPortalTicket(
            title=sent.title, description=sent.description, priority=sent.priority,
            fields=sent.values, item_type=kind["key"], attachments=stored,
            channel=Channel.WEBFORM,
        )  # fmt: skip
        try:
            opened = svc.portal.open_ticket(cmd, customer_context(caller, correlation_id))
        except DomainError:  # The form or its type changed meanwhile.
            return _page(request, key, caller)
        return redirect(request, f"/portal/items/{opened.number}", opened.position)
    custom = {k: v for k, v in values.items() if k not in ("email", "name")}
    submission = SubmitForm(
        form=key, email=values["email"], name=values["name"], values=custom, attachments=stored
    )
    ctx = Context(actor=Actor("anonymous", "web form"), correlation_id=correlation_id)
    try:
        svc.submissions.submit(submission, ctx)
    except InvalidEmailError:
        return _page(request, key, caller, 422, values, error="email")
    except DomainError:  # The form or its type changed meanwhile.
        return _page(request, key, caller)
    return render(request, "forms/sent.html", form=definition, email=values["email"], contact=None)


@router.get("/forms/confirm/{token}")
def confirm_page(request: Request, token: str) -> Response:
    """A button, not the confirmation: mail scanners open links, and must not use them up."""
    try:
        services_of(request).submissions.pending(token)
    except InvalidCredentialsError:
        return render(request, "forms/link_invalid.html", 404, contact=None)
    return render(request, "forms/confirm.html", contact=None)


@router.post("/forms/confirm/{token}")
async def confirm(request: Request, token: str, correlation_id: Correlation) -> Response:
    await read_form(request)
    return await run_in_threadpool(_confirm, request, token, correlation_id)


def _confirm(request: Request, token: str, correlation_id: str) -> Response:
    svc = services_of(request)
    ctx = Context(actor=Actor("anonymous", "web form"), correlation_id=correlation_id)
    try:
        number, _ = svc.submissions.confirm(token, ctx)
    except FormUnavailableError:  # The form, its type or the switches changed since.
        return render(request, "forms/unavailable.html", 404, contact=None)
    except DomainError:  # Used or expired.
        return render(request, "forms/link_invalid.html", 404, contact=None)
    said = own_text(svc.company.messages(), "form_received", {"number": number})
    return render(request, "forms/confirmed.html", opened=number, said=said, contact=None)
