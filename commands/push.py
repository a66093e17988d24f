"""Web Push: staff subscribe browsers and devices, and each notification they want pushed
goes to each of their subscriptions once (pywebpush, signed with the install's VAPID key).

A subscription the push service no longer knows (404, 410) is removed; any other failure is
raised, for the actor's retries. What went where is recorded in the inbox, so a retried or
redelivered push skips the subscriptions it reached; the `Topic` header (from the
notification's id) makes the push service replace, not repeat, one it still holds.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import orjson
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, b64urlencode
from pywebpush import WebPushException, webpush

from commands.application import LedgerDesk
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from domain.errors import InvalidValueError
from domain.notifications import Inbox, check_subscription, inbox_id_for, preferences
from domain.values import Actor

log = logging.getLogger("ledgerdesk.push")
PUSHER = Actor("system", "push")
TTL_SECONDS = 24 * 3600
GONE = frozenset({404, 410})


@dataclass(frozen=True)
class PushConfig:
    private_pem: bytes
    subject: str  # `mailto:` or an https URL: whom push services may contact
    allow_http: bool = False  # endpoints over plain http (tests only)
    timeout: float = 10.0

    @property
    def public_key(self) -> str:
        """The key browsers subscribe with (`applicationServerKey`), base64url."""
        key = Vapid02.from_pem(self.private_pem).public_key
        raw = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return str(b64urlencode(raw))


def new_private_pem() -> bytes:
    """A new VAPID key pair's private key (P-256, PEM)."""
    vapid = Vapid02()
    vapid.generate_keys()
    pem: bytes = vapid.private_pem()
    return pem


class PushService:
    def __init__(self, app: LedgerDesk, config: PushConfig) -> None:
        self.app = app
        self.config = config
        self._vapid = Vapid02.from_pem(config.private_pem)

    # --- subscriptions ----------------------------------------------------------------

    def subscriptions(self, user_id: UUID) -> list[dict[str, str]]:
        inbox = UnitOfWork(self.app).get(inbox_id_for(user_id), Inbox)
        found = inbox.subscriptions if inbox else {}
        return [{"id": sid, "endpoint": s["endpoint"]} for sid, s in found.items()]

    def subscribe(
        self, user_id: UUID, endpoint: str, p256dh: str, auth: str, ctx: Context
    ) -> tuple[str, int]:
        check_subscription(endpoint, p256dh, auth, insecure=self.config.allow_http)
        _check_point(p256dh)
        chosen: list[str] = []

        def decide(uow: UnitOfWork) -> list[Any]:
            inbox = uow.get(inbox_id_for(user_id), Inbox) or Inbox.open(user_id)
            chosen[:] = [inbox.subscribe(endpoint, p256dh, auth, ctx.actor.ref, ctx.correlation_id)]
            return [inbox]

        position = run(self.app, inbox_id_for(user_id), decide)[1]
        return chosen[0], position

    def unsubscribe(
        self, user_id: UUID, subscription_id: str, ctx: Context, reason: str = "removed"
    ) -> int:
        def decide(uow: UnitOfWork) -> list[Any]:
            inbox = uow.get(inbox_id_for(user_id), Inbox) or Inbox.open(user_id)
            inbox.unsubscribe(subscription_id, reason, ctx.actor.ref, ctx.correlation_id)
            return [inbox]

        return run(self.app, inbox_id_for(user_id), decide)[1]

    # --- sending ----------------------------------------------------------------------

    def deliver(self, user_id: UUID, notification: dict[str, Any], correlation_id: str) -> int:
        """Push `notification` to each of the user's subscriptions it has not reached (if
        they want its kind pushed); how many it reached now. A subscription the push service
        no longer knows is removed; one that fails otherwise does not keep the others from
        theirs, and is raised for afterwards (`PushFailedError`: retried)."""
        inbox = UnitOfWork(self.app).get(inbox_id_for(user_id), Inbox)
        if inbox is None or not preferences(inbox.preferences)[notification["kind"]]["push"]:
            return 0
        ident = str(notification["id"])
        sent = 0
        failed: list[str] = []
        ctx = Context(actor=PUSHER, correlation_id=correlation_id)
        for subscription_id, sub in list(inbox.subscriptions.items()):
            if inbox.was_pushed(ident, subscription_id):
                continue
            try:
                status = self._send(sub, notification)
            except PushFailedError as exc:
                log.warning("push to subscription %s failed: %s", subscription_id, exc)
                failed.append(subscription_id)
                continue
            if status in GONE:
                log.info("push subscription %s expired (%s): removed", subscription_id, status)
                self.unsubscribe(user_id, subscription_id, ctx, reason="expired")
                continue
            self._record(user_id, ident, subscription_id, ctx)
            sent += 1
        if failed:
            raise PushFailedError(f"{len(failed)} of the user's subscriptions failed")
        return sent

    def _send(self, sub: dict[str, str], notification: dict[str, Any]) -> int | None:
        """Push to one subscription; None when the push service took it, else its refusal
        (404, 410: gone). Any other failure is `PushFailedError` (its status only: a push
        service's answer is not logged)."""
        endpoint = sub["endpoint"]
        if not self.config.allow_http:
            _check_public(endpoint)
        session = requests.Session()
        session.max_redirects = 0  # a push service answers; it does not send us elsewhere
        try:
            webpush(
                subscription_info={
                    "endpoint": endpoint, "keys": {"p256dh": sub["p256dh"], "auth": sub["auth"]},
                },
                data=orjson.dumps(notification).decode(),
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self.config.subject},
                ttl=TTL_SECONDS,
                timeout=self.config.timeout,
                headers={"Topic": topic(str(notification["id"]))},
                requests_session=session,
            )  # fmt: skip
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in GONE:
                return int(status)
            raise PushFailedError(f"the push service answered {status}") from None
        except (requests.RequestException, ValueError) as exc:
            raise PushFailedError(type(exc).__name__) from None
        finally:
            session.close()
        return None

    def _record(self, user_id: UUID, ident: str, subscription_id: str, ctx: Context) -> None:
        def decide(uow: UnitOfWork) -> list[Any]:
            inbox = uow.get(inbox_id_for(user_id), Inbox)
            if inbox is None:
                return []
            inbox.record_push(ident, subscription_id, ctx.actor.ref, ctx.correlation_id)
            return [inbox]

        run(self.app, inbox_id_for(user_id), decide)


class PushFailedError(Exception):
    """A push that did not reach its push service (retried)."""


def _check_point(p256dh: str) -> None:
    """The browser's key is a point of P-256 (not just 65 bytes)."""
    raw = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise InvalidValueError("keys.p256dh", "not a P-256 public key") from None


def _check_public(endpoint: str) -> None:
    """Push services are on the internet: an endpoint whose host is, or resolves to, a
    loopback, private, link-local or reserved address is not pushed to (unless the install
    allows it, for tests)."""
    host = urlsplit(endpoint).hostname or ""
    try:
        found = {str(info[4][0]) for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)}
    except OSError:
        raise PushFailedError(f"{host} does not resolve") from None
    for address in found:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise PushFailedError(f"{host} is not a public address")


def topic(notification_id: str) -> str:
    """A Web Push `Topic` (at most 32 base64url characters) for one notification."""
    return str(b64urlencode(hashlib.sha256(notification_id.encode()).digest()))[:32]
