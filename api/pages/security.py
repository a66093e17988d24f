"""What every page answer carries for safety, and the checks forms go through.

- Headers: a strict Content-Security-Policy (no inline script or style: the pages have
  none), who may frame them (`LEDGERDESK_FRAME_ANCESTORS`), no MIME sniffing, and no
  referrer beyond our own origin.
- CSRF: a random value in an `HttpOnly` cookie, and in every form a token derived from it
  with the install's secret; a POST whose token does not match is refused (403). With
  `SameSite=Lax` cookies besides, another site can neither read nor forge it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from api.pages.config import PagesConfig

CSRF_COOKIE = "ld_csrf"
SESSION_COOKIE = "ld_portal"  # api.read_your_writes reads it too
LANGUAGE_COOKIE_DAYS = 365


class CsrfError(Exception):
    """Raised when a form comes without the token of this browser's CSRF cookie."""


def security_headers(response: Response, config: PagesConfig, logo_url: str | None = None) -> None:
    """The safety headers; images from any https: address, and from the origin of the
    company's logo when that is an http: one (as admins may set it for mail)."""
    ancestors = config.frame_ancestors
    images = "'self' data: https:"
    logo = urlsplit(logo_url or "")
    if logo.scheme == "http" and logo.netloc:
        images += f" http://{logo.netloc}"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images};"
        f" form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
    )
    if ancestors.strip() == "'none'":
        response.headers["X-Frame-Options"] = "DENY"
    elif ancestors.strip() == "'self'":
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def csrf_seed(request: Request) -> tuple[str, bool]:
    """This browser's CSRF cookie value, and whether it is new (to be set on the answer)."""
    seed = request.cookies.get(CSRF_COOKIE, "")
    if len(seed) >= 32:
        return seed, False
    return secrets.token_urlsafe(32), True


def csrf_token(config: PagesConfig, seed: str) -> str:
    return hmac.new(config.secret, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, config: PagesConfig, token: str) -> None:
    seed = request.cookies.get(CSRF_COOKIE, "")
    if len(seed) < 32 or not hmac.compare_digest(csrf_token(config, seed), token):
        raise CsrfError


def set_cookie(
    response: Response, config: PagesConfig, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=config.secure_cookies,
        samesite="lax",
        path="/",
    )
