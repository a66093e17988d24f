"""A scheduled report by mail: one mail per run and recipient, queued once (its key names
the schedule, the period and the address, so its Message-ID is the same however often the
run is decided), with the report's file attached (kept in the blob store by its SHA-256)."""

from __future__ import annotations

from typing import Any

from domain.mail.addresses import our_message_id
from domain.mail.outgoing import MailKind, OutboundMail, Recipient
from domain.values import Actor

REPORTER = Actor("system", "reports")


def report_key(schedule_id: object, period: str, address: str) -> str:
    return f"report:{schedule_id}:{period}:{address.lower()}"


def report_mail(
    *,
    schedule_id: object,
    period: str,
    address: str,
    about: dict[str, Any],
    secret: bytes,
    domain: str,
) -> OutboundMail:
    """The run's mail to `address`, queued (not yet saved). `about` holds the `report`
    (its name, title, days and file) the template says, and the `attachment` it carries."""
    key = report_key(schedule_id, period, address)
    return OutboundMail.queue(
        key=key,
        kind=MailKind.REPORT,
        number=0,
        to=Recipient(address, "", f"report:{address}"),
        context={"schedule_id": str(schedule_id), "period": period, **about},
        mail_message_id=our_message_id(secret, 0, key, domain),
        actor=REPORTER,
        correlation_id=f"mail:{key}"[:200],
    )
