"""CORS for the widgets' sites: a page on a site some widget allows may call the customer
API from its own scripts (`/api/v1/widgets/...` and `/api/v1/portal/...`) with a bearer
token; no cookie travels (no credentials). The allowed sites are read from the write model at
each request that names an origin, so an admin's change holds at once in every process.

Starlette's CORSMiddleware answers the preflights and sets the headers; only who is allowed
comes from here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PATHS = ("/api/v1/widgets/", "/api/v1/portal/")
_allowed: ContextVar[str | None] = ContextVar("cors_allowed_origin", default=None)


class WidgetSitesCors(CORSMiddleware):
    def __init__(self, app: ASGIApp, origins: Callable[[], frozenset[str]]) -> None:
        super().__init__(
            app,
            allow_methods=("GET", "POST", "PUT", "PATCH", "DELETE"),
            allow_headers=("Authorization", "Content-Type", "Last-Event-ID", "X-Min-Position"),
            expose_headers=(
                "Location",
                "X-Log-Position",
                "X-Message-ID",
                "X-Attachment-ID",
                "Retry-After",
                "ETag",
            ),
            max_age=600,
        )
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PATHS):
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if origin is None:
            # What the answer holds depends on the origin: a cache must keep them apart.
            await self.app(scope, receive, functools.partial(_vary_origin, send=send))
            return
        known = await anyio.to_thread.run_sync(self.origins)
        token = _allowed.set(origin if origin in known else None)
        try:
            await super().__call__(scope, receive, send)
        finally:
            _allowed.reset(token)

    def is_allowed_origin(self, origin: str) -> bool:
        return origin == _allowed.get()


async def _vary_origin(message: Message, send: Send) -> None:
    if message["type"] == "http.response.start":
        headers = MutableHeaders(scope=message)
        headers.add_vary_header("Origin")
    await send(message)
