"""Webhook subscriptions: where to send which public events (`domain.integrations`), with
the secret their deliveries are signed with. Admins' webhooks and the REST hooks of
integrations (Zapier's "subscribe" step) are both subscriptions; a hook has one event, and
a 410 from its target unsubscribes it.

The secret is kept sealed (encrypted by `commands.credentials`), never in the clear: events
and views hold only the token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import idna
from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError, NotFoundError
from domain.integrations import EVENT_NAMES

MAX_URL = 2000
MAX_EVENTS = len(EVENT_NAMES)
KINDS = ("webhook", "hook")
# Active REST hooks one user may have (a token subscribing without end would make every
# event a flood of deliveries); disabled ones (a 410) do not count.
MAX_ACTIVE_HOOKS = 100


class TooManyHooksError(ConflictError):
    def __init__(self) -> None:
        super().__init__(
            f"you have {MAX_ACTIVE_HOOKS} active REST hooks, the most one user may have:"
            " unsubscribe one first (DELETE /api/v1/hooks/{id})"
        )


def check_hook_room(active: int) -> None:
    """A user with `active` REST hooks may subscribe one more, or TooManyHooksError."""
    if active >= MAX_ACTIVE_HOOKS:
        raise TooManyHooksError()


class WebhookNotFoundError(NotFoundError):
    def __init__(self, webhook_id: UUID | str, what: str = "webhook") -> None:
        super().__init__(f"no {what} {webhook_id}")
        self.webhook_id = str(webhook_id)


class WebhookRemovedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("this subscription was removed")


def checked_url(value: Any, where: str = "url") -> str:
    """An http(s) URL with a host and no user or fragment; InvalidValueError says why not.
    (Where it may point is the delivery guard's to say: `commands.webhooks.guard`.)"""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
        raise InvalidValueError(where, "an http(s) URL such as https://hooks.example.com/in")
    text = value.strip()
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidValueError(where, f"{value!r}: a URL has no spaces or control characters")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValueError(where, f"{value!r} is not an http(s) URL")
    if "@" in parts.netloc or parts.fragment:
        raise InvalidValueError(where, f"{value!r}: a webhook URL has no user or fragment")
    try:
        port = parts.port
    except ValueError as wrong:
        raise InvalidValueError(where, f"{value!r}: the port is not a number") from wrong
    if port == 0:
        raise InvalidValueError(where, f"{value!r}: port 0 is no port")
    if not parts.hostname.isascii():
        # An international name is sent in its ASCII form (as `Host`, and to the resolver).
        try:
            ascii_host = idna.encode(parts.hostname, uts46=True).decode("ascii")
        except idna.IDNAError as wrong:
            raise InvalidValueError(where, f"{value!r}: the host is not a valid name") from wrong
        netloc = ascii_host if port is None else f"{ascii_host}:{port}"
        text = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return text


def checked_events(value: Any, where: str = "events") -> list[str]:
    """Known public event names, at least one, each once, in the catalogue's order."""
    if not isinstance(value, list) or not value:
        raise InvalidValueError(where, f"a list of event types: {', '.join(EVENT_NAMES)}")
    for name in value:
        if name not in EVENT_NAMES:
            raise InvalidValueError(where, f"no event {name!r}; known: {', '.join(EVENT_NAMES)}")
    return [name for name in EVENT_NAMES if name in value]


class Webhook(Aggregate):
    """One subscription: its target, its events, its sealed secret, who owns it, whether
    it is active (and why not)."""

    TOPIC = "ledgerdesk:Webhook"

    if TYPE_CHECKING:
        Changed: ClassVar[type[Aggregate.Event]]
        Disabled: ClassVar[type[Aggregate.Event]]
        Removed: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Webhook.Created"

    class Subscribed(Aggregate.Created):
        TOPIC = "ledgerdesk:Webhook.Subscribed"
        kind: str
        url: str
        events: list[str]
        sealed_secret: str
        owner: str
        actor: str
        correlation_id: str

    @event(Subscribed)
    def __init__(
        self,
        kind: str,
        url: str,
        events: list[str],
        sealed_secret: str,
        owner: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.kind = kind
        self.url = url
        self.events = list(events)
        self.sealed_secret = sealed_secret
        self.owner = owner
        self.active = True
        self.disabled_reason: str | None = None
        self.removed = False

    @classmethod
    def subscribe(
        cls,
        webhook_id: UUID,
        kind: str,
        url: str,
        events: list[str],
        sealed_secret: str,
        owner: str,
        actor: str,
        correlation_id: str,
    ) -> Webhook:
        if kind not in KINDS:
            raise InvalidValueError("kind", f"one of {', '.join(KINDS)}")
        return cls._create(
            cls.Subscribed,
            id=webhook_id,
            kind=kind,
            url=checked_url(url, "target_url" if kind == "hook" else "url"),
            events=checked_events(events, "event" if kind == "hook" else "events"),
            sealed_secret=sealed_secret,
            owner=owner,
            actor=actor,
            correlation_id=correlation_id,
        )

    def change(self, changes: dict[str, Any], actor: str, correlation_id: str) -> None:
        """Change the URL, the events, the secret (sealed) or `active`; only what differs is
        recorded. Switching a disabled subscription on again clears why it was off."""
        self._require_live()
        checked: dict[str, Any] = {}
        if "url" in changes:
            checked["url"] = checked_url(changes["url"])
        if "events" in changes:
            checked["events"] = checked_events(changes["events"])
        if "sealed_secret" in changes:
            checked["sealed_secret"] = changes["sealed_secret"]
        if "active" in changes:
            if not isinstance(changes["active"], bool):
                raise InvalidValueError("active", "true or false")
            checked["active"] = changes["active"]
        differs = {k: v for k, v in checked.items() if getattr(self, k) != v}
        if differs:
            self._changed(changes=differs, actor=actor, correlation_id=correlation_id)

    @event("Changed", topic="ledgerdesk:Webhook.Changed")
    def _changed(self, changes: dict[str, Any], actor: str, correlation_id: str) -> None:
        for field, value in changes.items():
            setattr(self, field, value)
        if changes.get("active") is True:
            self.disabled_reason = None

    def disable(self, reason: str, actor: str, correlation_id: str) -> None:
        """Stop delivering (after repeated failure, or a hook's target said 410 Gone)."""
        if self.active and not self.removed:
            self._disabled(
                reason=reason, owner=self.owner, url=self.url, kind=self.kind, actor=actor,
                correlation_id=correlation_id,
            )  # fmt: skip

    @event("Disabled", topic="ledgerdesk:Webhook.Disabled")
    def _disabled(
        self, reason: str, owner: str, url: str, kind: str, actor: str, correlation_id: str
    ) -> None:
        """(`owner`, `url` and `kind` are repeated, for the owner's notification.)"""
        self.active = False
        self.disabled_reason = reason

    def remove(self, actor: str, correlation_id: str) -> None:
        self._require_live()
        self._removed(actor=actor, correlation_id=correlation_id)

    @event("Removed", topic="ledgerdesk:Webhook.Removed")
    def _removed(self, actor: str, correlation_id: str) -> None:
        self.removed = True
        self.active = False

    def _require_live(self) -> None:
        if self.removed:
            raise WebhookRemovedError

    def takes(self, event_type: str) -> bool:
        return self.active and not self.removed and event_type in self.events
