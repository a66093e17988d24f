"""What a mail's templates are given: the company, the item, the recipient, the message and
its attachments. Built for one recipient: a customer's links lead to the customer web app
(`/portal/items/...`), a staff member's to the API, since each can open only their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands.mail.outgoing.item_mail import ItemMail, Message
from commands.unit_of_work import UnitOfWork
from domain.mail.outgoing import OutboundMail
from domain.mail.settings import company_of
from domain.task import Task
from domain.ticket import Ticket
from domain.values import Actor


@dataclass(frozen=True)
class Links:
    """Where a recipient opens an item and its attachments: `public_url` and a path their
    kind of reader (`customer:<address>` or `user:<id>`) may open."""

    public_url: str

    def item(self, item: Ticket | Task, origin: int, reader: str) -> str:
        """`origin`: the number the customer's request has in the customer web app, which
        a converted ticket keeps (its task's mail is about the same request)."""
        if _is_customer(reader):
            return f"{self.public_url}/portal/items/{origin}"
        return f"{self.public_url}/api/v1/{item.KIND}s/{item.number}"

    def attachment(self, item: Ticket | Task, origin: int, attachment: str, reader: str) -> str:
        return f"{self.item(item, origin, reader)}/attachments/{attachment}"


def _is_customer(reader: str) -> bool:
    return reader.startswith("customer:")


def template_context(
    uow: UnitOfWork,
    mail: OutboundMail,
    item: Ticket | Task,
    facts: ItemMail,
    message: Message | None,
    branding: dict[str, Any],
    links: Links,
    attach_limit: int,
) -> dict[str, Any]:
    """The variables of `mail`'s templates (see docs/email.md, Templates)."""
    context: dict[str, Any] = {
        "company": company_of(branding),
        "item": {
            "number": item.number,
            "title": item.title,
            "kind": item.KIND,
            "status": item.status,
            "url": links.item(item, facts.origin, mail.reader),
        },
        "tag": f"[#{item.number}]",
        "recipient": {"name": mail.recipient_name or mail.recipient, "address": mail.recipient},
        "message": None,
        "attachments": [],
        "assigned_by": name_of(uow, mail.context.get("by", "")),
        # An automation rule's mail: its subject and body, rendered when the rule ran.
        "automation": {
            "subject": mail.context.get("subject", ""),
            "body": mail.context.get("body", ""),
        },
    }
    if message is not None:
        context["message"] = {
            "body": message.body,
            "author_name": name_of(uow, message.author),
            "internal": message.internal,
        }
        context["attachments"] = [
            {
                "name": a["name"],
                "size_text": size_text(a["size"]),
                # Too large to travel with the mail: a link instead.
                "link": links.attachment(item, facts.origin, a["id"], mail.reader)
                if a["size"] > attach_limit
                else None,
            }
            for a in facts.attachments_of(message)
        ]
    return context


def name_of(uow: UnitOfWork, ref: str) -> str:
    actor = Actor.parse(ref)
    if actor.kind == "user":
        user = uow.find_user(UUID(actor.ident))
        return user.name if user is not None else "A colleague"
    if actor.kind == "customer":
        return actor.ident
    return "ledgerdesk"


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    kib = size / 1024
    return f"{kib:.0f} KB" if kib < 1024 else f"{kib / 1024:.0f} MB"
