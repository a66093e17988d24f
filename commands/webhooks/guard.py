"""The delivery guard: where a webhook's URL leads is judged at subscription and again at
every delivery (the name resolved anew, so a name that later points inside — DNS rebinding
— is caught), and a delivery connects to the very address that was judged, never
following a redirect.

The resolver is injected (`Resolve`), so tests judge names without a network."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from domain.errors import InvalidValueError
from domain.webhooks.addresses import (
    Address,
    address_allowed,
    host_allowed,
    is_public,
    literal_address,
)
from domain.webhooks.deliveries import RESPONSE_KEPT

# host, port -> the addresses it resolves to (as text).
Resolve = Callable[[str, int], list[str]]
# The machine's trusted certificates, loaded once (not once per delivery).
TLS = ssl.create_default_context()


def system_resolver(host: str, port: int) -> list[str]:
    """The machine's resolver (A and AAAA records)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class TargetRefusedError(InvalidValueError):
    """A URL that leads somewhere a webhook may not go (422 at subscription; a failed
    attempt at delivery)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)


@dataclass(frozen=True)
class Target:
    """A URL judged: where to connect (`address`), and the host it names."""

    url: str
    scheme: str
    host: str
    port: int
    address: Address


@dataclass(frozen=True)
class Sent:
    """What came of one POST: the status (None: no answer), an error, the time it took."""

    status: int | None
    error: str | None
    duration_ms: int
    response: str


class Guard:
    def __init__(self, allow: frozenset[str], resolve: Resolve = system_resolver) -> None:
        self.allow = allow
        self.resolve = resolve

    def judge(self, url: str, field: str = "url") -> Target:
        """Where `url` leads, if a webhook may go there; TargetRefusedError says why not."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = literal_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                resolved = self.resolve(host, port)
            except (OSError, UnicodeError) as failed:
                raise TargetRefusedError(field, f"{host} does not resolve: {failed}") from None
            addresses = [a for a in map(literal_address, resolved) if a is not None]
            if not addresses:
                raise TargetRefusedError(field, f"{host} does not resolve to an address")
        if not host_allowed(host, self.allow):
            # Every address must be public or allowed itself: one inside is enough to refuse
            # (a delivery may go to any of them).
            inside = [
                str(a) for a in addresses if not is_public(a) and not address_allowed(a, self.allow)
            ]
            if inside:
                # A name's answers are not told: whoever may subscribe would learn the
                # inside addresses of the install's network, one name at a time.
                reached = inside[0] if literal is not None else "an address"
                raise TargetRefusedError(
                    field,
                    f"{host} leads to {reached}, which is not a public address"
                    " (an operator may allow it in LEDGERDESK_WEBHOOK_ALLOWED_HOSTS)",
                )
        return Target(url, parts.scheme, host, port, addresses[0])


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Sent:
    """POST `body` to the judged address (the URL's host in `Host` and, over TLS, as the
    name the certificate must carry); a redirect is an answer like any other, not followed."""
    parts = urlsplit(target.url)
    ip = str(target.address)
    netloc = f"[{ip}]:{target.port}" if ":" in ip else f"{ip}:{target.port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    default = {"http": 80, "https": 443}[target.scheme]
    host = target.host if ":" not in target.host else f"[{target.host}]"
    shown_host = host if target.port == default else f"{host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    began = time.monotonic()
    try:
        with (
            httpx.Client(
                verify=TLS, trust_env=False, follow_redirects=False, timeout=timeout
            ) as client,
            client.stream(
                "POST",
                pinned,
                content=body,
                # Raw bytes: a compressed answer is never inflated here.
                headers={**headers, "Host": shown_host, "Accept-Encoding": "identity"},
                extensions=extensions,
            ) as answer,
        ):
            status = answer.status_code  # The answer is what counts, whatever its body does.
            kept = bytearray()
            try:
                # Only the start of the body is kept, and it holds us no longer than `timeout`.
                for chunk in answer.iter_raw():
                    kept += chunk
                    if len(kept) >= RESPONSE_KEPT or time.monotonic() - began > timeout:
                        break
            except httpx.HTTPError:
                pass
    except Exception as failed:  # noqa: BLE001 (whatever went wrong, the attempt failed)
        took = int((time.monotonic() - began) * 1000)
        return Sent(None, f"{type(failed).__name__}: {failed}"[:500], took, "")
    took = int((time.monotonic() - began) * 1000)
    return Sent(status, None, took, bytes(kept[:RESPONSE_KEPT]).decode(errors="replace"))
