"""Mail out, end to end on SQLite and PostgreSQL: actors running from the committed log,
sending over SMTP to a real capturing server (aiosmtpd). Acknowledgements, messages to
those who have not read them, internal messages to staff only, assignment and mention
notices, the threading headers that bring a reply back, and failures for good."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from commands.mail.outgoing import smtp
from commands.mail.outgoing.service import GIVE_UP_AFTER
from commands.mail.outgoing.smtp import (
    PermanentSendError,
    SmtpAccountRefusedError,
    SmtpServer,
    TransientSendError,
)
from commands.mail.outgoing.templates import TemplateProblem
from commands.models import AddAttachment, AddFollower, AssignUser, PostMessage
from domain.errors import InvalidValueError
from domain.item_numbers import item_id
from domain.mail.addresses import our_number
from domain.mail.on_items import MailNotSent
from domain.mail.outgoing import OutboundMail, outbound_id_for, thread_root_id
from domain.mail.templates import MailTemplate
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.base import current_tables
from projections.ticket_detail import get_ticket
from tests.conftest import mailing_install, make_settings, wait_until
from tests.factories import SYSTEM, open_ticket, register
from tests.integration.mail.test_receive import CTX, mail
from tests.smtp_sink import Received, Sink, free_port

SUPPORT = "support@ledgerdesk.local"


@pytest.fixture
def desk(settings: Settings, sink: Sink) -> Iterator[bootstrap.Container]:
    container = mailing_install(settings, sink)
    yield container
    container.close()


def post(c: bootstrap.Container, number: int, body: str, visibility: str, by: uuid.UUID) -> str:
    message_id = uuid.uuid4()
    ctx = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(by)})
    cmd = PostMessage(message_id=message_id, body=body, visibility=visibility)
    c.commands.change_item(number, [cmd], ctx)
    return str(message_id)


def test_a_mailed_request_is_acknowledged_and_a_staff_reply_threads_back(
    desk: bootstrap.Container, sink: Sink
) -> None:
    # Given a customer who wrote to the support address
    opened = desk.mail.receive(mail(message_id="<first@acme.example>"), None, "test", CTX)
    number = opened.number
    assert number is not None
    # Then they get one acknowledgement: an auto-reply, tagged, threaded, with our reply address
    wait_until(lambda: len(sink.to("ada@acme.example")) == 1, what="the acknowledgement")
    ack = sink.to("ada@acme.example")[0].message
    assert ack["Auto-Submitted"] == "auto-replied"
    assert f"[#{number}]" in ack["Subject"]
    assert ack["In-Reply-To"] == "<first@acme.example>"
    assert our_number(desk.mail.secret, ack["Message-ID"]) == number
    assert ack["Reply-To"].startswith(f"support+r{number}.")
    assert {p.get_content_type() for p in ack.walk()} >= {"text/plain", "text/html"}
    # When staff answer the customer
    agent = register(desk, "grace@ledgerdesk.example", admin=True)
    post(desk, number, "We are on it.", "customer", agent)
    # Then the answer reaches the customer, in the same thread
    wait_until(lambda: len(sink.to("ada@acme.example")) == 2, what="the reply")
    reply = sink.to("ada@acme.example")[1].message
    assert "We are on it." in reply.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # First the mail that opened the item, then the item's own root Message-ID
    root = f"<{thread_root_id(desk.mail.secret, number, 'ledgerdesk.local')}>"
    assert reply["References"].split()[:2] == ["<first@acme.example>", root]
    assert ack["References"].split() == ["<first@acme.example>", root]
    assert reply["Auto-Submitted"] is None
    # And the customer's answer to it comes back to the same item
    answer = mail(
        subject="Re: thanks", body="Great", extra=f"In-Reply-To: {reply['Message-ID']}\r\n"
    )
    back = desk.mail.receive(answer, str(reply["Reply-To"]), "test", CTX)
    assert (back.outcome, back.number) == ("appended", number)


def test_an_internal_message_goes_to_staff_only_and_never_to_its_author(
    desk: bootstrap.Container, sink: Sink
) -> None:
    number = desk.mail.receive(mail(), None, "test", CTX).number
    assert number is not None
    wait_until(lambda: len(sink.to("ada@acme.example")) == 1, what="the acknowledgement")
    author = register(desk, "grace@ledgerdesk.example", admin=True)
    follower = register(desk, "linus@ledgerdesk.example", admin=True)
    desk.commands.change_item(
        number, [AddFollower(user_id=follower), AddFollower(user_id=author)], SYSTEM
    )
    post(desk, number, "Customer is grumpy, careful.", "internal", author)
    wait_until(lambda: len(sink.to("linus@ledgerdesk.example")) == 1, what="the staff mail")
    staff_mail = sink.to("linus@ledgerdesk.example")[0].message
    assert "[internal]" in staff_mail["Subject"]
    # Nothing more reached the customer or the author
    post(desk, number, "A marker reply", "customer", author)
    wait_until(lambda: len(sink.to("ada@acme.example")) == 2, what="the marker reply")
    customer_text = " ".join(r.raw.decode(errors="replace") for r in sink.to("ada@acme.example"))
    assert "grumpy" not in customer_text
    assert sink.to("grace@ledgerdesk.example") == []


def test_reading_a_message_in_time_cancels_its_mail(settings: Settings, sink: Sink) -> None:
    desk = mailing_install(settings, sink, forward_unread_after=2.0)
    try:
        number = desk.mail.receive(
            mail(extra="Auto-Submitted: auto-generated\r\n"), None, "test", CTX
        ).number
        assert number is not None
        author = register(desk, "grace@ledgerdesk.example", admin=True)
        reader = register(desk, "linus@ledgerdesk.example", admin=True)
        busy = register(desk, "ken@ledgerdesk.example", admin=True)
        follow = [AddFollower(user_id=reader), AddFollower(user_id=busy)]
        desk.commands.change_item(number, follow, SYSTEM)
        post(desk, number, "Please look at this.", "internal", author)
        # When one follower reads it within the time
        as_reader = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(reader)})
        assert desk.commands.mark_read(number, as_reader)[0] == 1
        # Then only the other one is mailed, once the time is up
        wait_until(lambda: len(sink.to("ken@ledgerdesk.example")) == 1, what="the unread forward")
        assert sink.to("linus@ledgerdesk.example") == []
        assert sink.to("ada@acme.example") == []  # internal, and automatic mail got no ack
    finally:
        desk.close()


def test_assignment_and_mention_notices_go_to_the_staff_member(
    desk: bootstrap.Container, sink: Sink
) -> None:
    number = desk.mail.receive(mail(), None, "test", CTX).number
    assert number is not None
    boss = register(desk, "grace@ledgerdesk.example", admin=True)
    agent = register(desk, "linus@ledgerdesk.example", admin=True)
    as_boss = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(boss)})
    desk.commands.change_item(number, [AssignUser(user_id=agent)], as_boss)
    wait_until(lambda: len(sink.to("linus@ledgerdesk.example")) == 1, what="the assignment")
    notice = sink.to("linus@ledgerdesk.example")[0].message
    assert notice["Subject"].startswith("Assigned to you")
    assert notice["Auto-Submitted"] == "auto-generated"
    # Taking an item yourself is no news
    as_agent = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(agent)})
    desk.commands.change_item(number, [AssignUser(user_id=boss)], as_boss)
    desk.commands.change_item(number, [AssignUser(user_id=agent)], as_agent)
    post(desk, number, "@linus@ledgerdesk.example can you check?", "internal", boss)
    wait_until(
        lambda: any(
            "mentioned you" in r.message["Subject"] for r in sink.to("linus@ledgerdesk.example")
        ),
        what="the mention",
    )
    assert [
        r for r in sink.to("grace@ledgerdesk.example") if "mentioned" in r.message["Subject"]
    ] == []


def test_a_refused_mail_fails_for_good_and_shows_on_the_item(
    desk: bootstrap.Container, sink: Sink
) -> None:
    sink.refuse["gone@acme.example"] = 550
    number = desk.mail.receive(mail(sender="gone@acme.example"), None, "test", CTX).number
    assert number is not None

    def failures() -> list[dict[str, object]]:
        with desk.views.read() as tx:
            doc = get_ticket(tx, current_tables(tx, "ticket_detail"), number)
        return list(doc.get("mail_failures", [])) if doc else []

    wait_until(lambda: len(failures()) == 1, what="the failure on the item")
    failure = failures()[0]
    assert failure["recipient"] == "gone@acme.example"
    assert failure["kind"] == "acknowledgement"
    assert "550" in str(failure["error"])


def test_a_server_that_is_away_is_retried_and_a_mail_is_sent_once(
    settings: Settings, sink: Sink
) -> None:
    configured = settings.model_copy(update={"smtp_url": sink.url, "forward_unread_after": 0})
    bootstrap.migrate(configured)
    c = bootstrap.build(configured)  # No workers: the test drives the service.
    try:
        number = c.mail.receive(mail(), None, "test", CTX).number
        assert number is not None
        due = c.app.recorder.select_notifications(start=1, limit=1000)
        ack_id = next(n.originator_id for n in due if n.topic == "ledgerdesk:Acknowledgement.Due")
        c.mail_out.acknowledge(ack_id)
        c.mail_out.acknowledge(ack_id)  # Deciding twice queues once.
        outbound = outbound_id_for(f"ack:{ack_id}")
        assert isinstance(c.app.repository.get(outbound), OutboundMail)
        sink.refuse["ada@acme.example"] = 451
        with pytest.raises(TransientSendError):
            c.mail_out.send(outbound)
        del sink.refuse["ada@acme.example"]
        assert c.mail_out.send(outbound) == "sent"
        assert c.mail_out.send(outbound) == "settled"  # A redelivery sends nothing.
        assert len(sink.to("ada@acme.example")) == 1
    finally:
        c.close()


def auto_reply(to_ours: Received, robot: str, n: int) -> bytes:
    """What a naive auto-responder sends back: no automatic headers at all, a new subject,
    to the address the mail came from."""
    original = to_ours.message
    return (
        f"From: Robot <{robot}>\r\nTo: {original['From']}\r\nSubject: I am away ({n})\r\n"
        f"Message-ID: <away-{n}-{uuid.uuid4()}@vendor.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nI am away until Monday.\r\n"
    ).encode()


def dsn(ours: str, recipient: str) -> bytes:
    boundary = "dsn-boundary"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@vendor.example>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn-{uuid.uuid4()}@vendor.example>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.vendor.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {ours}\r\nTo: {recipient}\r\n\r\n--{boundary}--\r\n"
    ).encode()


def quiet(c: bootstrap.Container) -> None:
    """Wait until everything the log asks the workers for so far is done and every queued
    mail settled (sent or failed), with the log standing still: a test that then checks that
    nothing more was sent knows that nothing more is on its way."""

    def done() -> bool:
        head = c.app.head()
        if not c.runner.wait_for(head, ["outbox"], 5):
            return False
        with c.views.read() as tx:
            t = current_tables(tx, "outbox")
            open_work = tx.one(
                f"SELECT COUNT(*) AS n FROM {t['outbox_messages']} WHERE message_id NOT IN"
                " (SELECT message_id FROM worker_receipts)"
            )
        if open_work is None or open_work["n"]:
            return False
        queued = [
            n.originator_id
            for n in c.app.recorder.select_notifications(start=1, limit=1_000_000)
            if n.topic == "ledgerdesk:OutboundMail.Queued"
        ]
        settled = all(c.app.repository.get(i).settled for i in queued)
        return settled and c.app.head() == head

    wait_until(done, what="the workers done and every queued mail settled")


def test_an_auto_responder_that_answers_everything_gets_one_acknowledgement_a_day(
    desk: bootstrap.Container, sink: Sink
) -> None:
    robot = "robot@vendor.example"
    desk.mail.receive(mail(sender=robot, subject="Order 1"), None, "test", CTX)
    answered = 0
    for round_ in range(6):
        wait_until(lambda: len(sink.all()) > 0, what="our first mail")
        quiet(desk)  # Whatever our side would send has gone.
        mails = sink.to(robot)
        for received in mails[answered:]:
            desk.mail.receive(auto_reply(received, robot, round_), None, "test", CTX)
        answered = len(mails)
    # At most one acknowledgement to it today, however often it answers
    acks = [r for r in sink.to(robot) if r.message["Auto-Submitted"] == "auto-replied"]
    assert len(acks) == 1
    assert len(sink.to(robot)) == 1
    # And its delivery reports about our mail open nothing: they are bounces
    ours = acks[0].message["Message-ID"]
    bounced = desk.mail.receive(dsn(ours, robot), None, "test", CTX)
    assert bounced.outcome == "bounce"
    assert desk.mail.receive(dsn("<not-ours@x.example>", robot), None, "test", CTX).outcome == (
        "quarantined"
    )


def test_a_sender_whose_address_starts_with_a_plus_is_acknowledged(
    desk: bootstrap.Container, sink: Sink
) -> None:
    # The loop check that mail in and mail out share takes such an address too
    number = desk.mail.receive(mail(sender="+15550100123@acme.example"), None, "test", CTX).number
    assert number is not None
    wait_until(lambda: len(sink.to("+15550100123@acme.example")) == 1, what="the acknowledgement")


# --- the review's defects, each with the test that would have caught it ------------------

RECURSIVE = "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"


def test_a_stored_override_that_calls_itself_falls_back_to_the_shipped_template(
    desk: bootstrap.Container, sink: Sink
) -> None:
    # Given an acknowledgement override stored before such templates were refused
    template = MailTemplate.start("acknowledgement", SYSTEM.actor, "test")
    template.override({p: RECURSIVE for p in ("subject", "html", "text")}, SYSTEM.actor, "test")
    desk.app.save_all([template])
    # Then previewing the templates in force names the problem
    with pytest.raises(TemplateProblem, match="calls itself"):
        desk.mail_out.settings.preview("acknowledgement", None)
    # And a customer who writes is still acknowledged, with the shipped template
    desk.mail.receive(mail(), None, "test", CTX)
    wait_until(lambda: len(sink.to("ada@acme.example")) == 1, what="the acknowledgement")
    ack = sink.to("ada@acme.example")[0].message
    assert ack["Subject"].startswith("We received your request")


def test_mail_about_an_item_that_came_by_no_mail_threads_under_its_root_which_finds_it(
    desk: bootstrap.Container, sink: Sink
) -> None:
    # Given an item opened for a customer through the API, not by mail
    number = open_ticket(desk, requester_email="ada@acme.example")
    agent = register(desk, "grace@ledgerdesk.example", admin=True)
    # When staff answer the customer twice
    post(desk, number, "A first answer.", "customer", agent)
    post(desk, number, "A second answer.", "customer", agent)
    # Then both mails name the item's root, so the customer's client threads them together
    wait_until(lambda: len(sink.to("ada@acme.example")) == 2, what="both answers")
    root = f"<{thread_root_id(desk.mail.secret, number, 'ledgerdesk.local')}>"
    for received in sink.to("ada@acme.example"):
        assert (received.message["References"], received.message["In-Reply-To"]) == (root, root)
    # And a reply naming only the root (no reply address, no tag) comes back to the item
    answer = mail(subject="Thanks", body="Both arrived.", extra=f"In-Reply-To: {root}\r\n")
    back = desk.mail.receive(answer, None, "test", CTX)
    assert (back.outcome, back.number) == ("appended", number)


def opened_with_a_follower(desk: bootstrap.Container, sink: Sink) -> tuple[int, str]:
    """An item opened by mail from ada@acme.example that staff member linus follows; the
    Message-ID of ada's acknowledgement."""
    number = desk.mail.receive(mail(), None, "test", CTX).number
    assert number is not None
    follower = register(desk, "linus@ledgerdesk.example", admin=True)
    desk.commands.change_item(number, [AddFollower(user_id=follower)], SYSTEM)
    wait_until(lambda: len(sink.to("ada@acme.example")) == 1, what="the acknowledgement")
    return number, str(sink.to("ada@acme.example")[0].message["Message-ID"])


