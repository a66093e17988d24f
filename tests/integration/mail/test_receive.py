"""Receiving mail into items, on SQLite and PostgreSQL: new items, replies threaded by our
reply address, by references and by subject tag (participants only), duplicates, reused
Message-IDs, loops, bounces and unreadable mail."""

from __future__ import annotations

import contextlib
import hashlib
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

from commands.mail.mailboxes import AddMailbox
from commands.mail.parsing import UnparseableMailError, parse
from commands.mail.receive import Receipt
from commands.models import Context
from domain.item_numbers import item_id
from domain.mail.addresses import our_message_id, reply_address
from domain.mail.on_items import MailBounced, MailReceived
from domain.project import INBOX_ID
from domain.values import Actor
from ledgerdesk import bootstrap

CTX = Context(actor=Actor.system("mail"), correlation_id="test")


def mail(
    *,
    sender: str = "ada@acme.example",
    subject: str = "Printer on fire",
    body: str = "It is on fire.",
    message_id: str | None = None,
    to: str = "support@ledgerdesk.local",
    extra: str = "",
) -> bytes:
    mid = message_id or f"<{uuid.uuid4()}@acme.example>"
    return (
        f"From: Ada <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n"
        f"{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def deliver(container: bootstrap.Container, raw: bytes, to: str | None = None) -> Receipt:
    return container.mail.receive(raw, to, "test", CTX)


def events_of(container: bootstrap.Container, number: int) -> list[object]:
    return list(container.app.events.get(item_id(number)))


def test_a_new_mail_opens_a_ticket_for_its_sender(container: bootstrap.Container) -> None:
    # When a customer writes to the support address
    receipt = deliver(container, mail())
    # Then a ticket is opened in their name, by email, with the mail recorded on it
    assert (receipt.outcome, receipt.auto_submitted) == ("created", False)
    assert receipt.number is not None
    ticket = container.app.repository.get(item_id(receipt.number))
    assert ticket.title == "Printer on fire"
    assert ticket.description == "It is on fire."
    opened = events_of(container, receipt.number)[0]
    assert opened.requester_email == "ada@acme.example"
    assert opened.channel == "email"
    received = [e for e in events_of(container, receipt.number) if isinstance(e, MailReceived)]
    assert received[0].acknowledge is True


def test_the_same_message_twice_is_one_item_and_a_reused_message_id_is_held(
    container: bootstrap.Container,
) -> None:
    first = mail(message_id="<same@acme.example>")
    created = deliver(container, first)
    # When the same message arrives again (another transport, extra relay headers)
    again = deliver(container, b"Received: from relay\r\n" + first)
    # Then it is recorded once
    assert (again.outcome, again.number) == ("duplicate", created.number)
    # And a different message with that Message-ID is quarantined, never dropped
    other = deliver(container, mail(message_id="<same@acme.example>", body="Different"))
    assert (other.outcome, other.reason) == ("quarantined", "message-id-reused")


def test_eight_concurrent_deliveries_of_fifty_messages_make_fifty_items(
    container: bootstrap.Container,
) -> None:
    messages = [mail(subject=f"Message {n}") for n in range(50)]
    with ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(lambda raw: deliver(container, raw), messages * 8))
    created = {r.number for r in receipts if r.outcome == "created"}
    assert len(created) == 50
    assert {r.outcome for r in receipts} == {"created", "duplicate"}


def test_a_reply_to_our_reply_address_joins_the_item(container: bootstrap.Container) -> None:
    number = deliver(container, mail()).number
    assert number is not None
    address = reply_address(container.mail.secret, "support@ledgerdesk.local", number)
    # When the requester answers to the signed reply address, with a new subject
    receipt = deliver(container, mail(subject="other words", body="Still burning"), address)
    # Then it joins the item as a customer reply
    assert (receipt.outcome, receipt.number) == ("appended", number)
    posted = events_of(container, number)
    reply = next(e for e in posted if type(e).__name__ == "CustomerReplyPosted")
    assert reply.body == "Still burning"


def test_a_forged_reply_address_does_not_join(container: bootstrap.Container) -> None:
    number = deliver(container, mail()).number
    forged = f"support+r{number}.000000000000@ledgerdesk.local"
    assert deliver(container, mail(subject="hi"), forged).outcome == "created"


def test_references_to_our_mail_join_and_a_stranger_is_kept_internal(
    container: bootstrap.Container,
) -> None:
    number = deliver(container, mail()).number
    assert number is not None
    ours = our_message_id(container.mail.secret, number, "some-outbox-message", "ledgerdesk.local")
    # When someone who does not take part answers a mail we sent about the item
    extra = f"In-Reply-To: <{ours}>\r\n"
    receipt = deliver(container, mail(sender="eve@elsewhere.example", extra=extra))
    # Then it reaches the item as an internal message, marked
    assert (receipt.outcome, receipt.number) == ("appended", number)
    posted = events_of(container, number)
    assert not [e for e in posted if type(e).__name__ == "CustomerReplyPosted"]
    internal = next(e for e in posted if type(e).__name__ == "InternalMessagePosted")
    assert "non-participant" in internal.body
    received = [e for e in posted if isinstance(e, MailReceived)]
    assert received[-1].non_participant is True
    assert received[-1].threaded_by == "references"


