"""Rendering a page: one Jinja2 environment (autoescaping on, undefined names an error), the
request's language, the company's branding, the CSRF token, and the safety headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.deps import Services
from api.pages import i18n
from api.pages.config import PagesConfig
from api.pages.security import (
    CSRF_COOKIE,
    LANGUAGE_COOKIE_DAYS,
    csrf_seed,
    csrf_token,
    security_headers,
    set_cookie,
)
from domain.mail.settings import company_of

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "pages"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def config_of(request: Request) -> PagesConfig:
    services = services_of(request)
    assert services.pages is not None, "the pages are not configured"
    return services.pages


def branding(services: Services) -> dict[str, Any]:
    return company_of(services.mail_out.settings.current())


def render(
    request: Request,
    template: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """`template` rendered for `request`, with what every page needs."""
    services = services_of(request)
    config = config_of(request)
    language = i18n.language_of(request)
    i18n.use(language)
    seed, new_seed = csrf_seed(request)
    here, query = page_of(request)
    switch = {code: f"{here}?{urlencode({**query, 'lang': code})}" for code in i18n.LANGUAGES}
    brand = branding(services)
    body = environment.get_template(template).render(
        lang=language,
        languages=i18n.LANGUAGES,
        switch=switch,
        brand=brand,
        csrf=csrf_token(config, seed),
        when=lambda moment: i18n.when(moment, language),
        number=lambda value: i18n.number(value, language),
        day=lambda value: i18n.day(value, language),
        month=lambda value: i18n.month(value, language),
        percent=lambda value: i18n.percent(value, language),
        **context,
    )
    response = HTMLResponse(body, status_code=status)
    response.headers["Content-Language"] = language
    security_headers(response, config, brand["logo_url"])
    if new_seed:
        set_cookie(response, config, CSRF_COOKIE, seed, 86400 * LANGUAGE_COOKIE_DAYS)
    remember_language(request, response)
    return response


def page_of(request: Request) -> tuple[str, dict[str, str]]:
    """The page a language switch reloads: this one, or after a form (a POST's answer has
    no page of its own to GET) the page the form was on, when it was one of ours."""
    if request.method in ("GET", "HEAD"):
        return request.url.path, dict(request.query_params)
    referer = urlsplit(request.headers.get("referer", ""))
    ours = referer.netloc == request.url.netloc
    if ours and referer.path.startswith("/") and not referer.path.startswith("//"):
        return referer.path, dict(parse_qsl(referer.query))
    return "/portal", {}


def remember_language(request: Request, response: Response) -> None:
    asked = i18n.asked_language(request)
    if asked is not None:
        set_cookie(
            response,
            config_of(request),
            i18n.LANGUAGE_COOKIE,
            asked,
            86400 * LANGUAGE_COOKIE_DAYS,
        )


def redirect(request: Request, to: str, position: int = 0) -> Response:
    """303 See Other to `to` (after a form), with the safety headers; with the `position` of
    the form's write, so that the page it leads to waits for it (read-your-writes)."""
    response = Response(status_code=303, headers={"Location": to})
    if position:
        response.headers["X-Log-Position"] = str(position)
    security_headers(response, config_of(request))
    return response
