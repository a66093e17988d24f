"""Which recipients a delivery status notification lists, and whether it says delivery failed
for good: RFC 3464 reports read per recipient block, classic bounces always permanent."""

from __future__ import annotations

import hashlib

from commands.mail.parsing import parse
from domain.mail.message import DeliveryReport

ORIGINAL = "<ld.7.abc.def@ledgerdesk.local>"


def store(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)


def report(*recipients: str) -> DeliveryReport:
    """The report parsed from an RFC 3464 message with these per-recipient blocks."""
    blocks = "\n\n".join(r.strip() for r in recipients)
    raw = f"""From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: support@ledgerdesk.local
Subject: Delivery Status Notification
Message-ID: <report-1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

A report.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

{blocks}

--b
Content-Type: text/rfc822-headers

From: support@ledgerdesk.local
Message-ID: {ORIGINAL}

--b--
"""
    found = parse(raw.replace("\n", "\r\n").encode(), store).report
    assert found is not None
    return found


def block(address: str, action: str | None, status: str, diagnostic: str = "") -> str:
    lines = [f"Final-Recipient: rfc822; {address}"]
    lines += [f"Action: {action}"] if action is not None else []
    lines += [f"Status: {status}"]
    lines += [f"Diagnostic-Code: smtp; {diagnostic}"] if diagnostic else []
    return "\n".join(lines)


def test_a_failed_recipient_makes_the_report_permanent_and_the_delayed_are_not_listed() -> None:
    # Given a report that delivery to one recipient is delayed and to another failed
    found = report(
        block("slow@example.org", "delayed", "4.4.1", "421 try again later"),
        block("gone@example.org", "failed", "5.1.1", "550 no such user"),
    )
    # Then only the failed one is listed, with its status and diagnostic
    assert found.failed_recipients == ("gone@example.org",)
    assert (found.status, found.diagnostic) == ("5.1.1", "smtp; 550 no such user")
    assert found.permanent is True
    assert found.original_message_id == "ld.7.abc.def@ledgerdesk.local"


def test_a_report_of_delays_only_lists_the_delayed_with_their_status_and_is_not_permanent() -> None:
    found = report(
        block("slow@example.org", "delayed", "4.4.7"),
        block("fine@example.org", "delivered", "2.0.0"),
        block("slower@example.org", "delayed", "4.4.7"),
    )
    assert found.failed_recipients == ("slow@example.org", "slower@example.org")
    assert (found.status, found.permanent) == ("4.4.7", False)


def test_delivered_relayed_and_expanded_recipients_are_never_listed() -> None:
    found = report(
        block("a@example.org", "delivered", "2.0.0"),
        block("b@example.org", "relayed", "2.0.0"),
        block("c@example.org", "expanded", "2.0.0"),
        block("d@example.org", "failed", "5.2.2"),
    )
    assert found.failed_recipients == ("d@example.org",)
    assert (found.status, found.permanent) == ("5.2.2", True)


def test_a_report_of_success_only_lists_nobody_and_is_not_permanent() -> None:
    found = report(block("a@example.org", "delivered", "2.0.0"))
    assert found.failed_recipients == ()
    assert (found.status, found.permanent) == ("2.0.0", False)


def test_without_an_action_the_status_class_decides() -> None:
    # A 5.x.x status is a failure; 4.x.x a delay; 2.x.x news of success
    assert report(block("a@example.org", None, "5.1.1")).failed_recipients == ("a@example.org",)
    assert report(block("a@example.org", None, "5.1.1")).permanent is True
    delayed = report(block("b@example.org", None, "4.2.2"), block("c@example.org", None, "2.0.0"))
    assert (delayed.failed_recipients, delayed.status) == (("b@example.org",), "4.2.2")
    assert delayed.permanent is False
    assert report(block("c@example.org", None, "2.0.0")).failed_recipients == ()


def test_a_classic_bounce_is_permanent() -> None:
    raw = b"""From: MAILER-DAEMON@mx.example.org
To: support@ledgerdesk.local
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.example.org>

<gone@example.org>: host mx.example.org said: 550 5.1.1 unknown user

--- Below this line is a copy of the message.

Message-ID: <ld.7.abc.def@ledgerdesk.local>
"""
    found = parse(raw, store).report
    assert found is not None
    assert found.failed_recipients == ("gone@example.org",)
    assert (found.status, found.permanent) == ("5.0.0", True)
