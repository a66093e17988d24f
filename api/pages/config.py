"""What the customer pages need besides the API's services."""

from __future__ import annotations

from dataclasses import dataclass

from commands.portal_sign_in import PortalSignIn


@dataclass(frozen=True)
class PagesConfig:
    """`secret` signs CSRF tokens; `frame_ancestors` is the CSP list of who may frame the
    pages (`'none'`: nobody); `secure_cookies` when the install is served over https."""

    sign_in: PortalSignIn
    secret: bytes
    frame_ancestors: str
    session_seconds: int
    secure_cookies: bool
    public_url: str = "http://127.0.0.1:8000"
