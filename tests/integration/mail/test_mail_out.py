"""Mail out, end to end on SQLite and PostgreSQL: actors running from the committed log,
sending over SMTP to a real capturing server (aiosmtpd). Acknowledgements, messages to
those who have not read them, internal messages to staff only, assignment and mention
notices, the threading headers that bring a reply back, and failures for good."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from commands.mail.outgoing.smtp import TransientSendError
from commands.models import AddFollower, AssignUser, PostMessage
from domain.mail.addresses import our_number
from domain.mail.outgoing import OutboundMail, outbound_id_for
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.base import current_tables
from projections.ticket_detail import get_ticket
from tests.conftest import wait_until
from tests.factories import SYSTEM, register
from tests.integration.mail.test_receive import CTX, mail
from tests.smtp_sink import Received, Sink, running_sink

SUPPORT = "support@ledgerdesk.local"


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


def running(settings: Settings, sink: Sink, **changes: object) -> bootstrap.Container:
    configured = settings.model_copy(
        update={"smtp_url": sink.url, "forward_unread_after": 0, **changes}
    )
    bootstrap.migrate(configured)
    container = bootstrap.build(configured)
    container.follow()
    container.work()
    return container


@pytest.fixture
def desk(settings: Settings, sink: Sink) -> Iterator[bootstrap.Container]:
    container = running(settings, sink)
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
    assert "<first@acme.example>" in reply["References"]
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
    desk = running(settings, sink, forward_unread_after=2.0)
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


def test_an_auto_responder_that_answers_everything_gets_one_acknowledgement_a_day(
    desk: bootstrap.Container, sink: Sink
) -> None:
    robot = "robot@vendor.example"
    desk.mail.receive(mail(sender=robot, subject="Order 1"), None, "test", CTX)
    answered = 0
    for round_ in range(6):
        wait_until(lambda: len(sink.all()) > 0, what="our first mail")
        time.sleep(0.5)  # Let whatever our side would send, go.
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
