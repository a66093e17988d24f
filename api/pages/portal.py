"""The customer portal's pages: signing in (an invitation, then email and password), the
list of the requests a contact may see, one request with its conversation and a reply form.

Pages only translate: every rule (who sees which item, what a customer may write) is the
portal commands' and the portal view's, exactly as for the portal API. An item a contact may
not see answers the same 404 page as a number that does not exist.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import SecretStr, ValidationError
from starlette.responses import Response

from api.deps import Correlation, client_address
from api.pages.forms import Form, read_form
from api.pages.rendering import config_of, redirect, render, services_of
from api.pages.security import SESSION_COOKIE, set_cookie
from api.pages.switched import apps_on
from api.throttle import TooManyAttemptsError
from commands.errors import InvalidTokenError
from commands.log_context import note
from commands.models import Context
from commands.portal import (
    SIGN_IN_LINK_PREFIX,
    EndPortalSession,
    PortalCaller,
    StartPortalSession,
)
from commands.portal_sign_in import AcceptPortalInvitation, PortalLogIn
from domain.errors import InvalidCredentialsError
from domain.item_numbers import MAX_ITEM_NUMBER
from domain.values import Actor

router = APIRouter(include_in_schema=False, dependencies=[Depends(apps_on("portal"))])
Number = Annotated[int, Path(ge=1, le=MAX_ITEM_NUMBER)]
PAGE_SIZE = 25
SHOWS = ("open", "finished", "all")


def caller_of(request: Request) -> PortalCaller | None:
    """The customer whose session cookie came with `request`, if it is live."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    try:
        caller = services_of(request).portal.authenticate(token)
    except InvalidTokenError:
        return None
    note(actor=f"contact:{caller.contact.id}")  # for the request's log lines
    return caller


def to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(request, f"/portal/login?next={quote(target)}")


# A portal page's path (letters, digits, '-' and '_' between slashes: no '.' segment, no
# other host) or a web form's, and a query of URL-safe characters (so a Location header
# carries it as is).
_NEXT = re.compile(
    r"(?:/portal(?:/[A-Za-z0-9_-]+)*|/forms/[a-z][a-z0-9_]*)/?(?:\?[A-Za-z0-9_.~%=&+-]*)?"
)


def _safe_next(value: str | None) -> str:
    """Only our own portal pages: never another site (an open redirect), never a path a
    browser would resolve elsewhere, never text a header cannot carry."""
    if value and _NEXT.fullmatch(value):
        return value
    return "/portal"


def customer_context(caller: PortalCaller, correlation_id: str) -> Context:
    return Context(actor=Actor.customer(caller.contact.email), correlation_id=correlation_id)


def _signed_in(request: Request, caller: PortalCaller, token: str, to: str) -> Response:
    response = redirect(request, _safe_next(to))
    config = config_of(request)
    set_cookie(response, config, SESSION_COOKIE, token, config.session_seconds)
    return response


# --- signing in --------------------------------------------------------------------------


def _login(request: Request, status: int = 200, **context: Any) -> Response:
    links = services_of(request).portal.mail_configured()
    values = {"next": "/portal", "error": None, "email": "", **context}
    return render(request, "portal/login.html", status, mail_links=links, **values)


@router.get("/portal/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if caller_of(request) is not None:
        return redirect(request, _safe_next(next))
    return _login(request, next=_safe_next(next))


@router.post("/portal/login")
async def log_in(request: Request, correlation_id: Correlation) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_log_in, request, form, correlation_id)


def _log_in(request: Request, form: Form, correlation_id: str) -> Response:
    svc = services_of(request)
    email, to = form.text("email"), _safe_next(form.text("next"))
    error, status = None, 200
    try:
        cmd = PortalLogIn(email=email, password=SecretStr(form.text("password")))
        with svc.throttle.attempt(client_address(request), email):
            contact, token, _ = config_of(request).sign_in.log_in(
                cmd, Context(actor=Actor.system("portal"), correlation_id=correlation_id)
            )
    except (ValidationError, InvalidCredentialsError):
        error, status = "wrong", 401
    except TooManyAttemptsError:
        error, status = "throttled", 429
    if error is not None:
        return _login(request, status, next=to, error=error, email=email)
    return _signed_in(request, PortalCaller(contact, ""), token, to)