def test_a_subject_tag_joins_only_for_participants(container: bootstrap.Container) -> None:
    number = deliver(container, mail()).number
    tagged = f"Re: [#{number}] Printer on fire"
    # A stranger's mail with the tag opens its own item
    assert deliver(container, mail(sender="eve@elsewhere.example", subject=tagged)).outcome == (
        "created"
    )
    # The requester's joins
    joined = deliver(container, mail(subject=tagged))
    assert (joined.outcome, joined.number) == ("appended", number)
    # And subject text alone (no tag) never joins
    assert deliver(container, mail(subject="Re: Printer on fire")).outcome == "created"


def test_automatic_mail_opens_an_item_but_is_not_acknowledged(
    container: bootstrap.Container,
) -> None:
    receipt = deliver(container, mail(extra="Auto-Submitted: auto-generated\r\n"))
    assert (receipt.outcome, receipt.auto_submitted) == ("created", True)
    assert receipt.number is not None
    received = [e for e in events_of(container, receipt.number) if isinstance(e, MailReceived)]
    assert received[0].automatic == "Auto-Submitted: auto-generated"
    assert received[0].acknowledge is False


def test_one_acknowledgement_per_sender_per_day(container: bootstrap.Container) -> None:
    acks = []
    for n in range(3):
        number = deliver(container, mail(subject=f"Question {n}")).number
        assert number is not None
        received = [e for e in events_of(container, number) if isinstance(e, MailReceived)]
        acks.append(received[0].acknowledge)
    assert acks == [True, False, False]


def test_our_own_mail_coming_back_is_a_loop(container: bootstrap.Container) -> None:
    own_sender = deliver(container, mail(sender="support@ledgerdesk.local"))
    assert (own_sender.outcome, own_sender.reason) == ("quarantined", "loop")
    ours = our_message_id(container.mail.secret, 1, "x", "ledgerdesk.local")
    own_id = deliver(container, mail(message_id=f"<{ours}>"))
    assert (own_id.outcome, own_id.reason) == ("quarantined", "loop")


def test_a_bounce_of_our_mail_is_recorded_on_its_item(container: bootstrap.Container) -> None:
    number = deliver(container, mail()).number
    assert number is not None
    ours = our_message_id(container.mail.secret, number, "ack", "ledgerdesk.local")
    report = (
        "From: MAILER-DAEMON@mx.acme.example\r\nTo: support@ledgerdesk.local\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx>\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
        "--R\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        "--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; ada@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{ours}>\r\n\r\n--R--\r\n"
    ).encode()
    receipt = deliver(container, report)
    assert (receipt.outcome, receipt.number) == ("bounce", number)
    bounced = [e for e in events_of(container, number) if isinstance(e, MailBounced)]
    assert bounced[0].recipients == ["ada@acme.example"]
    # A bounce of something that is not ours opens nothing: it is held
    stray = report.replace(ours.encode(), b"someone-else@example.org").replace(b"dsn-1", b"dsn-2")
    assert deliver(container, stray).outcome == "quarantined"


def test_unreadable_mail_is_quarantined_with_nothing_else_written(
    container: bootstrap.Container,
) -> None:
    head = container.app.head()
    for raw in (b"", b"\x00\xff\x10binary", b"no headers here at all"):
        receipt = deliver(container, raw)
        assert (receipt.outcome, receipt.reason) == ("quarantined", "unparseable")
    # Each is one quarantine event (the empty and the binary and the text)
    assert container.app.head() - head == 3


def test_a_report_whose_original_message_id_breaks_the_parser_still_files(
    container: bootstrap.Container,
) -> None:
    # A delivery report whose attached message has a truncated Message-ID (the standard
    # library's header parser fails on it): the report is read from the raw header
    report = (
        b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\nMessage-ID: <r@mx>\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\n\r\n"
        b"--R\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <x@\n--R--\r\n"
    )
    receipt = deliver(container, report)
    assert (receipt.outcome, receipt.reason) == ("quarantined", "unmatched-bounce")


def test_mutated_messages_never_fail_to_file() -> None:
    # Bytes flipped, inserted and cut from real-shaped messages: each is parsed or found
    # unparseable (and so quarantined), never an error a transport would retry for ever
    rng = random.Random(20261204)
    samples = [
        mail(extra="Content-Type: multipart/mixed; boundary=B\r\n")
        + b"--B\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xc1\r\n--B\r\n"
        b"Content-Type: message/rfc822\r\n\r\nFrom: c@d.example\r\n\r\nx\r\n--B--\r\n",
        b"From: MAILER-DAEMON@x.example\r\nContent-Type: multipart/report;"
        b" report-type=delivery-status; boundary=R\r\n\r\n--R\r\nContent-Type:"
        b" message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@b\r\nAction: failed\r\n"
        b"\r\n--R\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <x@y>\r\n\r\nhi\r\n--R--\r\n",
    ]
    for _ in range(3000):
        raw = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(raw))
            choice = rng.random()
            if choice < 0.4:
                raw[at] = rng.randrange(256)
            elif choice < 0.7:
                raw[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 5)))
            else:
                del raw[at : at + rng.randint(1, 10)]
        with contextlib.suppress(UnparseableMailError):
            parse(bytes(raw), lambda data: (hashlib.sha256(data).hexdigest(), len(data)))


