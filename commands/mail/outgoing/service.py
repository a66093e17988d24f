"""Mail out: deciding who gets which mail (queued once, as `OutboundMail` events), and
sending a queued mail over SMTP.

Actors call these from the committed log (the outbox): a posted message is mailed to each
recipient who has not read it `forward_after` seconds later; a due acknowledgement to its
sender; an assignment or a mention to the staff member it names. Deciding is idempotent
(an outbound mail's id follows from why it is sent); sending skips a mail already settled,
and a mail sent twice after a crash carries the same Message-ID."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from commands.application import LedgerDesk
from commands.blobs import BlobMissingError, BlobStore, BlobStoreUnavailableError
from commands.credentials import Credentials
from commands.mail.mailboxes import is_our_address
from commands.mail.outgoing import smtp
from commands.mail.outgoing.account import account_mail, compose_account_mail, fresh_mail
from commands.mail.outgoing.compose import Attached, Envelope, compose
from commands.mail.outgoing.context import Links, template_context
from commands.mail.outgoing.item_mail import ItemMail, Message, read_item_mail
from commands.mail.outgoing.notice import notice_key, notice_mail
from commands.mail.outgoing.recipients import customers_of, may_see, staff_of, staff_recipient
from commands.mail.outgoing.report_mail import report_mail
from commands.mail.outgoing.settings import MailSettingsService
from commands.mail.outgoing.smtp import (
    PermanentSendError,
    SmtpAccountRefusedError,
    SmtpServer,
    TransientSendError,
)
from commands.mail.outgoing.templates import TemplateProblem, render
from commands.metrics import count_mail_sent
from commands.models import Context
from commands.portal import Addressee
from commands.unit_of_work import UnitOfWork, run
from domain.contact import Contact, contact_id_for
from domain.errors import InvalidValueError
from domain.item_numbers import item_id
from domain.mail.acknowledgements import Acknowledgement
from domain.mail.addresses import Address, our_message_id, reply_address
from domain.mail.on_items import record_not_sent
from domain.mail.outgoing import (
    MailBusyError,
    MailKind,
    OutboundMail,
    Recipient,
    is_news,
    mentioned_addresses,
    message_recipients,
    outbound_id_for,
    thread_root_id,
)
from domain.mail.settings import company_of
from domain.mail.templates import LAYOUT, MailTemplate, template_id_for
from domain.notifications import NOTICE_KINDS, Inbox, inbox_id_for, message_news, preferences
from domain.reading import has_read
from domain.task import Task
from domain.ticket import Ticket
from domain.user import user_id_for
from domain.values import Actor
from domain.views.report_schedule import ReportSchedule

log = logging.getLogger("ledgerdesk.mail")
MAIL_ACTOR = Actor.system("mail")
GIVE_UP_AFTER = timedelta(days=2)
# How long a worker's claim on a mail lasts (a crashed worker's claim lapses after it).
CLAIM_HOLD = timedelta(minutes=5)


@dataclass(frozen=True)
class OutgoingConfig:
    """What mail out needs from the settings."""

    address: str
    secret: bytes
    smtp_url: str | None
    forward_after: float
    public_url: str
    attach_limit: int
    encryption_keys: tuple[str, ...] = ()  # LEDGERDESK_ENCRYPTION_KEYS (the SMTP password's)


class MailOutService:
    def __init__(
        self,
        app: LedgerDesk,
        blobs: BlobStore,
        config: OutgoingConfig,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.blobs = blobs
        self.config = config
        self.clock = clock
        self.settings = MailSettingsService(app, Credentials(config.secret, config.encryption_keys))
        self.links = Links(config.public_url)
        self.url_server = _url_server(config.smtp_url)

    # --- which SMTP server ---------------------------------------------------------------

    def server(self) -> SmtpServer | None:
        """The admins' SMTP server, else LEDGERDESK_SMTP_URL's, else None (no mail out)."""
        configured = self.settings.smtp_server()
        return configured if configured is not None else self.url_server

    def test_connection(self) -> dict[str, object]:
        """Try the SMTP server mail leaves through (connect, TLS, login; no mail is sent):
        `{"ok", "server", "detail"}`; MailNotSetUpError when there is none."""
        server = self.server()
        if server is None:
            raise smtp.MailNotSetUpError
        try:
            detail = smtp.check(server)
        except smtp.TransientSendError as failed:
            return {"ok": False, "server": server.describe(), "detail": str(failed)}
        return {"ok": True, "server": server.describe(), "detail": detail}

    # --- deciding ------------------------------------------------------------------------

    def forward(self, item: UUID, message_id: str, posted_at: datetime) -> float:
        """Mail message `message_id` to each of its recipients who has not read it by now;
        answers how many seconds remain before it is due (0: decided)."""
        wait = (
            posted_at + timedelta(seconds=self.config.forward_after) - self.clock()
        ).total_seconds()
        if wait > 0:
            return wait
        if self.server() is None:
            return 0.0

        def decide(uow: UnitOfWork) -> list[Any]:
            found = _item(uow, item)
            if found is None:
                return []
            facts = read_item_mail(uow, found.number)
            message = facts.messages.get(message_id)
            if message is None or not is_news(message.author):
                return []
            visibility = "internal" if message.internal else "customer"
            staff = staff_of(uow, found)
            if message_news(message.author, message.body, not message.internal)[0]:
                # A customer's reply: to the staff who want customers' replies by mail.
                staff = [p for p in staff if _wants_mail(uow, _user_of(p), "customer_replied")]
            everyone = message_recipients(
                visibility, message.author, customers_of(uow, found, facts), staff
            )
            unread = [p for p in everyone if not has_read(found, p.reader, message_id)]
            return self._queue_each(
                uow,
                found.number,
                unread,
                lambda p: MailKind.STAFF_MESSAGE if p.is_staff else MailKind.CUSTOMER_MESSAGE,
                lambda p: f"message:{message_id}:{p.address}",
                {"message_id": message_id},
            )

        run(self.app, item, decide)
        return 0.0

    def acknowledge(self, acknowledgement: UUID) -> None:
        """Send the acknowledgement that is due (unless admins switched them off)."""
        if self.server() is None or not self.settings.current()["acknowledge"]:
            return

        def decide(uow: UnitOfWork) -> list[Any]:
            due = uow.get(acknowledgement, Acknowledgement)
            if due is None or uow.get(item_id(due.number), (Ticket, Task)) is None:  # type: ignore[arg-type]
                return []
            contact = uow.get(contact_id_for(due.sender), Contact)
            name = contact.name if contact is not None else ""
            to = Recipient(due.sender, name, f"customer:{due.sender}")
            return self._queue_each(
                uow, due.number, [to], lambda _: MailKind.ACKNOWLEDGEMENT,
                lambda _: f"ack:{acknowledgement}", {},
            )  # fmt: skip

        run(self.app, acknowledgement, decide)

    def assignment(self, item: UUID, version: int, user_id: str, by: str) -> None:
        """Tell `user_id` that `by` assigned them the item (not when they took it)."""
        if self.server() is None or by == f"user:{user_id}":
            return

        def decide(uow: UnitOfWork) -> list[Any]:
            found = _item(uow, item)
            user = uow.find_user(UUID(user_id))
            if found is None or user is None or not user.is_active:
                return []
            if not _wants_mail(uow, user.id, "assigned"):
                return []
            return self._queue_each(
                uow, found.number, [staff_recipient(user)], lambda _: MailKind.ASSIGNMENT,
                lambda _: f"assign:{item}:{version}", {"by": by},
            )  # fmt: skip

        run(self.app, item, decide)

    def mentions(self, item: UUID, message_id: str) -> None:
        """Tell each staff member mentioned in a message (`@ana@example.com`) who may see
        the item; never its author."""
        if self.server() is None:
            return

        def decide(uow: UnitOfWork) -> list[Any]:
            found = _item(uow, item)
            if found is None:
                return []
            message = read_item_mail(uow, found.number).messages.get(message_id)
            if message is None or not is_news(message.author):
                return []
            people = []
            for address in mentioned_addresses(message.body):
                user = uow.find_user(user_id_for(address))
                if user is None or not user.is_active or message.author == f"user:{user.id}":
                    continue
                if not _wants_mail(uow, user.id, "mentioned"):
                    continue
                if may_see(uow, found, user.id):
                    people.append(staff_recipient(user))
            return self._queue_each(
                uow, found.number, people, lambda _: MailKind.MENTION,
                lambda p: f"mention:{message_id}:{p.address}", {"message_id": message_id},
            )  # fmt: skip

        run(self.app, item, decide)

    def notice(self, user_id: UUID, notification: dict[str, Any]) -> None:
        """Tell `user_id` of `notification` by mail, once, if they want its kind mailed."""
        if self.server() is None:
            return

        def decide(uow: UnitOfWork) -> list[Any]:
            user = uow.find_user(user_id)
            if user is None or not user.is_active or not _mailed(uow, user.id, notification):
                return []
            if self.is_ours(uow, user.email):  # Never mail ourselves: that is a loop.
                return []
            if uow.get(outbound_id_for(notice_key(notification, user.id)), OutboundMail):
                return []
            return [
                notice_mail(
                    notification, user, secret=self.config.secret, domain=self._domain(),
                    public_url=self.config.public_url,
                )
            ]  # fmt: skip

        run(self.app, outbound_id_for(notice_key(notification, user_id)), decide)

    def rule_mail(
        self,
        uow: UnitOfWork,
        item: Ticket | Task,
        to: list[str],
        key: str,
        rendered: dict[str, str],
        ctx: Context,
    ) -> list[Any]:
        """An automation rule's mail about `item` (`rendered`: its subject and body) to each
        of `to` (addresses, or `requester`, `assignees`, `followers`), queued in `uow` as
        `ctx` (the rule); none without an SMTP server (nothing could send it)."""
        if self.server() is None:
            log.warning("rule mail %s not queued: no SMTP server is configured", key)
            return []
        people: dict[str, Recipient] = {}
        for one in to:
            if one == "requester":
                facts = read_item_mail(uow, item.number)
                wanted = (facts.requester_email or "").lower()
                found = [c for c in customers_of(uow, item, facts) if c.address.lower() == wanted]
            elif one in ("assignees", "followers"):
                ids = item.assignees if one == "assignees" else item.followers
                found = [r for r in staff_of(uow, item) if r.reader.partition(":")[2] in ids]
            else:
                found = [Recipient(one, "", f"customer:{one}")]
            people.update((r.address.lower(), r) for r in found)
        return self._queue_each(
            uow, item.number, list(people.values()), lambda _: MailKind.AUTOMATION,
            lambda p: f"{key}:{p.address.lower()}", dict(rendered), ctx,
        )  # fmt: skip

    def _queue_each(
        self,
        uow: UnitOfWork,
        number: int,
        people: list[Recipient],
        kind: Callable[[Recipient], MailKind],
        key: Callable[[Recipient], str],
        context: dict[str, Any],
        by: Context | None = None,
    ) -> list[Any]:
        """Mail of `kind` to each of `people`, queued as `by` (default: the mail worker,
        correlated by the mail's key)."""
        queued = []
        for person in people:
            if self.is_ours(uow, person.address):  # Never mail ourselves: that is a loop.
                continue
            mail_key = key(person)
            if uow.get(outbound_id_for(mail_key), OutboundMail) is not None:
                continue
            domain = self._domain()
            queued.append(
                OutboundMail.queue(
                    key=mail_key,
                    kind=kind(person),
                    number=number,
                    to=person,
                    context=context,
                    mail_message_id=our_message_id(self.config.secret, number, mail_key, domain),
                    actor=by.actor if by is not None else MAIL_ACTOR,
                    correlation_id=by.correlation_id
                    if by is not None
                    else f"mail:{mail_key}"[:200],
                )
            )
        return queued

    def is_ours(self, uow: UnitOfWork, address: str) -> bool:
        parsed = Address.parse(address)
        return parsed is None or is_our_address(uow, parsed, self.config.address)

    # --- scheduled reports ------------------------------------------------------------

    def report_mails(
        self, uow: UnitOfWork, schedule_id: UUID, period: str, about: dict[str, Any]
    ) -> list[OutboundMail]:
        """A run's mail to each of `about`'s recipients (never to an address of ours), to be
        saved with the run: `about` holds the `report` and its `attachment`."""
        return [
            report_mail(
                schedule_id=schedule_id,
                period=period,
                address=address,
                about={"report": about["report"], "attachment": about["attachment"]},
                secret=self.config.secret,
                domain=self._domain(),
            )
            for address in about["recipients"]
            if not self.is_ours(uow, address)
        ]

    def brand(self) -> tuple[str, str, bytes | None]:
        """The company's name, colour and uploaded logo (its bytes), for a printed report."""
        settings = self.settings.current()
        company = company_of(settings)
        logo = settings.get("logo")
        image = None
        if logo:
            try:
                image = self.blobs.read_bytes(logo["sha256"])
            except (BlobMissingError, BlobStoreUnavailableError) as error:
                log.warning("the logo is left out of a report: %s", error)
        return company["name"], company["colour"], image

    # --- mail about a customer's access ---------------------------------------------------

    def configured(self) -> bool:
        """Whether mail can leave: an SMTP server set by admins or by LEDGERDESK_SMTP_URL."""
        return self.server() is not None

    def queue_account_mail(
        self, *, kind: str, contact: Addressee, nonce: str, expires_at: str, ctx: Context
    ) -> OutboundMail:
        return account_mail(
            kind=MailKind(kind), contact=contact, nonce=nonce, expires_at=expires_at,
            secret=self.config.secret, domain=self._domain(), ctx=ctx,
        )  # fmt: skip

    def _domain(self) -> str:
        return self.config.address.rpartition("@")[2]

    # --- sending -------------------------------------------------------------------------

    def send(self, outbound: UUID) -> str:
        """Send a queued mail; what became of it (sent, failed, settled already). Raises
        TransientSendError while a retry may still help, MailBusyError while another worker
        holds it.

        The attempt is claimed in the log before the mail leaves, so two workers never both
        send it; only a crash between the SMTP server's 250 and the `Sent` event can send it
        again, after the claim lapses, with the same Message-ID."""
        claimed = self._claim(outbound)
        if claimed is None:
            return "settled"
        mail = claimed
        try:
            server = self.server()
            if server is None:
                raise TransientSendError("no SMTP server is configured")
            message, sender = self._compose(UnitOfWork(self.app), mail, server)
            smtp.send(server, message, sender, [mail.recipient])
        except PermanentSendError as refused:
            self._failed(mail, str(refused))
            count_mail_sent("failed")
            return "failed"
        # A blob store that does not answer may answer later: tried again, like a server.
        except (TransientSendError, BlobStoreUnavailableError) as failed:
            if isinstance(failed, SmtpAccountRefusedError):  # For an admin to fix.
                log.warning("mail %s to %s not sent, retried: %s", mail.key, mail.recipient, failed)
            if self.clock() - mail.created_on > GIVE_UP_AFTER:
                self._failed(mail, f"gave up after {GIVE_UP_AFTER}: {failed}")
                count_mail_sent("failed")
                return "failed"
            error = str(failed)
            self._settle(outbound, lambda m: m.released(error, MAIL_ACTOR, m.key))
            count_mail_sent("retried")
            raise
        # A mail that cannot be built (a missing blob, an unreadable password) never will be.
        except Exception as broken:  # noqa: BLE001
            self._failed(mail, f"the mail could not be built: {broken}")
            count_mail_sent("failed")
            return "failed"
        self._settle(outbound, lambda m: m.sent(server.describe(), MAIL_ACTOR, m.key))
        count_mail_sent("sent")
        return "sent"

    def _claim(self, outbound: UUID) -> OutboundMail | None:
        """The mail, claimed for this attempt; None if it is settled. One save, no retry:
        a concurrent claim makes this one fail (MailBusyError)."""
        mail = UnitOfWork(self.app).get(outbound, OutboundMail)
        if mail is None or mail.settled:
            return None
        mail.attempt(self.clock(), CLAIM_HOLD, MAIL_ACTOR, mail.key)
        try:
            self.app.save_all([mail])
        except IntegrityError:
            raise MailBusyError from None
        return mail

    def _compose(self, uow: UnitOfWork, mail: OutboundMail, server: SmtpServer) -> tuple[Any, str]:
        """The mail for its one recipient (their links), and its envelope sender."""
        kind = MailKind(mail.kind)
        if kind.about_an_account or kind in (MailKind.NOTIFICATION, MailKind.REPORT):
            sender = server.from_address or self.config.address
            branding = self.settings.current()
            fresh: dict[str, Any] = {
                "branding": branding, "sender": sender,
                "from_name": server.from_name or sender_name(branding),
                "own": _override(uow, mail.kind), "layout": _override(uow, LAYOUT),
                "now": self.clock(),
            }  # fmt: skip
            if kind == MailKind.NOTIFICATION:
                return fresh_mail(mail, {"notice": dict(mail.context)}, **fresh), sender
            if kind == MailKind.REPORT:
                file = mail.context["attachment"]
                data = self.blobs.read_bytes(file["sha256"])
                attached = [Attached(file["name"], file["media_type"], data)]
                about = {"report": mail.context["report"]}
                return fresh_mail(mail, about, **fresh, attachments=attached), sender
            built = compose_account_mail(
                mail, secret=self.config.secret, public_url=self.config.public_url, **fresh
            )
            return built, sender
        item = uow.item(mail.number)
        facts = read_item_mail(uow, mail.number)
        branding = self.settings.current()
        mailbox = facts.mailbox or self.config.address
        sender = server.from_address or mailbox
        message = facts.messages.get(mail.context.get("message_id", ""))
        context = template_context(
            uow, mail, item, facts, message, branding, self.links, self.config.attach_limit
        )
        own = _override(uow, mail.kind)
        layout = _override(uow, LAYOUT)
        try:
            rendered = render(mail.kind, context, own, layout)
        except TemplateProblem:  # An override that fails on real data: the shipped ones.
            rendered = render(mail.kind, context, None, None)
        root = thread_root_id(self.config.secret, facts.origin, self._domain())
        references, answered = facts.references(root, message.message_id if message else None)
        # Mail a program wrote (came in flagged automatic, or a rule's auto-reply) goes out
        # flagged automatic, so that responders do not answer it.
        automatic = message is not None and (
            message.message_id in facts.automatic or message.author.startswith("automation:")
        )
        envelope = Envelope(
            from_address=sender,
            from_name=server.from_name or sender_name(branding),
            to_address=mail.recipient,
            to_name=mail.recipient_name,
            reply_to=reply_address(self.config.secret, mailbox, mail.number),
            message_id=mail.mail_message_id,
            references=references,
            in_reply_to=answered,
            auto_submitted=MailKind(mail.kind).auto_submitted(passes_on_automatic=automatic),
        )
        attachments = self._attachments(facts, message) if message else []
        return compose(rendered, envelope, self.clock(), attachments), sender

    def _attachments(self, facts: ItemMail, message: Message) -> list[Attached]:
        """The message's attachments up to the size limit (larger ones are links)."""
        return [
            Attached(a["name"], a["media_type"], self.blobs.read_bytes(a["sha256"]))
            for a in facts.attachments_of(message)
            if a["size"] <= self.config.attach_limit
        ]

    def _failed(self, failing: OutboundMail, error: str) -> None:
        """Record that `failing` cannot be sent, on the mail and on its item, at once."""

        def decide(uow: UnitOfWork) -> list[Any]:
            mail = uow.get(failing.id, OutboundMail)
            if mail is None or mail.settled:
                return []
            mail.failed(error, MAIL_ACTOR, mail.key)
            saved: list[Any] = [mail]
            if mail.kind == MailKind.REPORT:  # Told on its schedule's runs, to its owner.
                schedule = uow.get(UUID(mail.context["schedule_id"]), ReportSchedule)
                if schedule is not None:
                    schedule.delivery_failed(
                        mail.context["period"], mail.recipient, error, MAIL_ACTOR.ref, mail.key
                    )
                    saved.append(schedule)
                return saved
            if uow.get(item_id(mail.number), (Ticket, Task)) is not None:  # type: ignore[arg-type]
                item = uow.item(mail.number)
                record_not_sent(
                    item,
                    mail_message_id=mail.mail_message_id,
                    kind=mail.kind,
                    recipient=mail.recipient,
                    error=error,
                    actor=MAIL_ACTOR,
                    correlation_id=mail.key[:200],
                )
                saved.append(item)
            return saved

        run(self.app, item_id(failing.number), decide)

    def _settle(self, outbound: UUID, change: Callable[[OutboundMail], None]) -> None:
        def decide(uow: UnitOfWork) -> list[Any]:
            mail = uow.get(outbound, OutboundMail)
            if mail is None or mail.settled:
                return []
            change(mail)
            return [mail]

        run(self.app, outbound, decide)


def _url_server(url: str | None) -> SmtpServer | None:
    """LEDGERDESK_SMTP_URL's server, read once at start, so a bad one stops the start."""
    if not url:
        return None
    try:
        return SmtpServer.from_url(url)
    except InvalidValueError as bad:
        raise InvalidValueError("smtp_url", f"LEDGERDESK_SMTP_URL: {bad}") from None


def _item(uow: UnitOfWork, aggregate_id: UUID) -> Ticket | Task | None:
    return uow.get(aggregate_id, (Ticket, Task))  # type: ignore[arg-type]


def _wants_mail(uow: UnitOfWork, user_id: UUID, kind: str) -> bool:
    """Whether the user wants notifications of `kind` by mail (their preference, or the
    default)."""
    inbox = uow.get(inbox_id_for(user_id), Inbox)
    return preferences(inbox.preferences if inbox else None)[kind]["email"]


def _user_of(person: Recipient) -> UUID:
    return UUID(person.reader.partition(":")[2])


def _mailed(uow: UnitOfWork, user_id: UUID, notification: dict[str, Any]) -> bool:
    return notification["kind"] in NOTICE_KINDS and _wants_mail(uow, user_id, notification["kind"])


def _override(uow: UnitOfWork, kind: str) -> dict[str, str] | None:
    template = uow.get(template_id_for(kind), MailTemplate)
    return template.parts if template is not None else None


def sender_name(branding: dict[str, Any]) -> str:
    """The name mail from the support address shows: the support name admins set, else
    the company's name (an SMTP server's own From name wins over both)."""
    return str(branding.get("support_name") or branding["company_name"])
