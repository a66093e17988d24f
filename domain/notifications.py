"""Staff notifications: what a staff member is told of, and how.

A notification is made by the read side from the log (the `live` view) for these kinds:
**assigned** (someone else assigned you an item), **mentioned** (`@handle` in a message on an
item: the handle is the part of your address before the `@`), **customer_replied** (a
customer wrote on an item you follow or are assigned to), **chat_waiting** (a chat waits
for an agent; to staff who take chats) and **join_request** (someone asks to join a project
you manage; admins too). Nobody is told of what they did themselves.

What a user reads and how they want to be told are facts of their **inbox**, an aggregate
of their own: which notifications they read, and their preferences per kind and channel
(`in_app`, `email`, `push`).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError

KINDS = (
    "assigned",
    "mentioned",
    "customer_replied",
    "chat_waiting",
    "join_request",
    "webhook_disabled",
    "report_failed",
)
CHANNELS = ("in_app", "email", "push")
# Told in the app and by push of everything; by mail of what staff always had mail of (being
# assigned or mentioned, a customer's reply), of the rest only when asked.
MAILED_BY_DEFAULT = (
    "assigned",
    "mentioned",
    "customer_replied",
    "webhook_disabled",
    "report_failed",
)
DEFAULTS: dict[str, dict[str, bool]] = {
    kind: {"in_app": True, "email": kind in MAILED_BY_DEFAULT, "push": True} for kind in KINDS
}
# The kinds mailed as a notice of their own. The others have had mail of their own all along,
# which their `email` channel governs: the assignment mail, the mention mail, and the
# customer's message itself, mailed to the item's staff who have not read it.
NOTICE_KINDS = ("chat_waiting", "join_request", "webhook_disabled", "report_failed")
INBOX_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/inboxes")
PUSH_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/push-subscriptions")
# How many of the latest pushed notifications an inbox remembers (a redelivered push of an
# older one is long past: the push service's Topic header collapses it anyway).
PUSHED_KEPT = 500
MAX_READ_IDS = 500
# `@handle`, not inside a word, an address or a path, and ending where the handle does
# (a space, punctuation or the end): `@böb` and `@o'brien` name nobody, not `@b` or `@o`.
_MENTION = re.compile(
    r"(?<![\w./@])@([a-z0-9](?:[a-z0-9._%+-]*[a-z0-9])?)(?=$|[\s,;:!?)\]}\"]|\.(?:$|\s))",
    re.IGNORECASE | re.ASCII,
)
# A notification id: a log position (a 64-bit integer) and its place among the event's rows.
ID_PATTERN = r"^[0-9]{1,18}\.[0-9]{1,9}$"
_ID = re.compile(ID_PATTERN, re.ASCII)


def inbox_id_for(user_id: UUID | str) -> UUID:
    return uuid5(INBOX_NAMESPACE, str(user_id))


def mention_handle(email: str) -> str:
    """How a user is mentioned: `@` and the part of their address before the `@`."""
    return email.partition("@")[0].lower()


def mentions(body: str) -> set[str]:
    """The handles `@handle` in a message's text (lower case)."""
    return {m.group(1).lower() for m in _MENTION.finditer(body or "")}


def message_news(actor: str, body: str, customer_visible: bool) -> tuple[bool, set[str]]:
    """What a message on an item tells staff: whether it is a customer's reply (written
    where customers see it by neither staff nor our own automation), and the handles it
    mentions — only staff mention staff: a customer's `@name` tells nobody."""
    kind = actor.partition(":")[0]
    staff = kind == "user"
    replied = customer_visible and kind not in ("user", "system", "automation")
    return replied, mentions(body) if staff else set()


def preferences(stored: dict[str, Any] | None) -> dict[str, dict[str, bool]]:
    """Every kind's channels: what the user chose over the defaults."""
    chosen = stored or {}
    return {
        kind: {ch: bool(chosen.get(kind, {}).get(ch, on)) for ch, on in DEFAULTS[kind].items()}
        for kind in KINDS
    }


