"""The company's colour as a style sheet: the pages allow no inline style (CSP)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.pages.rendering import branding, services_of

router = APIRouter(include_in_schema=False)


@router.get("/assets/brand.css")
def brand_css(request: Request) -> Response:
    colour = branding(services_of(request))["colour"]  # Checked as #rrggbb when set.
    return Response(
        f":root {{ --brand: {colour}; }}\n",
        media_type="text/css",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
