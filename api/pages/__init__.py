"""The customer app's pages (server-rendered, translated, branded): the portal for now; the
web forms and the knowledge base join it here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from api.pages import brand, knowledge_base, portal, requests
from api.pages.rendering import render
from api.pages.security import CsrfError

ASSETS_DIR = Path(__file__).resolve().parents[1] / "static" / "pages"
ASSETS_PATH = "/assets"


def install(app: FastAPI) -> None:
    """Add the pages and their vendored assets (the brand's style sheet before the files it
    would otherwise be looked up among), and the page that answers a refused form."""
    app.include_router(brand.router)
    app.include_router(portal.router)
    app.include_router(requests.router)
    app.include_router(knowledge_base.router)
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="assets")

    @app.exception_handler(CsrfError)
    def refused_form(request: Request, exc: CsrfError) -> Response:
        return render(request, "csrf.html", 403)

    @app.exception_handler(knowledge_base.KnowledgeBaseOffError)
    def knowledge_base_off(request: Request, exc: knowledge_base.KnowledgeBaseOffError) -> Response:
        return render(request, "switched_off.html", 404, what="knowledge_base")

    @app.exception_handler(portal.PortalOffError)
    def portal_off(request: Request, exc: portal.PortalOffError) -> Response:
        return render(request, "switched_off.html", 404, what="portal")
