"""The API's documentation pages, Swagger UI at `/docs` and ReDoc at `/redoc`, served from
assets vendored in `api/static/docs/`: they work offline and load nothing from a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_PATH = "/api/static"
ASSETS = f"{STATIC_PATH}/docs"
OPENAPI_URL = "/openapi.json"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    """Swagger UI over the OpenAPI document."""
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="ledgerdesk API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    """ReDoc over the OpenAPI document."""
    return get_redoc_html(
        openapi_url=OPENAPI_URL,
        title="ledgerdesk API",
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon-32x32.png",
        with_google_fonts=False,
    )


def install(app: FastAPI) -> None:
    """Serve the vendored assets and the two pages."""
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
