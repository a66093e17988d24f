"""Who may get mail about an item: its customers (the requester, and those who take part in
its mail thread) and its staff (followers and assignees who are active)."""

from __future__ import annotations

from uuid import UUID

from commands.mail.outgoing.item_mail import ItemMail
from commands.models import Context
from commands.portal import organisation_of, requester_of
from commands.tickets import require_visible
from commands.unit_of_work import UnitOfWork
from domain.contact import Contact, contact_id_for, may_see_item_of
from domain.errors import DomainError
from domain.mail.outgoing import Recipient
from domain.mail.thread import MailThread, thread_id_for
from domain.task import Task
from domain.ticket import Ticket
from domain.user import User
from domain.values import Actor


def customers_of(uow: UnitOfWork, item: Ticket | Task, facts: ItemMail) -> list[Recipient]:
    """The requester and the customers taking part in the item's mail, but for those who
    stopped following it."""
    found: dict[str, Recipient] = {}
    requester = requester_of(uow, item.number)
    email = requester.email if requester is not None else facts.requester_email
    numbers = {item.number}
    converted_from = getattr(item, "converted_from", None)
    if converted_from:
        numbers.add(converted_from)
    threads = [uow.get(thread_id_for(n), MailThread) for n in sorted(numbers)]
    left = {a for t in threads if t is not None for a in t.left}
    if email and email.lower() not in left:
        found[email] = Recipient(email, requester.name if requester else "", f"customer:{email}")
    for thread in threads:
        for address, role in (thread.participants if thread is not None else {}).items():
            if address not in found and address not in left:
                contact = uow.get(contact_id_for(address), Contact)
                if role == "follower" and not _still_sees(uow, contact, requester):
                    continue  # Followed from the portal, and may no longer see it.
                name = contact.name if contact is not None else ""
                found[address] = Recipient(address, name, f"customer:{address}")
    return list(found.values())


def _still_sees(uow: UnitOfWork, contact: Contact | None, requester: Contact | None) -> bool:
    """Whether a contact who followed from the portal may still see the item (sharing and
    membership change after they follow)."""
    if contact is None or contact.user_id is not None:
        return False
    return may_see_item_of(contact, organisation_of(uow, contact), requester)


def staff_of(uow: UnitOfWork, item: Ticket | Task) -> list[Recipient]:
    people: list[Recipient] = []
    for user_id in dict.fromkeys([*item.followers, *item.assignees]):
        user = uow.find_user(UUID(user_id))
        if user is not None and user.is_active and may_see(uow, item, user.id):
            people.append(staff_recipient(user))
    return people


def staff_recipient(user: User) -> Recipient:
    return Recipient(user.email, user.name, f"user:{user.id}")


def may_see(uow: UnitOfWork, item: Ticket | Task, user_id: UUID) -> bool:
    """Whether staff member `user_id` may see `item` now (a follower of an item moved to a
    project they have no role in may not)."""
    try:
        require_visible(item, uow, Context(actor=Actor.user(user_id), correlation_id="mail"))
    except DomainError:
        return False
    return True
