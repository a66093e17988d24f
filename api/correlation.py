"""Every answer carries `X-Correlation-ID`: the caller's (when it is a usable one) or a new one,
the same id the request's events record — and every log line of the request carries it, with
one access line per request when it ends (`ledgerdesk.access`: method, route template,
status, duration; the actor once authenticated)."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commands.log_context import log_context
from commands.metrics import count_request

HEADER = b"x-correlation-id"
FRESH = b"x-view-fresh"
MAX_LENGTH = 100

access = logging.getLogger("ledgerdesk.access")


def route_of(scope: Scope) -> str:
    """The matched route's template (`/api/v1/tickets/{number}`), never the path itself: a
    path can hold a token (an invitation's, a sign-in link's). `unmatched` where no API or
    page route answered (a 404, static assets, a request refused before routing)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else "unmatched"


def usable(value: str) -> bool:
    """A caller's id is kept when it is short printable ASCII (it goes into every event)."""
    return 0 < len(value) <= MAX_LENGTH and value.isascii() and value.isprintable()


class CorrelationIds:
    """Pure ASGI middleware: picks the request's correlation id (kept in the scope's state for
    the `correlation` dependency) and adds it to the answer's headers; and `X-View-Fresh`
    (kept in the state by the read's wait) to answers that lack it, problems included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER, b"").decode("latin-1")
        correlation_id = given if usable(given) else str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        with log_context(correlation_id=correlation_id):
            await self._answer(scope, receive, send, correlation_id)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, correlation_id: str
    ) -> None:
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: list[Any] = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != HEADER
                ]
                headers.append((HEADER, correlation_id.encode("latin-1")))
                # A read that waited for the views says how that went, even when it ends in
                # a problem (a 404 after a wait that timed out is not a real 404).
                fresh = scope["state"].get("view_fresh")
                if fresh is not None and not any(k.lower() == FRESH for k, _ in headers):
                    headers.append((FRESH, fresh.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not status:
                raise
            # Answered (a 500, logged with its traceback by api.problems): the server need
            # not log it again, without the request's context.
        finally:
            seconds = time.perf_counter() - started
            count_request(scope["method"], route_of(scope), status, seconds)
            access.info(
                "%s %s %s",
                scope["method"],
                route_of(scope),
                status or "-",
                extra={
                    "method": scope["method"],
                    "route": route_of(scope),
                    "status": status or None,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