def staff_mail_saying(sink: Sink, text: str) -> Received:
    wait_until(
        lambda: any(text in r.raw.decode(errors="replace") for r in sink.to(LINUS)),
        what=f"the mail to the follower saying {text!r}",
    )
    return next(r for r in sink.to(LINUS) if text in r.raw.decode(errors="replace"))


LINUS = "linus@ledgerdesk.example"


def test_an_automatic_message_passed_on_to_others_says_it_is_automatic(
    desk: bootstrap.Container, sink: Sink
) -> None:
    number, ack = opened_with_a_follower(desk, sink)
    # When the customer's out-of-office answers our acknowledgement
    away = mail(
        subject="Automatic reply: Printer on fire",
        body="I am out of the office until Monday.",
        extra=f"In-Reply-To: {ack}\r\nAuto-Submitted: auto-replied\r\n",
    )
    receipt = desk.mail.receive(away, None, "test", CTX)
    assert (receipt.outcome, receipt.number, receipt.auto_submitted) == ("appended", number, True)
    # Then the follower gets it marked automatic, so their own responder keeps quiet
    passed_on = staff_mail_saying(sink, "out of the office until Monday").message
    assert passed_on["Auto-Submitted"] == "auto-generated"
    assert passed_on["X-Auto-Response-Suppress"] == "All"
    # While what a person writes is passed on as it is
    human = mail(subject="Re: Printer on fire", body="Back early.", extra=f"In-Reply-To: {ack}\r\n")
    desk.mail.receive(human, None, "test", CTX)
    assert staff_mail_saying(sink, "Back early.").message["Auto-Submitted"] is None


