"""`ReceiveMail`: one received message (its raw bytes already in the blob store) into the
item it opens or joins, or into the quarantine. Every transport ends here.

The decisions are the domain's (`domain.mail`); this module loads what they need, applies
them and returns the aggregates to save in one atomic write, so a rejected or failed mail
appends nothing, and a second copy delivered concurrently finds the first one's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID, uuid4

from commands.access import load_project
from commands.company_settings import require_kind_on
from commands.mail.failing import mark_failing, mark_working
from commands.mail.mailboxes import is_our_address
from commands.models import Context
from commands.portal import requester_of
from commands.tickets import new_ticket
from commands.unit_of_work import UnitOfWork
from domain.errors import DomainError
from domain.item_numbers import item_id
from domain.mail.acknowledgements import Acknowledgement, acknowledgement_id_for
from domain.mail.addresses import Address, our_number
from domain.mail.automatic import automatic_reason
from domain.mail.message import InboundMail
from domain.mail.on_items import record_bounce, record_mail
from domain.mail.quarantine import QuarantinedMail, QuarantineReason, quarantine_id_for
from domain.mail.received import ReceivedMail, received_id_for
from domain.mail.thread import MailThread, thread_id_for
from domain.mail.threading import Thread, find_thread
from domain.task import Task
from domain.ticket import Ticket
from domain.user import User, user_id_for
from domain.values import Actor, Channel
from domain.work_item import CUSTOMER, INTERNAL

Outcome = Literal["created", "appended", "duplicate", "bounce", "quarantined"]
TITLE_LIMIT = 500
DESCRIPTION_LIMIT = 200_000  # The whole text stays on the MailReceived event.
NO_SUBJECT = "(no subject)"


@dataclass(frozen=True)
class Route:
    """Where new items from a recipient address go."""

    address: str
    project_id: UUID
    folder_id: UUID | None = None
    team_id: UUID | None = None
    priority: str = "normal"
    cc_become_followers: bool = False
    acknowledge: bool = True


@dataclass(frozen=True)
class Delivery:
    """One received message: its blob, size, the address it came to, how it came."""

    raw_sha256: str
    size: int
    route: Route
    recipient: str
    transport: str


@dataclass(frozen=True)
class Receipt:
    """What became of a message (the answer of every transport)."""

    outcome: Outcome
    number: int | None
    message_id: str
    auto_submitted: bool
    reason: str | None = None


@dataclass(frozen=True)
class MailIdentity:
    """What we know of ourselves: our addresses and the secret our ids are signed with."""

    secret: bytes
    address: str


class Decided:
    """A decision's aggregates to save and its receipt."""

    def __init__(self, aggregates: list[Any], receipt: Receipt) -> None:
        self.aggregates = aggregates
        self.receipt = receipt


