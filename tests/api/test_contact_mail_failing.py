"""A permanent bounce marks the contact's address failing, on the contact and in the customer
directory; a delayed report does not; mail from the address shows it works again."""

from __future__ import annotations

from fastapi.testclient import TestClient

from domain.contact import contact_id_for
from domain.item_numbers import item_id
from domain.mail.addresses import our_message_id
from domain.mail.on_items import MailBounced
from ledgerdesk import bootstrap

RFC822 = {"Content-Type": "message/rfc822"}


def _mail(mid: str, sender: str = "ada@acme.example") -> bytes:
    return (
        f"From: Ada <{sender}>\r\nTo: support@ledgerdesk.local\r\nSubject: Printer\r\n"
        f"Message-ID: <{mid}@acme.example>\r\n\r\nIt is on fire.\r\n"
    ).encode()


def _report(ours: str, mid: str, action: str, status: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.acme.example\r\nTo: support@ledgerdesk.local\r\n"
        f"Subject: Delivery Status Notification\r\nMessage-ID: <{mid}@mx>\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
        "--R\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        "--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; ada@acme.example\r\nAction: {action}\r\n"
        f"Status: {status}\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n"
        f"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{ours}>\r\n\r\n--R--\r\n"
    ).encode()


def _inbound(client: TestClient, raw: bytes) -> dict[str, object]:
    answer = client.post("/api/v1/mail/inbound", content=raw, headers=RFC822)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_a_permanent_bounce_marks_the_contact_failing_until_they_write(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = _inbound(client, _mail("m-1"))["number"]
    assert isinstance(number, int)
    contact = f"/api/v1/contacts/{contact_id_for('ada@acme.example')}"
    assert client.get(contact).json()["mail_failing"] is None
    ours = our_message_id(live.mail.secret, number, "ack", "ledgerdesk.local")
    # When a report says the mail was delivered, nothing is recorded on the item
    delivered = _inbound(client, _report(ours, "d-0", "delivered", "2.0.0"))
    assert delivered["outcome"] == "bounce"
    assert not [e for e in live.app.events.get(item_id(number)) if isinstance(e, MailBounced)]
    # When a report says delivery is only delayed, the address is not failing
    delayed = _inbound(client, _report(ours, "d-1", "delayed", "4.4.7"))
    assert delayed["outcome"] == "bounce"
    assert client.get(contact).json()["mail_failing"] is None
    # When it failed for good, it is, with why and since when
    failed = _inbound(client, _report(ours, "d-2", "failed", "5.1.1"))
    assert failed["outcome"] == "bounce"
    shown = client.get(contact).json()["mail_failing"]
    assert shown is not None
    assert (shown["status"], shown["number"]) == ("5.1.1", number)
    assert "no such user" in shown["diagnostic"]
    assert shown["since"].endswith("Z")
    listed = client.get("/api/v1/contacts", params={"q": "ada@"}).json()["items"]
    assert listed[0]["mail_failing"]["status"] == "5.1.1"
    # When mail comes from the address again, it works
    assert _inbound(client, _mail("m-2"))["outcome"] == "created"
    assert client.get(contact).json()["mail_failing"] is None
    assert (
        client.get("/api/v1/contacts", params={"q": "ada@"}).json()["items"][0]["mail_failing"]
        is None
    )