def test_a_forwarded_message_attached_to_a_mail_is_passed_on_as_octet_stream(
    desk: bootstrap.Container, sink: Sink
) -> None:
    _, ack = opened_with_a_follower(desk, sink)
    # When the customer sends on what the vendor wrote them, as an attached message
    forwarded = (
        "From: Ada <ada@acme.example>\r\nTo: support@ledgerdesk.local\r\n"
        f"Subject: Re: Printer on fire\r\nMessage-ID: <{uuid.uuid4()}@acme.example>\r\n"
        f'In-Reply-To: {ack}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"'
        "\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Here is what the vendor wrote.\r\n--b\r\nContent-Type: message/rfc822\r\n"
        'Content-Disposition: attachment; filename="vendor.eml"\r\n\r\n'
        "From: Vendor <help@vendor.example>\r\nSubject: Your printer\r\n"
        "Message-ID: <v1@vendor.example>\r\n\r\nIt is not covered.\r\n--b--\r\n"
    ).encode()
    assert desk.mail.receive(forwarded, None, "test", CTX).outcome == "appended"
    # Then the follower gets it with the message attached as the bytes it is
    passed_on = staff_mail_saying(sink, "Here is what the vendor wrote.").message
    (attached,) = list(passed_on.iter_attachments())
    assert attached.get_content_type() == "application/octet-stream"
    assert attached.get_filename() == "vendor.eml"
    assert b"It is not covered." in attached.get_content()