def test_mail_from_one_of_our_mailboxes_is_a_loop(container: bootstrap.Container) -> None:
    # Given a mailbox besides the install's own address
    admin = Context(actor=Actor.system("test"), correlation_id="t")
    container.mailboxes.add(AddMailbox(address="billing@example.com", project_id=INBOX_ID), admin)
    # When mail from it comes back in
    receipt = deliver(container, mail(sender="Billing@Example.com"))
    # Then it is held as a loop, never opened as a ticket
    assert (receipt.outcome, receipt.reason) == ("quarantined", "loop")


def test_a_sender_address_the_model_cannot_keep_is_held_not_an_error(
    container: bootstrap.Container,
) -> None:
    receipt = deliver(container, mail(sender="root@localhost"))
    assert (receipt.outcome, receipt.reason) == ("quarantined", "rejected")


def store_in_memory(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)


def test_mail_with_an_mbox_envelope_line_first_is_read(container: bootstrap.Container) -> None:
    # Exim's pipe transport (and Postfix's with the F flag) writes "From sender date" first
    receipt = deliver(container, b"From ada@acme.example Thu Mar  6 13:00:00 2025\n" + mail())
    assert receipt.outcome == "created"


def test_the_text_of_a_crlf_message_keeps_no_carriage_return() -> None:
    read = parse(mail(body="Line one\r\nLine two"), store_in_memory)
    assert read.text == "Line one\nLine two"


def test_a_forward_keeps_what_it_forwards_in_its_reply_text() -> None:
    body = (
        "Can you help?\r\n\r\n---------- Forwarded message ---------\r\n"
        "From: Carol <carol@partner.example>\r\nSubject: Keys\r\nTo: Dan <dan@acme.example>"
        "\r\n\r\nThe staging keys expired.\r\n"
    )
    # A forward's text is its content: nothing of it is history to strip
    assert (
        "staging keys expired" in parse(mail(subject="Fwd: Keys", body=body), store_in_memory).reply
    )
    # A reply's quoted history still goes
    reply = (
        "Thanks!\r\n\r\nOn Mon, 3 Mar 2025 at 10:00, Carol <c@partner.example> wrote:\r\n> Hi\r\n"
    )
    assert parse(mail(subject="Re: Keys", body=reply), store_in_memory).reply == "Thanks!"


def test_a_classic_bounce_names_only_the_failed_addresses_of_its_notice(
    container: bootstrap.Container,
) -> None:
    number = deliver(container, mail()).number
    assert number is not None
    ours = our_message_id(container.mail.secret, number, "ack", "ledgerdesk.local")
    # A qmail notice, then the copy of our mail, whose headers name our own address
    report = (
        "From: MAILER-DAEMON@mx.acme.example\r\nTo: support@ledgerdesk.local\r\n"
        "Subject: failure notice\r\nMessage-ID: <qmail-1@mx.acme.example>\r\n\r\n"
        "I wasn't able to deliver your message to the following addresses.\r\n\r\n"
        "<ada@acme.example>:\r\nMailbox full. (#5.2.2)\r\n\r\n"
        "--- Below this line is a copy of the message.\r\n\r\n"
        "Return-Path: <support@ledgerdesk.local>\r\nFrom: Support <support@ledgerdesk.local>\r\n"
        f"To: <ada@acme.example>\r\nMessage-ID: <{ours}>\r\n\r\nHello\r\n"
    ).encode()
    assert deliver(container, report).outcome == "bounce"
    bounced = [e for e in events_of(container, number) if isinstance(e, MailBounced)]
    assert bounced[0].recipients == ["ada@acme.example"]


def test_the_requester_named_by_reply_to_gets_the_reply_to_name(
    container: bootstrap.Container,
) -> None:
    # A web form's mail comes from the form; the person is its Reply-To
    extra = "Reply-To: Beatriz Alves <beatriz@shop.example>\r\n"
    receipt = deliver(container, mail(sender="no-reply@form.example", extra=extra))
    assert receipt.number is not None
    received = [e for e in events_of(container, receipt.number) if isinstance(e, MailReceived)]
    assert (received[0].sender, received[0].sender_name) == (
        "beatriz@shop.example",
        "Beatriz Alves",
    )


def test_a_sender_whose_address_starts_with_a_plus_opens_a_ticket(
    container: bootstrap.Container,
) -> None:
    # An MMS gateway's address: nothing before the "+", so no mailbox of ours can be it
    receipt = deliver(container, mail(sender="+15550100123@mms.carrier.example"))
    assert receipt.outcome == "created"
