"""Which item a received message belongs to, and as what.

In this order: (a) a signed reply address we issued; (b) `In-Reply-To` / `References`
naming a Message-ID we sent or received; (c) a `[#<number>]` subject tag, only when the sender
already takes part in that item. Subject text alone never joins two threads. A message that
reaches an item by (a) or (b) from someone who does not take part in it is kept as an internal
message, marked as from a non-participant, never as a customer-visible reply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.mail.addresses import Address, signed_number, tagged_numbers


class ThreadedBy(StrEnum):
    REPLY_ADDRESS = "reply-address"
    REFERENCES = "references"
    SUBJECT_TAG = "subject-tag"


@dataclass(frozen=True)
class Thread:
    """The item a message joins, how it was found, and whether its sender takes part."""

    number: int
    by: ThreadedBy
    participant: bool


def find_thread(
    *,
    secret: bytes,
    recipients: Sequence[str],
    references: Sequence[str],
    subject: str,
    known: Mapping[str, int],
    takes_part: Callable[[int], bool],
) -> Thread | None:
    """The thread of a message sent to `recipients`, referring to the Message-IDs
    `references` (In-Reply-To first, then References newest first), with `subject`.

    `known` maps the Message-IDs we sent or received to their item numbers; `takes_part(n)`
    says whether the sender is the requester, a follower or a participant of item n.
    """
    for recipient in recipients:
        address = Address.parse(recipient)
        number = signed_number(secret, address) if address else None
        if number is not None:
            return Thread(number, ThreadedBy.REPLY_ADDRESS, takes_part(number))
    for reference in references:
        number = known.get(reference)
        if number is not None:
            return Thread(number, ThreadedBy.REFERENCES, takes_part(number))
    for number in tagged_numbers(subject):
        if takes_part(number):
            return Thread(number, ThreadedBy.SUBJECT_TAG, True)
    return None