def quarantine(
    uow: UnitOfWork,
    delivery: Delivery,
    reason: QuarantineReason,
    detail: str,
    mail: InboundMail | None,
    ctx: Context,
) -> Decided:
    """Hold the message back (once: the same bytes to the same address are one entry)."""
    receipt = Receipt(
        "quarantined",
        None,
        mail.message_id if mail else "",
        bool(mail and automatic_reason(mail.headers)),
        reason.value,
    )
    held = quarantine_id_for(delivery.raw_sha256, delivery.recipient)
    if uow.get(held, QuarantinedMail) is not None:
        return Decided([], receipt)
    entry = QuarantinedMail.hold(
        raw_sha256=delivery.raw_sha256,
        size=delivery.size,
        recipient=delivery.recipient,
        reason=reason,
        detail=detail,
        sender=mail.sender if mail else "",
        subject=mail.subject if mail else "",
        message_id=mail.message_id if mail else "",
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return Decided([entry], receipt)


def receive(
    uow: UnitOfWork,
    delivery: Delivery,
    mail: InboundMail,
    me: MailIdentity,
    today: date,
    ctx: Context,
    *,
    released: bool = False,
) -> Decided:
    """Decide what `mail` is and where it goes; `released` (by staff from the quarantine)
    lets a reused Message-ID or a loop through as a new message. Mail the model refuses
    (a sender address it cannot keep, say) is quarantined with the reason, never an error."""
    try:
        return _decide(uow, delivery, mail, me, today, ctx, released)
    except DomainError as refused:
        return quarantine(uow, delivery, QuarantineReason.REJECTED, str(refused), mail, ctx)


def _decide(
    uow: UnitOfWork,
    delivery: Delivery,
    mail: InboundMail,
    me: MailIdentity,
    today: date,
    ctx: Context,
    released: bool,
) -> Decided:
    automatic = automatic_reason(mail.headers)
    seen = uow.get(received_id_for(mail.message_id), ReceivedMail)
    if seen is not None and not released:
        if seen.same_body(mail.body_sha256):
            outcome: Outcome = "duplicate"
            return Decided([], Receipt(outcome, seen.number, mail.message_id, bool(automatic)))
        return quarantine(
            uow, delivery, QuarantineReason.MESSAGE_ID_REUSED,
            "a different message with this Message-ID was received before", mail, ctx,
        )  # fmt: skip
    loop = _loop(uow, mail, me)
    if loop is not None and not released:
        return quarantine(uow, delivery, QuarantineReason.LOOP, loop, mail, ctx)
    if mail.report is not None:
        return _bounce(uow, delivery, mail, me, ctx)
    thread = find_thread(
        secret=me.secret,
        recipients=(delivery.recipient, *mail.to, *mail.cc),
        references=mail.thread_references,
        subject=mail.subject,
        known=_known(uow, mail, me),
        takes_part=lambda number: _takes_part(uow, number, mail.answer_to),
    )
    if thread is not None and _exists(uow, thread.number):
        # A reply to an item of a switched-off app waits in the quarantine, as new mail
        # for it does (`open_ticket` refuses), until the app is on again.
        require_kind_on(uow, "task" if uow.get(item_id(thread.number), Task) else "ticket")
        decided = _append(uow, delivery, mail, thread, automatic, ctx, record=seen is None)
    else:
        decided = _open(uow, delivery, mail, automatic, today, ctx, record=seen is None)
    decided.aggregates += mark_working(uow, mail.sender, decided.aggregates, ctx)
    return decided


def _loop(uow: UnitOfWork, mail: InboundMail, me: MailIdentity) -> str | None:
    sender = Address.parse(mail.sender)
    if sender is not None and is_our_address(uow, sender, me.address):
        return f"the sender {mail.sender} is one of our own addresses"
    if our_number(me.secret, mail.message_id) is not None:
        return "its Message-ID is one we generated"
    return None


def _exists(uow: UnitOfWork, number: int) -> bool:
    return uow.get(item_id(number), (Ticket, Task)) is not None  # type: ignore[arg-type]


def _known(uow: UnitOfWork, mail: InboundMail, me: MailIdentity) -> dict[str, int]:
    """The item numbers of the Message-IDs this message refers to (ours or received)."""
    known: dict[str, int] = {}
    for reference in mail.thread_references[:50]:
        number = our_number(me.secret, reference)
        if number is None:
            record = uow.get(received_id_for(reference), ReceivedMail)
            number = record.number if record is not None else None
        if number is not None:
            known[reference] = number
    return known


def _item(uow: UnitOfWork, number: int) -> Ticket | Task:
    """The item mail about `number` lands in: a converted ticket's task."""
    item = uow.item(number)
    if isinstance(item, Ticket) and item.converted_to is not None:
        return uow.task(item.converted_to)
    return item


def _takes_part(uow: UnitOfWork, number: int, address: str) -> bool:
    """Whether `address` is the requester, a follower or a participant of item `number`."""
    if not _exists(uow, number):
        return False
    requester = requester_of(uow, number)
    if requester is not None and requester.email == address:
        return True
    item = _item(uow, number)
    for thread_number in {number, item.number}:
        thread = uow.get(thread_id_for(thread_number), MailThread)
        if thread is not None and thread.takes_part(address):
            return True
    user = uow.find_user(user_id_for(address))
    return user is not None and str(user.id) in (*item.followers, *item.assignees)


def _actor(uow: UnitOfWork, address: str) -> tuple[Actor, User | None]:
    """Who a sender is: a staff user (active) or a customer."""
    user = uow.find_user(user_id_for(address))
    if user is not None and user.is_active:
        return Actor.user(user.id), user
    return Actor.customer(address), None


def _thread(uow: UnitOfWork, number: int, ctx: Context) -> MailThread:
    return uow.get(thread_id_for(number), MailThread) or MailThread.start(
        number, ctx.actor, ctx.correlation_id
    )


def _append(
    uow: UnitOfWork,
    delivery: Delivery,
    mail: InboundMail,
    thread: Thread,
    automatic: str | None,
    ctx: Context,
    *,
    record: bool,
) -> Decided:
    item = _item(uow, thread.number)
    actor, user = _actor(uow, mail.answer_to)
    # Staff writing by mail write internally; a stranger's mail is kept, but not shown.
    visibility = CUSTOMER if thread.participant and user is None else INTERNAL
    message_id = uuid4()
    body = mail.reply or mail.text or "(no text)"
    item.post_message(
        message_id=message_id,
        body=body
        if thread.participant
        else f"[from a non-participant: {mail.answer_to}]\n\n{body}",
        visibility=visibility,
        in_reply_to=None,
        actor=actor,
        correlation_id=ctx.correlation_id,
    )
    _attach(item, mail, visibility, actor, ctx)
    record_mail(
        item, message_id=message_id, actor=actor, correlation_id=ctx.correlation_id,
        **_mail_fields(mail, delivery, thread.by.value, automatic, not thread.participant, False),
    )  # fmt: skip
    saved: list[Any] = [item]
    if thread.participant and user is None:
        mail_thread = _thread(uow, thread.number, ctx)
        mail_thread.add(mail.answer_to, "sender", actor, ctx.correlation_id)
        saved.append(mail_thread)
    if record:
        saved.append(_record(mail, delivery, "appended", thread.number, ctx))
    return Decided(saved, Receipt("appended", item.number, mail.message_id, bool(automatic)))


def _open(
    uow: UnitOfWork,
    delivery: Delivery,
    mail: InboundMail,
    automatic: str | None,
    today: date,
    ctx: Context,
    *,
    record: bool,
) -> Decided:
    route = delivery.route
    actor, _ = _actor(uow, mail.answer_to)
    # Opened in the sender's name: the mailbox's route says where, no staff rule applies.
    opened_by = Context(actor=actor, correlation_id=ctx.correlation_id)
    *saved, ticket = new_ticket(
        uow,
        opened_by,
        load_project(uow, route.project_id, ctx),
        route.folder_id,
        requester_name=mail.sender_name,
        title=(mail.subject.strip() or NO_SUBJECT)[:TITLE_LIMIT],
        description=(mail.reply or mail.text)[:DESCRIPTION_LIMIT],
        requester_email=mail.answer_to,
        channel=Channel.EMAIL,
        priority=route.priority,
    )
    number = ticket.number
    if route.team_id is not None:
        ticket.assign_team(route.team_id, actor, ctx.correlation_id)
    _attach(ticket, mail, CUSTOMER, actor, ctx)
    thread = MailThread.start(number, actor, ctx.correlation_id)
    thread.add(mail.answer_to, "requester", actor, ctx.correlation_id)
    if route.cc_become_followers:
        for address in mail.cc:
            if address not in (mail.answer_to, route.address):
                thread.add(address, "cc", actor, ctx.correlation_id)
    fresh = uow.get(acknowledgement_id_for(mail.answer_to, today), Acknowledgement) is None
    # At most one acknowledgement per sender per day, and never to a program.
    acknowledge = route.acknowledge and automatic is None and fresh
    if acknowledge:
        due = Acknowledgement.due(mail.answer_to, today, number, actor, ctx.correlation_id)
        saved.append(due)
    record_mail(
        ticket, message_id=uuid4(), actor=actor, correlation_id=ctx.correlation_id,
        **_mail_fields(mail, delivery, None, automatic, False, acknowledge),
    )  # fmt: skip
    saved += [thread, ticket]
    if record:
        saved.append(_record(mail, delivery, "created", number, ctx))
    return Decided(saved, Receipt("created", number, mail.message_id, bool(automatic)))


def _bounce(
    uow: UnitOfWork, delivery: Delivery, mail: InboundMail, me: MailIdentity, ctx: Context
) -> Decided:
    """A delivery status notification: recorded on the item whose mail it bounces."""
    report = mail.report
    assert report is not None
    original = report.original_message_id
    number = our_number(me.secret, original) if original else None
    if number is None or not _exists(uow, number):
        return quarantine(
            uow, delivery, QuarantineReason.UNMATCHED_BOUNCE,
            f"a delivery report for {original or 'no Message-ID'}, not a mail of ours", mail, ctx,
        )  # fmt: skip
    item = _item(uow, number)
    actor = Actor.system("mail")
    if report.failed_recipients:  # A report that all went well leaves nothing on the item.
        record_bounce(
            item,
            mail_message_id=original or "",
            recipients=list(report.failed_recipients),
            status=report.status,
            diagnostic=report.diagnostic,
            actor=actor,
            correlation_id=ctx.correlation_id,
        )
    saved: list[Any] = [item, _record(mail, delivery, "bounce", item.number, ctx)]
    saved += mark_failing(uow, report, item.number, actor, ctx)
    return Decided(saved, Receipt("bounce", item.number, mail.message_id, True))


def _attach(
    item: Ticket | Task, mail: InboundMail, visibility: str, actor: Actor, ctx: Context
) -> None:
    for part in mail.parts:
        item.add_attachment(
            attachment_id=uuid4(),
            sha256=part.sha256,
            name=part.name or "attachment",
            size=part.size,
            media_type=part.media_type[:255],
            visibility=visibility,
            actor=actor,
            correlation_id=ctx.correlation_id,
        )


def _mail_fields(
    mail: InboundMail,
    delivery: Delivery,
    threaded_by: str | None,
    automatic: str | None,
    non_participant: bool,
    acknowledge: bool,
) -> dict[str, Any]:
    return {
        "mail_message_id": mail.message_id,
        "sender": mail.answer_to,
        "sender_name": mail.sender_name,
        "recipient": delivery.recipient,
        "subject": mail.subject,
        "full_text": mail.text,
        "html": mail.html,
        "threaded_by": threaded_by,
        "automatic": automatic,
        "non_participant": non_participant,
        "acknowledge": acknowledge,
        "raw_sha256": delivery.raw_sha256,
    }


def _record(
    mail: InboundMail, delivery: Delivery, outcome: str, number: int | None, ctx: Context
) -> ReceivedMail:
    return ReceivedMail.record(
        message_id=mail.message_id,
        body_sha256=mail.body_sha256,
        raw_sha256=delivery.raw_sha256,
        outcome=outcome,
        number=number,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