def check_preferences(changes: Any) -> dict[str, dict[str, bool]]:
    """`{kind: {channel: bool}}`, naming what is wrong (an unknown kind or channel, a value
    that is not a bool)."""
    if not isinstance(changes, dict):
        raise InvalidValueError("preferences", "an object of kinds")
    for kind, channels in changes.items():
        if kind not in KINDS:
            raise InvalidValueError(kind, f"not a kind of notification ({', '.join(KINDS)})")
        if not isinstance(channels, dict):
            raise InvalidValueError(kind, "an object of channels")
        for channel, on in channels.items():
            if channel not in CHANNELS:
                raise InvalidValueError(
                    f"{kind}.{channel}", f"not a channel ({', '.join(CHANNELS)})"
                )
            if not isinstance(on, bool):
                raise InvalidValueError(f"{kind}.{channel}", "true or false")
    return {kind: dict(channels) for kind, channels in changes.items()}


def check_ids(ids: Any) -> list[str]:
    """Notification ids (`<position>.<seq>`), at most `MAX_READ_IDS`."""
    if not isinstance(ids, list) or len(ids) > MAX_READ_IDS:
        raise InvalidValueError("ids", f"a list of at most {MAX_READ_IDS} notification ids")
    for found in ids:
        if not isinstance(found, str) or not _ID.match(found):
            raise InvalidValueError("ids", f"{str(found)[:40]!r} is not a notification id")
    return list(dict.fromkeys(ids))


