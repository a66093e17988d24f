"""Building a mail that leaves: the threading headers (the item's root Message-ID), what
says it is automatic, and attachments of every media type."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from commands.mail.outgoing.compose import Attached, Envelope, compose
from commands.mail.outgoing.item_mail import MAX_REFERENCES, ItemMail
from commands.mail.outgoing.templates import Rendered
from domain.mail.addresses import our_number
from domain.mail.outgoing import MailKind, thread_root_id

SECRET = b"k" * 32
ROOT = "ld.7.root@ledgerdesk.local"
RENDERED = Rendered("Re: jam [#7]", "<p>Hi</p>", "Hi\n")
ENVELOPE = Envelope(
    from_address="support@ledgerdesk.local",
    from_name="Desk",
    to_address="ada@acme.example",
    to_name="Ada",
    reply_to="support+r7.abc@ledgerdesk.local",
    message_id="ld.7.mail@ledgerdesk.local",
)


def sent(attachments: list[Attached]) -> EmailMessage:
    """The mail as the recipient's server receives it."""
    message = compose(RENDERED, ENVELOPE, datetime.now(UTC), attachments)
    raw = message.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize(
    "media_type", ["message/rfc822", "multipart/mixed", "message/delivery-status", "MESSAGE/news"]
)
def test_a_message_or_multipart_attachment_leaves_as_bytes_of_octet_stream(
    media_type: str,
) -> None:
    data = b"From: bob@example.com\r\nSubject: fwd\r\n\r\nforwarded text\r\n"
    mail = sent([Attached("forwarded.eml", media_type, data)])
    (part,) = list(mail.iter_attachments())
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_filename() == "forwarded.eml"
    assert part.get_content() == data


def test_an_ordinary_attachment_keeps_its_type_and_a_malformed_one_is_octet_stream() -> None:
    mail = sent(
        [
            Attached("a.pdf", "application/pdf", b"%PDF-1.4"),
            Attached("b.bin", "text/plain\r\nBcc: x@y.z", b"x"),
            Attached("c.bin", "nonsense", b"y"),
        ]
    )
    types = [p.get_content_type() for p in mail.iter_attachments()]
    assert types == ["application/pdf", "application/octet-stream", "application/octet-stream"]
    assert mail["Bcc"] is None


def test_mail_about_an_item_opened_by_mail_names_that_mail_then_the_items_root() -> None:
    facts = ItemMail(7, origin=7, received=[f"<m{n}@acme.example>" for n in range(30)])
    references, answered = facts.references(ROOT)
    # The opening mail and the root are kept however long the thread; then the newest
    assert references[:2] == ["<m0@acme.example>", ROOT]
    assert references[2:] == [f"<m{n}@acme.example>" for n in range(12, 30)]
    assert len(references) == MAX_REFERENCES
    assert answered == "<m29@acme.example>"


def test_mail_about_an_item_that_came_by_no_mail_threads_under_its_root() -> None:
    references, answered = ItemMail(7, origin=7).references(ROOT)
    assert (references, answered) == ([ROOT], ROOT)
    mail = compose(
        RENDERED, Envelope(**{**ENVELOPE.__dict__, "references": references}), datetime.now(UTC), []
    )
    assert mail["References"] == f"<{ROOT}>"
    assert mail["In-Reply-To"] == f"<{ROOT}>"


def test_an_items_root_is_ours_and_names_the_item() -> None:
    root = thread_root_id(SECRET, 42, "ledgerdesk.local")
    assert root == thread_root_id(SECRET, 42, "ledgerdesk.local")  # The same every time
    assert our_number(SECRET, f"<{root}>") == 42
    assert our_number(b"another key" * 3, root) is None


def test_an_automatic_message_passed_on_is_auto_generated_an_acknowledgement_auto_replied() -> None:
    assert MailKind.CUSTOMER_MESSAGE.auto_submitted() is None
    assert MailKind.CUSTOMER_MESSAGE.auto_submitted(passes_on_automatic=True) == "auto-generated"
    assert MailKind.STAFF_MESSAGE.auto_submitted(passes_on_automatic=True) == "auto-generated"
    assert MailKind.ACKNOWLEDGEMENT.auto_submitted() == "auto-replied"
    assert MailKind.ACKNOWLEDGEMENT.auto_submitted(passes_on_automatic=True) == "auto-replied"
    assert MailKind.MENTION.auto_submitted() == "auto-generated"
