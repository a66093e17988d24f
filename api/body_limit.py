"""Request bodies are bounded by the bytes actually read, chunked or not, before anything
authenticates or parses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.responses import problem

# Room for a multipart form's boundaries, part headers and small fields around the file.
UPLOAD_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class Accepts:
    """A route that takes a body other than JSON: its methods, path and media type."""

    methods: frozenset[str]
    path: re.Pattern[str]
    media_type: str
    files: int = 1  # How many files of the upload limit each the body may carry.


@dataclass(frozen=True)
class BodyLimits:
    """The largest body of each kind: uploads (multipart) and received mail
    (message/rfc822) where a route takes them, and the JSON limit everywhere else — whatever
    type the client says it sends, so declaring another type buys no larger body."""

    json_bytes: int
    upload_bytes: int
    mail_bytes: int
    accepts: tuple[Accepts, ...] = ()

    def for_request(self, method: str, path: str, content_type: str | None) -> tuple[int, int, str]:
        """The byte limit for this request's body, the limit named to the client, and the
        kind of body."""
        media = (content_type or "").partition(";")[0].strip().lower()
        for route in self.accepts:
            if media == route.media_type and method in route.methods and route.path.match(path):
                if media == "message/rfc822":
                    return self.mail_bytes, self.mail_bytes, "message"
                files = self.upload_bytes * route.files
                return files + UPLOAD_OVERHEAD, files, "upload"
        return self.json_bytes, self.json_bytes, "body"


class BodyLimitMiddleware:
    """Counts the body as the app receives it and answers 413 (`/problems/too-large`) once
    it passes the limit, without reading any further.

    A declared Content-Length over the limit is refused before a byte is read. Past the
    limit, the app is told the client went away (so FastAPI's body parser stops) and its
    own answer to that is dropped: the client gets the 413, with `Connection: close` so the
    server reads nothing more of it. A response the app already started is left alone.
    """

    def __init__(
        self,
        app: ASGIApp,
        limits: BodyLimits,
        page: Callable[[Scope, int], Response] | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        # The answer on a page's path (outside /api/): a page saying so, not a problem.
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit, named, kind = self.limits.for_request(
            scope["method"], scope["path"], headers.get("content-type")
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            detail = f"a {kind} of {declared} bytes exceeds the limit of {named} bytes"
            await self._refuse(scope, receive, send, named, detail)
            return
        reading = _Reading()

        async def counted() -> Message:
            if reading.refused or reading.over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                reading.received += len(message.get("body", b""))
                if reading.received > limit:
                    reading.over = True
                    if not reading.started:
                        reading.refused = True
                        detail = f"the {kind} exceeds the limit of {named} bytes"
                        await self._refuse(scope, receive, send, named, detail)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if reading.refused:
                return  # The client has its 413; the app's answer to the "disconnect" goes.
            if message["type"] == "http.response.start":
                reading.started = True
            await send(message)

        await self.app(scope, counted, guarded)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, limit: int, detail: str
    ) -> None:
        path = scope.get("path", "")
        if self.page is not None and not path.startswith("/api/"):
            page = self.page(scope, limit)
            page.headers["Connection"] = "close"
            await page(scope, receive, send)
            return
        response = problem(
            413,
            "too-large",
            "Request body too large",
            detail,
            path,
            headers={"Connection": "close"},
            limit=limit,
        )
        await response(scope, receive, send)


@dataclass
class _Reading:
    received: int = 0
    started: bool = False
    over: bool = False
    refused: bool = False