class Inbox(Aggregate):
    """One staff member's notifications: what they read, how they want to be told."""

    TOPIC = "ledgerdesk:Inbox"

    if TYPE_CHECKING:
        Read: ClassVar[type[Aggregate.Event]]
        PreferencesChanged: ClassVar[type[Aggregate.Event]]
        PushSubscribed: ClassVar[type[Aggregate.Event]]
        PushUnsubscribed: ClassVar[type[Aggregate.Event]]
        PushSent: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Inbox.Created"

    class Opened(Aggregate.Created):
        TOPIC = "ledgerdesk:Inbox.Opened"
        user_id: str

    @event(Opened)
    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.preferences: dict[str, dict[str, bool]] = {}
        # Push subscriptions by id: {endpoint, p256dh, auth}.
        self.subscriptions: dict[str, dict[str, str]] = {}
        # The latest notifications pushed, each with the subscriptions it went to.
        self.pushed: dict[str, list[str]] = {}

    @classmethod
    def open(cls, user_id: UUID) -> Inbox:
        return cls._create(cls.Opened, id=inbox_id_for(user_id), user_id=str(user_id))

    def read(self, ids: list[str], up_to: str | None, actor: str, correlation_id: str) -> None:
        """Notifications read: these, or every one up to `up_to` (a notification id)."""
        if up_to is not None and not _ID.match(up_to):
            raise InvalidValueError("up_to", "a notification id")
        if ids or up_to is not None:
            self._read(ids=ids, up_to=up_to, actor=actor, correlation_id=correlation_id)

    @event("Read", topic="ledgerdesk:Inbox.Read")
    def _read(self, ids: list[str], up_to: str | None, actor: str, correlation_id: str) -> None:
        pass

    def prefer(self, changes: dict[str, dict[str, bool]], actor: str, correlation_id: str) -> None:
        """Change the channels of the kinds `changes` names (the rest as they were)."""
        merged = {k: {**self.preferences.get(k, {}), **v} for k, v in changes.items()}
        merged = {**self.preferences, **merged}
        if merged != self.preferences:
            self._preferred(preferences=merged, actor=actor, correlation_id=correlation_id)

    @event("PreferencesChanged", topic="ledgerdesk:Inbox.PreferencesChanged")
    def _preferred(
        self, preferences: dict[str, dict[str, bool]], actor: str, correlation_id: str
    ) -> None:
        self.preferences = preferences

    # --- Web Push -----------------------------------------------------------------------

    def subscribe(
        self, endpoint: str, p256dh: str, auth: str, actor: str, correlation_id: str
    ) -> str:
        """A browser or device to push to (the same endpoint again: its keys renewed);
        its id."""
        subscription_id = str(uuid5(PUSH_NAMESPACE, endpoint))
        wanted = {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}
        if self.subscriptions.get(subscription_id) != wanted:
            self._subscribed(
                subscription_id=subscription_id, **wanted, actor=actor,
                correlation_id=correlation_id,
            )  # fmt: skip
        return subscription_id

    @event("PushSubscribed", topic="ledgerdesk:Inbox.PushSubscribed")
    def _subscribed(
        self,
        subscription_id: str,
        endpoint: str,
        p256dh: str,
        auth: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.subscriptions[subscription_id] = {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}

    def unsubscribe(
        self, subscription_id: str, reason: str, actor: str, correlation_id: str
    ) -> None:
        """No more pushes there (`reason`: `removed` by its user, `expired` at the push
        service)."""
        if subscription_id not in self.subscriptions:
            raise NotFoundError(f"no push subscription {subscription_id}")
        self._unsubscribed(
            subscription_id=subscription_id, reason=reason, actor=actor,
            correlation_id=correlation_id,
        )  # fmt: skip

    @event("PushUnsubscribed", topic="ledgerdesk:Inbox.PushUnsubscribed")
    def _unsubscribed(
        self, subscription_id: str, reason: str, actor: str, correlation_id: str
    ) -> None:
        del self.subscriptions[subscription_id]

    def was_pushed(self, notification_id: str, subscription_id: str) -> bool:
        return subscription_id in self.pushed.get(notification_id, [])

    def record_push(
        self, notification_id: str, subscription_id: str, actor: str, correlation_id: str
    ) -> None:
        """The notification went to the subscription (once: again is nothing new)."""
        if not self.was_pushed(notification_id, subscription_id):
            self._pushed_event(
                notification_id=notification_id, subscription_id=subscription_id,
                actor=actor, correlation_id=correlation_id,
            )  # fmt: skip

    @event("PushSent", topic="ledgerdesk:Inbox.PushSent")
    def _pushed_event(
        self, notification_id: str, subscription_id: str, actor: str, correlation_id: str
    ) -> None:
        self.pushed.setdefault(notification_id, []).append(subscription_id)
        while len(self.pushed) > PUSHED_KEPT:
            del self.pushed[next(iter(self.pushed))]


def check_subscription(endpoint: Any, p256dh: Any, auth: Any, *, insecure: bool) -> None:
    """A Web Push subscription as browsers give it: an https endpoint (http only where the
    install allows it, for testing), the browser's P-256 public key and auth secret
    (base64url)."""
    if not isinstance(endpoint, str) or len(endpoint) > 2000:
        raise InvalidValueError("endpoint", "a URL of at most 2000 characters")
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if insecure else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise InvalidValueError("endpoint", "an https URL of a push service")
    for name, value, size in (("keys.p256dh", p256dh, 65), ("keys.auth", auth, 16)):
        try:
            decoded = base64.urlsafe_b64decode(str(value) + "=" * (-len(str(value)) % 4))
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) != size:
            raise InvalidValueError(name, f"{size} bytes, base64url-encoded")


def notice(notification: dict[str, Any]) -> tuple[str, str, str]:
    """What a notice mail says of a notification of a NOTICE_KINDS kind: its headline, the
    text it quotes, and the API path of what it is about."""
    kind = notification["kind"]
    if kind == "chat_waiting":
        name = notification.get("name") or "A customer"
        return f"{name} is waiting in a chat", "", f"/api/v1/chats/{notification['chat_id']}"
    if kind == "join_request":
        project = notification["project_id"]
        return (
            "Someone asks to join a project you manage",
            notification.get("message") or "",
            f"/api/v1/projects/{project}/join-requests",
        )
    if kind == "webhook_disabled":
        path = "hooks" if notification.get("kind_of_hook") == "hook" else "webhooks"
        return (
            f"Deliveries to {notification.get('url', 'a webhook')} stopped",
            notification.get("reason") or "",
            f"/api/v1/{path}/{notification['webhook_id']}",
        )
    if kind == "report_failed":
        who = f" to {notification['recipient']}" if notification.get("recipient") else ""
        return (
            f"A scheduled report was not sent{who}",
            notification.get("error") or "",
            f"/api/v1/reports/schedules/{notification['schedule_id']}/runs",
        )
    raise ValueError(f"{kind!r} is not mailed as a notice")
