"""Read-your-writes by default: a caller's reads wait (briefly) for the views to reach the
caller's own last write, in whichever API process it was made.

The caller is its credential (a staff bearer token or a portal session token), hashed.
`RecordWrites` notes each successful write's `X-Log-Position` against it before the
answer leaves; the `fresh(...)` dependency of every view read looks it up and waits.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from http.cookies import CookieError, SimpleCookie

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import InvalidParameterError
from projections.caller_positions import CallerPositions
from projections.runner import ProjectionRunner

PAGES_SESSION_COOKIE = "ld_portal"  # api.pages.security.SESSION_COOKIE
log = logging.getLogger("ledgerdesk.api")
READING = frozenset({"GET", "HEAD", "OPTIONS"})
# Keys are not the hashes the write model keeps of tokens: the table cannot be joined to them.
_SALT = b"ledgerdesk read-your-writes\x00"


def bearer_credential(headers: Mapping[str, str]) -> str | None:
    """The credential of `Authorization: Bearer <credential>`, if the request has one."""
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and credential else None


def caller_key(headers: Mapping[str, str]) -> str | None:
    """Who is asking, for read-your-writes: a hash of the bearer credential, or of the
    customer pages' session cookie, if any."""
    credential = bearer_credential(headers) or session_cookie(headers)
    if credential is None:
        return None
    return hashlib.sha256(_SALT + credential.encode()).hexdigest()


def session_cookie(headers: Mapping[str, str]) -> str | None:
    """The customer pages' session (the portal token they keep in a cookie), if sent."""
    cookies = SimpleCookie()
    try:
        cookies.load(headers.get("cookie", ""))
    except CookieError:
        return None
    held = cookies.get(PAGES_SESSION_COOKIE)
    return held.value if held is not None and held.value else None


def wait_for_views(
    positions: CallerPositions,
    runner: ProjectionRunner,
    timeout: float,
    caller: str | None,
    min_position: int | None,
    views: Sequence[str],
    authenticated: Callable[[], bool] = lambda: True,
) -> bool | None:
    """Wait until `views` reach the caller's last write and `min_position` (the higher);
    True when they did, False on timeout, None when there was nothing to wait for. A
    `min_position` past the log's head is refused (InvalidParameterError). Nobody waits
    who is not signed in (`authenticated`, asked only when there is something to wait for).

    Costs one statement when the views are already there: the caller's row (by primary
    key) and the views' tracking rows, together.
    """
    if caller is None and min_position is None:
        return None
    mine, reached = positions.lookup(caller or "", views)
    if mine is None and min_position is None:
        return None
    target = max(mine or 0, min_position or 0)
    if reached is not None and reached >= target:
        return True
    if not authenticated():
        return None  # The route's own authentication answers 401: no wait, no hint first.
    if min_position is not None and min_position > runner.log.head():
        # Every X-Log-Position is given out after its commit: one past the head was never
        # given out, and waiting for it would only spend the timeout.
        raise InvalidParameterError(
            "header", "X-Min-Position", "is past the end of the log: not a position we gave out"
        )
    return runner.wait_for(target, views, timeout, until_failed=True)


class RecordWrites:
    """Before a successful write's answer leaves, records the `X-Log-Position` it carries
    as its caller's last write, so the caller's next read (through any process) waits for
    it. Reads and anonymous requests pass through untouched."""

    def __init__(self, app: ASGIApp, positions: CallerPositions) -> None:
        self.app = app
        self.positions = positions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = caller_key(Headers(scope=scope)) if scope["type"] == "http" else None
        if caller is None or scope["method"] in READING:
            await self.app(scope, receive, send)
            return

        async def recording(message: Message) -> None:
            # 2xx, or the 303 by which a page's form hands over to the page showing it.
            if message["type"] == "http.response.start" and (
                200 <= message["status"] < 300 or message["status"] == 303
            ):
                position = Headers(raw=message.get("headers", [])).get("x-log-position", "")
                if position.isdigit():
                    await self._record(caller, int(position))
            await send(message)

        await self.app(scope, receive, recording)

    async def _record(self, caller: str, position: int) -> None:
        try:
            await anyio.to_thread.run_sync(self.positions.record, caller, position)
        except Exception:
            # The write is committed: failing its answer would invite a retry that writes
            # twice. Its X-Log-Position, sent back as X-Min-Position, still makes a read wait.
            log.exception("could not record a write position; answering the write anyway")
