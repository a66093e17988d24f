"""A staff member's notification by mail (the `email` channel of `customer_replied`,
`chat_waiting` and `join_request`; assignments and mentions have mail of their own): one mail
per notification and person, queued once (its key names both), saying what the notification
says and where to open it (built by `account.fresh_mail`, with the notice as `notice`)."""

from __future__ import annotations

from typing import Any

from domain.mail.addresses import our_message_id
from domain.mail.outgoing import MailKind, OutboundMail, Recipient
from domain.notifications import notice
from domain.user import User
from domain.values import Actor

NOTIFIER = Actor("system", "notifications")


def notice_key(notification: dict[str, Any], user_id: object) -> str:
    return f"notice:{notification['id']}:{user_id}"


def notice_mail(
    notification: dict[str, Any], user: User, *, secret: bytes, domain: str, public_url: str
) -> OutboundMail:
    """The mail telling `user` of `notification`, queued (not yet saved)."""
    headline, excerpt, path = notice(notification)
    key = notice_key(notification, user.id)
    return OutboundMail.queue(
        key=key,
        kind=MailKind.NOTIFICATION,
        number=0,
        to=Recipient(user.email, user.name, f"user:{user.id}"),
        context={"headline": headline, "excerpt": excerpt, "url": f"{public_url}{path}"},
        mail_message_id=our_message_id(secret, 0, key, domain),
        actor=NOTIFIER,
        correlation_id=f"mail:{key}"[:200],
    )
