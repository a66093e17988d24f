"""A mail as it leaves: headers that thread it and say what it is, HTML and text bodies,
attachments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime

from commands.mail.outgoing.templates import Rendered

# The email package adds bytes only as a leaf part: a message/* or multipart/* part is a
# structure it would have to parse (and it writes one it cannot, or breaks), so such an
# attachment travels as the bytes it is, named by its file name.
CONTAINERS = ("message", "multipart")
_TOKEN = re.compile(r"^[a-z0-9!#$%&'*+.^_`{|}~-]+$")  # RFC 2045's token.


@dataclass(frozen=True)
class Attached:
    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class Envelope:
    """Who a mail is from and to, and where it sits in a thread."""

    from_address: str
    from_name: str
    to_address: str
    to_name: str
    reply_to: str
    message_id: str
    references: list[str] = field(default_factory=list)
    in_reply_to: str | None = None
    # RFC 3834: "auto-replied" (an acknowledgement), "auto-generated" (a notice), or None.
    auto_submitted: str | None = None


def _angle(message_id: str) -> str:
    return f"<{message_id.strip().strip('<>')}>"


def _address(address: str, name: str) -> HeaderAddress:
    local, _, domain = address.rpartition("@")
    return HeaderAddress(
        display_name=name.replace("\r", " ").replace("\n", " "), username=local, domain=domain
    )


def compose(
    rendered: Rendered, envelope: Envelope, at: datetime, attachments: list[Attached]
) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = _angle(envelope.message_id)
    message["Date"] = format_datetime(at)
    message["From"] = _address(envelope.from_address, envelope.from_name)
    message["To"] = _address(envelope.to_address, envelope.to_name)
    message["Reply-To"] = envelope.reply_to
    message["Subject"] = rendered.subject
    references = list(dict.fromkeys(_angle(r) for r in envelope.references if r.strip()))
    if references:
        message["References"] = " ".join(references)
        message["In-Reply-To"] = (
            _angle(envelope.in_reply_to) if envelope.in_reply_to else references[-1]
        )
    if envelope.auto_submitted:
        message["Auto-Submitted"] = envelope.auto_submitted
        # Ask Exchange and friends not to answer it with an out-of-office.
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for attached in attachments:
        maintype, subtype = _media_type(attached.media_type)
        message.add_attachment(
            attached.data, maintype=maintype, subtype=subtype, filename=attached.name
        )
    return message


def _media_type(media_type: str) -> tuple[str, str]:
    """The type an attachment is sent as: its own, unless it is a container or no type."""
    maintype, _, subtype = media_type.strip().lower().partition("/")
    if maintype in CONTAINERS or not (_TOKEN.match(maintype) and _TOKEN.match(subtype)):
        return "application", "octet-stream"
    return maintype, subtype
