"""The company's brand for the pages, the widget and mail: its colour as a style sheet (the
pages allow no inline style, CSP) and its uploaded logo."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from api.pages.rendering import branding, services_of

router = APIRouter(include_in_schema=False)


@router.get("/assets/brand.css")
def brand_css(request: Request) -> Response:
    brand = branding(services_of(request))  # Colours checked as #rrggbb when set.
    return Response(
        f":root {{ --brand: {brand['colour']}; --button: {brand['button_colour']}; }}\n",
        media_type="text/css",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/brand/logo/{sha256}")
def logo(request: Request, sha256: str = Path(pattern=r"^[0-9a-f]{64}$")) -> Response:
    """The logo admins uploaded, while it is the one in use (any other file of the blob
    store is not served here)."""
    svc = services_of(request)
    current = svc.mail_out.settings.logo()
    if current is None or current["sha256"] != sha256:
        return Response("not found", 404, media_type="text/plain")
    return Response(
        svc.commands.blobs.read_bytes(sha256),  # A logo is small (MAX_LOGO_BYTES).
        media_type=current["media_type"],
        headers={
            "Cache-Control": "public, max-age=86400, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