def test_links_lead_customers_to_the_portal_and_staff_to_the_api(
    settings: Settings, sink: Sink
) -> None:
    base = "https://desk.example"
    desk = mailing_install(settings, sink, max_mail_attachment_bytes=10, public_url=base)
    try:
        number = open_ticket(desk, requester_email="ada@acme.example")
        author = register(desk, "grace@ledgerdesk.example", admin=True)
        follower = register(desk, LINUS, admin=True)
        desk.commands.change_item(number, [AddFollower(user_id=follower)], SYSTEM)
        as_author = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(author)})
        # Given a customer template that shows the item's link
        links = "{{ item.url }}\n{% for a in attachments %}{{ a.link }}\n{% endfor %}"
        own = {"subject": "Re: {{ item.title }}", "html": "<p>x</p>", "text": links}
        desk.mail_out.settings.override("customer_message", own, as_author)
        # When staff answer with an attachment too large to travel with the mail
        sha, size = desk.commands.blobs.put(io.BytesIO(b"log line\n" * 20), 10_000)
        attachment = uuid.uuid4()
        answer = [
            PostMessage(message_id=uuid.uuid4(), body="See the log.", visibility="customer"),
            AddAttachment(
                attachment_id=attachment, sha256=sha, name="log.txt", size=size,
                media_type="text/plain", visibility="customer",
            ),
        ]  # fmt: skip
        desk.commands.change_item(number, answer, as_author)
        wait_until(lambda: sink.to("ada@acme.example") and sink.to(LINUS), what="both mails")
        # Then the customer's links open the customer web app, the follower's the API
        customer = sink.to("ada@acme.example")[0].message.get_body(("plain",))
        staff = sink.to(LINUS)[0].message.get_body(("plain",))
        assert customer is not None
        assert staff is not None
        customer_text = customer.get_content().replace("\r\n", "\n")
        staff_text = staff.get_content().replace("\r\n", "\n")
        assert f"{base}/portal/items/{number}\n" in customer_text
        assert f"{base}/portal/items/{number}/attachments/{attachment}" in customer_text
        assert "/api/" not in customer_text
        assert f"Open it: {base}/api/v1/tickets/{number}\n" in staff_text
        assert f"{base}/api/v1/tickets/{number}/attachments/{attachment}" in staff_text
    finally:
        desk.close()


