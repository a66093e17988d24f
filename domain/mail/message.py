"""A received message as the model reads it: a plain value, made by the parser from the raw
bytes (which stay in the blob store)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class MailPart:
    """An attachment, inline image or forwarded message, already in the blob store."""

    name: str
    media_type: str
    sha256: str
    size: int


@dataclass(frozen=True)
class DeliveryReport:
    """What a delivery status notification says: which of our messages bounced, for whom.

    `permanent` when delivery failed for good to at least one recipient, whom
    `failed_recipients` lists; otherwise they are the recipients whose delivery is only
    delayed (and `status` is theirs, a 4.x.x one)."""

    original_message_id: str | None
    failed_recipients: tuple[str, ...]
    status: str
    diagnostic: str
    permanent: bool


@dataclass(frozen=True)
class InboundMail:
    """The parts of a message that decisions and items need."""

    message_id: str
    sender: str
    sender_name: str  # The name that goes with `answer_to`.
    reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    text: str
    reply: str
    html: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    headers: Mapping[str, str]
    body_sha256: str
    parts: tuple[MailPart, ...] = ()
    report: DeliveryReport | None = None

    @property
    def answer_to(self) -> str:
        """Who a reply goes to, and who the requester is: `Reply-To` if given."""
        return self.reply_to or self.sender

    @property
    def thread_references(self) -> tuple[str, ...]:
        """Message-IDs this one answers, most telling first: In-Reply-To, then References
        newest first."""
        seen: list[str] = []
        for ref in (*self.in_reply_to, *reversed(self.references)):
            if ref not in seen:
                seen.append(ref)
        return tuple(seen)
