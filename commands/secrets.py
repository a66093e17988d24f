"""`ledgerdesk secrets rotate`: every credential the install keeps — the SMTP server's
password, each mailbox's IMAP password, each webhook's and REST hook's signing secret —
sealed again under the first of LEDGERDESK_ENCRYPTION_KEYS, each as a new event (the
secret itself does not change). Afterwards the older keys may be dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.credentials import Credentials, CredentialUnreadableError
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from domain.mail.mailbox import Mailbox
from domain.mail.settings import MAIL_SETTINGS_ID, MailSettings
from domain.webhooks.subscriptions import Webhook

PAGE = 1000


@dataclass(frozen=True)
class Rotated:
    smtp: int
    mailboxes: int
    webhooks: int
    # What no key opens (left as it was: an admin sets it again): `smtp`, `mailbox <id>`,
    # `webhook <id>`.
    unreadable: tuple[str, ...] = ()


class SecretRotation:
    def __init__(self, app: LedgerDesk, credentials: Credentials) -> None:
        self.app = app
        self.credentials = credentials

    def rotate(self, ctx: Context) -> Rotated:
        """Seal every stored credential again under the first key; one that no key opens is
        left as it was and named in `unreadable` (the others are still sealed again)."""
        unreadable: list[str] = []

        def each(name: str, reseal: Callable[[], int]) -> int:
            try:
                return reseal()
            except CredentialUnreadableError:
                unreadable.append(name)
                return 0

        smtp = each("smtp", lambda: self._smtp(ctx))
        mailboxes = sum(
            each(f"mailbox {i}", lambda i=i: self._mailbox(i, ctx))  # type: ignore[misc]
            for i in self._ids("ledgerdesk:Mailbox.Added")
        )
        webhooks = sum(
            each(f"webhook {i}", lambda i=i: self._webhook(i, ctx))  # type: ignore[misc]
            for i in self._ids("ledgerdesk:Webhook.Subscribed")
        )
        return Rotated(smtp, mailboxes, webhooks, tuple(unreadable))

    def _ids(self, topic: str) -> Iterator[UUID]:
        """The ids of the aggregates whose events of `topic` the log holds."""
        start = 1
        seen: set[UUID] = set()
        recorder: Any = self.app.recorder
        while True:
            page = recorder.select_notifications(start=start, limit=PAGE, topics=[topic])
            for notification in page:
                if notification.originator_id not in seen:
                    seen.add(notification.originator_id)
                    yield notification.originator_id
            if len(page) < PAGE:
                return
            start = page[-1].id + 1

    def _smtp(self, ctx: Context) -> int:
        done: list[int] = []

        def decide(uow: UnitOfWork) -> list[Any]:
            done.clear()
            stored = uow.get(MAIL_SETTINGS_ID, MailSettings)
            smtp = (stored.values.get("smtp") or {}) if stored is not None else {}
            if stored is None or not smtp.get("password_token"):
                return []
            token = self.credentials.resealed(smtp["password_token"])
            values = {**stored.values, "smtp": {**smtp, "password_token": token}}
            stored.change(values, ctx.actor, ctx.correlation_id)
            done.append(1)
            return [stored]

        run(self.app, MAIL_SETTINGS_ID, decide)
        return len(done)

    def _mailbox(self, mailbox_id: UUID, ctx: Context) -> int:
        done: list[int] = []

        def decide(uow: UnitOfWork) -> list[Any]:
            done.clear()
            mailbox = uow.get(mailbox_id, Mailbox)
            if mailbox is None or mailbox.removed or mailbox.imap is None:
                return []
            if mailbox.imap_password_token is None:
                return []
            token = self.credentials.resealed(mailbox.imap_password_token)
            mailbox.configure_imap(
                imap=mailbox.imap, password_token=token, actor=ctx.actor,
                correlation_id=ctx.correlation_id,
            )  # fmt: skip
            done.append(1)
            return [mailbox]

        run(self.app, mailbox_id, decide)
        return len(done)

    def _webhook(self, webhook_id: UUID, ctx: Context) -> int:
        done: list[int] = []

        def decide(uow: UnitOfWork) -> list[Any]:
            done.clear()
            webhook = uow.get(webhook_id, Webhook)
            if webhook is None or webhook.removed:
                return []
            token = self.credentials.resealed(webhook.sealed_secret)
            webhook.change({"sealed_secret": token}, ctx.actor.ref, ctx.correlation_id)
            done.append(1)
            return [webhook]

        run(self.app, webhook_id, decide)
        return len(done)
