"""Subscriptions: admins' webhooks (`/api/v1/webhooks`) and integrations' REST hooks
(`/api/v1/hooks`, for any staff token: a hook sees what its owner may see). The URL is
judged by the delivery guard before anything is written; the secret is sealed."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.credentials import Credentials
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user, require_admin
from commands.webhooks.guard import Guard
from domain.errors import PermissionDeniedError
from domain.webhooks.deliveries import checked_secret, new_secret
from domain.webhooks.subscriptions import (
    Webhook,
    WebhookNotFoundError,
    check_hook_room,
    checked_url,
)


class SubscriptionService:
    def __init__(self, app: LedgerDesk, credentials: Credentials, guard: Guard) -> None:
        self.app = app
        self.credentials = credentials
        self.guard = guard

    def get(self, webhook_id: UUID, kind: str, ctx: Context | None = None) -> Webhook:
        """The live subscription of `kind` (404 if none, removed, or — with `ctx` — neither
        the caller's nor the caller an admin)."""
        uow = UnitOfWork(self.app)
        found = uow.get(webhook_id, Webhook)
        what = "hook" if kind == "hook" else "webhook"
        if found is None or found.kind != kind or found.removed:
            raise WebhookNotFoundError(webhook_id, what)
        if ctx is not None and not _may_manage(uow, ctx, found):
            raise WebhookNotFoundError(webhook_id, what)
        return found

    def secret(self, webhook: Webhook) -> str:
        return self.credentials.open(webhook.sealed_secret)

    def subscribe(
        self,
        kind: str,
        url: str,
        events: list[str],
        secret: str | None,
        ctx: Context,
        active_hooks: int = 0,
    ) -> tuple[Webhook, str, int]:
        """A new subscription; with its secret in the clear (shown this once) and the log
        position. A URL leading to a non-public address is 422 and nothing is written; a
        REST hook of a user with `active_hooks` already may be one too many (409)."""
        if kind == "hook":
            check_hook_room(active_hooks)
        field = "target_url" if kind == "hook" else "url"
        self.guard.judge(checked_url(url, field), field)
        plain = new_secret() if secret is None else checked_secret(secret)
        sealed = self.credentials.seal(plain)
        webhook_id = uuid.uuid4()

        def decide(uow: UnitOfWork) -> list[Any]:
            if kind == "webhook":
                require_admin(uow, ctx, "manage webhooks")
            return [
                Webhook.subscribe(
                    webhook_id, kind, url, events, sealed, _owner(uow, ctx), ctx.actor.ref,
                    ctx.correlation_id,
                )
            ]  # fmt: skip

        saved, position = run(self.app, webhook_id, decide)
        return saved[0], plain, position

    def change(
        self, webhook_id: UUID, changes: dict[str, Any], ctx: Context
    ) -> tuple[Webhook, str | None, int]:
        """Change a webhook (admins); `secret: null` makes a new secret (shown this once)."""
        self.get(webhook_id, "webhook")
        given = dict(changes)
        if "url" in given:
            self.guard.judge(checked_url(given["url"]))
        plain: str | None = None
        if "secret" in given:
            value = given.pop("secret")
            plain = new_secret() if value is None else checked_secret(value)
            given["sealed_secret"] = self.credentials.seal(plain)

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "manage webhooks")
            webhook = uow.get(webhook_id, Webhook)
            assert webhook is not None
            webhook.change(given, ctx.actor.ref, ctx.correlation_id)
            return [webhook]

        saved, position = run(self.app, webhook_id, decide)
        return saved[0], plain, position

    def remove(self, webhook_id: UUID, kind: str, ctx: Context) -> int:
        """Unsubscribe: nothing more is delivered; its deliveries stay in the log."""
        self.get(webhook_id, kind, ctx)

        def decide(uow: UnitOfWork) -> list[Any]:
            webhook = uow.get(webhook_id, Webhook)
            assert webhook is not None
            if not _may_manage(uow, ctx, webhook):
                raise WebhookNotFoundError(webhook_id, kind)
            webhook.remove(ctx.actor.ref, ctx.correlation_id)
            return [webhook]

        return run(self.app, webhook_id, decide)[1]


def _owner(uow: UnitOfWork, ctx: Context) -> str:
    user = acting_user(uow, ctx)
    if user is None:
        if ctx.actor.kind != "system":
            raise PermissionDeniedError("only staff subscribe to events")
        return ctx.actor.ref
    return str(user.id)


def _may_manage(uow: UnitOfWork, ctx: Context, webhook: Webhook) -> bool:
    user = acting_user(uow, ctx)
    return user is None or user.is_admin or str(user.id) == webhook.owner