@router.post("/portal/sign-in-link")
async def ask_for_link(request: Request, correlation_id: Correlation) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_ask_for_link, request, form, correlation_id)


def _ask_for_link(request: Request, form: Form, correlation_id: str) -> Response:
    """Mail a sign-in link; the answer is the same whether the address is known or not."""
    svc = services_of(request)
    email = form.text("email").strip()[:320]
    ctx = Context(actor=Actor("anonymous", "portal"), correlation_id=correlation_id)
    try:
        # Per client, and per address apart from its password failures: nobody can flood an
        # inbox with links, nor lock its owner out of signing in by password by asking.
        svc.throttle.request(client_address(request), email)
        svc.portal.mail_sign_in_link(email, ctx)
    except TooManyAttemptsError:
        return _login(request, 429, error="throttled", email=email)
    return render(request, "portal/link_sent.html", email=email)


@router.get("/portal/sign-in/{invitation}")
def sign_in_link_page(request: Request, invitation: str) -> Response:
    """A button, not a sign-in: mail scanners open links, and must not use them up."""
    try:
        config_of(request).sign_in.linked(invitation)
    except InvalidCredentialsError:
        return render(request, "portal/link_invalid.html", 404)
    return render(request, "portal/sign_in_link.html")


@router.post("/portal/sign-in/{invitation}")
async def use_sign_in_link(
    request: Request, invitation: str, correlation_id: Correlation
) -> Response:
    await read_form(request)
    return await run_in_threadpool(_use_link, request, invitation, correlation_id)


def _use_link(request: Request, invitation: str, correlation_id: str) -> Response:
    svc = services_of(request)
    ctx = Context(actor=Actor("anonymous", "portal"), correlation_id=correlation_id)
    try:
        with svc.throttle.attempt(client_address(request)):
            _, contact, token = svc.portal.start_session(
                StartPortalSession(invitation=SecretStr(invitation)), ctx, (SIGN_IN_LINK_PREFIX,)
            )
    except InvalidCredentialsError:
        return render(request, "portal/link_invalid.html", 404)
    except TooManyAttemptsError:
        return _login(request, 429, error="throttled")
    return _signed_in(request, PortalCaller(contact, ""), token, "/portal")


@router.get("/portal/invite/{invitation}")
def invitation_page(request: Request, invitation: str) -> Response:
    try:
        contact = config_of(request).sign_in.invited(invitation)
    except InvalidCredentialsError:
        return render(request, "portal/invitation_invalid.html", 404)
    return render(request, "portal/invite.html", email=contact.email, error=None)


@router.post("/portal/invite/{invitation}")
async def accept_invitation(
    request: Request, invitation: str, correlation_id: Correlation
) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_accept, request, invitation, form, correlation_id)


def _accept(request: Request, invitation: str, form: Form, correlation_id: str) -> Response:
    config = config_of(request)
    try:
        contact = config.sign_in.invited(invitation)
    except InvalidCredentialsError:
        return render(request, "portal/invitation_invalid.html", 404)
    password, again = form.text("password"), form.text("password_again")
    error = "mismatch" if password != again else ("short" if len(password) < 10 else None)
    if error is not None:
        return render(request, "portal/invite.html", 422, email=contact.email, error=error)
    cmd = AcceptPortalInvitation(invitation=SecretStr(invitation), password=SecretStr(password))
    ctx = Context(actor=Actor.customer(contact.email), correlation_id=correlation_id)
    try:
        contact, token = config.sign_in.accept_invitation(cmd, ctx)
    except InvalidCredentialsError:
        return render(request, "portal/invitation_invalid.html", 404)
    return _signed_in(request, PortalCaller(contact, ""), token, "/portal")


@router.post("/portal/logout")
async def log_out(request: Request, correlation_id: Correlation) -> Response:
    await read_form(request)
    return await run_in_threadpool(_log_out, request, correlation_id)


def _log_out(request: Request, correlation_id: str) -> Response:
    caller = caller_of(request)
    if caller is not None:
        cmd = EndPortalSession(contact_id=caller.contact.id, token_id=caller.token_id)
        services_of(request).portal.end_session(cmd, customer_context(caller, correlation_id))
    response = redirect(request, "/portal/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
