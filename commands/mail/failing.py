"""Which contacts' addresses fail: a permanent bounce marks the contact it names, and mail
from a failing address shows that it lives again. Staff users' addresses are not marked:
their bounces are on the item, for an admin to look at."""

from __future__ import annotations

from typing import Any

from commands.models import Context
from commands.unit_of_work import UnitOfWork
from domain.contact import Contact, contact_id_for
from domain.errors import DomainError
from domain.mail.message import DeliveryReport
from domain.values import Actor


def mark_failing(
    uow: UnitOfWork, report: DeliveryReport, number: int, actor: Actor, ctx: Context
) -> list[Contact]:
    """The contacts a permanent bounce names, marked failing (to be saved with the bounce); a
    report that delivery is only delayed marks nobody."""
    if not report.permanent:
        return []
    marked: list[Contact] = []
    for address in dict.fromkeys(report.failed_recipients):
        contact = _contact(uow, address)
        if contact is not None and contact.user_id is None:
            contact.mail_bounced(
                report.status, report.diagnostic, number, actor, ctx.correlation_id
            )
            marked.append(contact)
    return marked


def mark_working(uow: UnitOfWork, sender: str, saved: list[Any], ctx: Context) -> list[Contact]:
    """The sender's contact, no longer failing, unless it was not (or is saved already)."""
    contact = _contact(uow, sender)
    if contact is None or contact.mail_failing is None:
        return []
    contact.mail_received(Actor.system("mail"), ctx.correlation_id)
    return [] if any(a is contact for a in saved) else [contact]


def _contact(uow: UnitOfWork, address: str) -> Contact | None:
    try:
        return uow.get(contact_id_for(address), Contact)
    except DomainError:  # Not an address a contact could have.
        return None
