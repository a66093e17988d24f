"""The customer app's pages (server-rendered, translated, branded): the portal (requests and
shared projects), the web forms and the knowledge base."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from api.pages import brand, knowledge_base, portal, projects, requests, web_forms, widget
from api.pages.forms import MAX_FIELD, FormRefusedError
from api.pages.rendering import render
from api.pages.security import CsrfError
from api.pages.switched import AppOffError

ASSETS_DIR = Path(__file__).resolve().parents[1] / "static" / "pages"
ASSETS_PATH = "/assets"


def install(app: FastAPI) -> None:
    """Add the pages and their vendored assets (the brand's style sheet before the files it
    would otherwise be looked up among), and the page that answers a refused form."""
    app.include_router(brand.router)
    app.include_router(portal.router)
    app.include_router(requests.router)
    app.include_router(web_forms.router)
    app.include_router(projects.router)
    app.include_router(knowledge_base.router)
    app.include_router(widget.router)
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="assets")

    @app.exception_handler(FormRefusedError)
    def refused_field(request: Request, exc: FormRefusedError) -> Response:
        return render(
            request, "refused.html", 422, field=exc.field, reason=exc.reason, limit=MAX_FIELD
        )

    # The API's handler, registered before the pages (a plain function, not a coroutine).
    problem_for = cast(
        Callable[[Request, Exception], Response], app.exception_handlers[RequestValidationError]
    )

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        """On a page, a path no page has (a number out of range) answers the not-found page,
        and a parameter it cannot take (text with a character no store keeps) says which;
        the API answers its problem."""
        if request.url.path.startswith("/api/"):
            return problem_for(request, exc)
        first = exc.errors()[0]
        if first["loc"][0] == "path":
            return render(request, "not_found.html", 404)
        reason = "character" if first["type"] == "disallowed_character" else "value"
        return render(request, "refused.html", 422, field=str(first["loc"][-1]), reason=reason,
                      limit=MAX_FIELD)  # fmt: skip

    @app.exception_handler(CsrfError)
    def refused_form(request: Request, exc: CsrfError) -> Response:
        return render(request, "csrf.html", 403)

    @app.exception_handler(AppOffError)
    def switched_off(request: Request, exc: AppOffError) -> Response:
        return render(request, "switched_off.html", 404, what=exc.app)


def too_large(scope: Scope, limit: int) -> Response:
    """The page that answers a form whose files are over the limit (before any is read)."""
    return render(Request(scope), "too_large.html", 413, limit=limit // requests.MAX_FILES)