# --- SMTP answers about us, not about the mail ---------------------------------------------


@dataclass
class PickySink(Sink):
    """A sink that may refuse our login (any but desk/right), our sender or the data."""

    sender_code: int | None = None
    data_code: int | None = None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.sender_code is not None:
            return f"{self.sender_code} 5.7.1 sender not allowed"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_code is not None:
            return f"{self.data_code} 5.7.0 content refused"
        return await super().handle_DATA(server, session, envelope)


def only_desk(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"desk", b"right")
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 when not ok.


@pytest.fixture
def picky() -> Iterator[PickySink]:
    sink = PickySink("127.0.0.1", free_port())
    controller = Controller(
        sink, hostname=sink.host, port=sink.port, authenticator=only_desk, auth_require_tls=False
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def a_mail() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = SUPPORT, "ada@acme.example", "Hi"
    message.set_content("Hello.")
    return message


@pytest.mark.parametrize(
    ("user", "sender_code", "data_code", "raised"),
    [
        (("desk", "wrong"), None, None, SmtpAccountRefusedError),  # 535 to AUTH
        (None, 550, None, SmtpAccountRefusedError),  # Our envelope sender refused
        (None, 451, None, TransientSendError),
        (None, 552, None, PermanentSendError),  # RFC 1870: too big for this server
        (None, None, 554, PermanentSendError),  # The mail itself refused
        (("desk", "right"), None, None, None),
    ],
)
def test_only_a_refusal_of_the_recipient_or_the_data_fails_a_mail_for_good(
    picky: PickySink,
    user: tuple[str, str] | None,
    sender_code: int | None,
    data_code: int | None,
    raised: type[Exception] | None,
) -> None:
    picky.sender_code, picky.data_code = sender_code, data_code
    login, password = user or (None, None)
    server = SmtpServer(picky.host, picky.port, "none", login, password)
    if raised is None:
        smtp.send(server, a_mail(), SUPPORT, ["ada@acme.example"])
        assert len(picky.to("ada@acme.example")) == 1
        return
    with pytest.raises(raised) as error:
        smtp.send(server, a_mail(), SUPPORT, ["ada@acme.example"])
    assert type(error.value) is raised
    assert picky.all() == []


def test_a_refused_login_is_logged_and_retried_until_the_mail_is_given_up(
    settings: Settings, picky: PickySink, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"smtp://desk:wrong@{picky.host}:{picky.port}"  # A password, on this machine.
    configured = settings.model_copy(update={"smtp_url": url, "forward_unread_after": 0})
    bootstrap.migrate(configured)
    c = bootstrap.build(configured)  # No workers: the test drives the service.
    try:
        number = c.mail.receive(mail(), None, "test", CTX).number
        due = c.app.recorder.select_notifications(start=1, limit=1000)
        ack_id = next(n.originator_id for n in due if n.topic == "ledgerdesk:Acknowledgement.Due")
        c.mail_out.acknowledge(ack_id)
        outbound = outbound_id_for(f"ack:{ack_id}")
        # When the server refuses our login
        refused = pytest.raises(SmtpAccountRefusedError, match="refused our login as desk: 535")
        with caplog.at_level(logging.WARNING, logger="ledgerdesk.mail"), refused:
            c.mail_out.send(outbound)
        # Then it is logged for an admin, and the mail waits: it is no fault of the recipient
        assert "check the SMTP settings" in caplog.text
        assert c.app.repository.get(outbound).state == "queued"
        # Until the same window as any other retry has passed
        later = datetime.now(UTC) + GIVE_UP_AFTER + timedelta(minutes=1)
        c.mail_out.clock = lambda: later
        assert c.mail_out.send(outbound) == "failed"
        mail_events = list(c.app.events.get(item_id(number or 0)))
        (not_sent,) = [e for e in mail_events if isinstance(e, MailNotSent)]
        assert "gave up" in not_sent.error
        assert "535" in not_sent.error
    finally:
        c.close()


def test_an_smtp_url_that_would_send_a_password_in_plain_text_stops_the_start(
    tmp_path: Path,
) -> None:
    # On SQLite only: a start that stops half-way leaves a PostgreSQL pool to the collector.
    settings = make_settings("sqlite", tmp_path)
    bootstrap.migrate(settings)
    plain = settings.model_copy(update={"smtp_url": "smtp://desk:s3cret@smtp.example.com:25"})
    with pytest.raises(InvalidValueError, match=r"^LEDGERDESK_SMTP_URL: .* in plain text"):
        bootstrap.build(plain).close()


def test_mail_from_the_support_address_shows_the_support_name(
    desk: bootstrap.Container, sink: Sink
) -> None:
    # Given admins who named the support address (their SMTP server is the install's URL)
    desk.mail_out.settings.change(
        {"company_name": "Acme", "support_name": "Acme Support", "smtp": None}, CTX
    )
    # When a customer's request is acknowledged
    desk.mail.receive(mail(message_id="<named@acme.example>"), None, "test", CTX)
    wait_until(lambda: len(sink.to("ada@acme.example")) == 1, what="the acknowledgement")
    # Then it comes from the support name, not the company's
    assert sink.to("ada@acme.example")[0].message["From"].startswith("Acme Support <")
    bad = {"company_name": "Acme", "support_name": 'Evil" <x@y>', "smtp": None}
    with pytest.raises(InvalidValueError):
        desk.mail_out.settings.change(bad, CTX)
