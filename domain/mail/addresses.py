"""The addresses we answer on: the install's and admins' mailboxes, plus-addressing by project
slug, and the signed reply address (`support+r<number>.<signature>@...`) set as `Reply-To` on
every mail we send, so that a reply finds its item whatever its headers say."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_SIGNATURE_HEX = 12
_REPLY = re.compile(rf"^r(\d{{1,16}})\.([0-9a-f]{{{_SIGNATURE_HEX}}})$")


@dataclass(frozen=True)
class Address:
    """An address split the way routing needs it: local part, `+detail`, domain (all lower)."""

    local: str
    detail: str | None
    domain: str

    @classmethod
    def parse(cls, address: str) -> Address | None:
        local, at, domain = address.strip().strip("<>").lower().rpartition("@")
        if not at or not local or not domain:
            return None
        base, plus, detail = local.partition("+")
        return cls(base, detail if plus else None, domain)

    @property
    def base(self) -> str:
        """The address without its `+detail`."""
        return f"{self.local}@{self.domain}"


def signature(secret: bytes, number: int) -> str:
    """The signature of item `number`'s reply address."""
    digest = hmac.new(secret, f"reply:{number}".encode(), hashlib.sha256).hexdigest()
    return digest[:_SIGNATURE_HEX]


def reply_address(secret: bytes, mailbox: str, number: int) -> str:
    """The signed reply address of item `number` on `mailbox` (`support+r42.1a2b...@host`)."""
    parsed = Address.parse(mailbox)
    if parsed is None:
        raise ValueError(f"not an address: {mailbox!r}")
    return f"{parsed.local}+r{number}.{signature(secret, number)}@{parsed.domain}"


def signed_number(secret: bytes, address: Address) -> int | None:
    """The item number a reply address names, if its signature is ours; None otherwise."""
    if address.detail is None:
        return None
    match = _REPLY.match(address.detail)
    if match is None:
        return None
    number = int(match.group(1))
    if not hmac.compare_digest(match.group(2), signature(secret, number)):
        return None
    return number


_TAG = re.compile(r"\[#(\d{1,16})\]")


def tagged_numbers(subject: str) -> list[int]:
    """The item numbers tagged in a subject (`[#42]`), in order."""
    return [int(n) for n in _TAG.findall(subject)]


_OURS = re.compile(rf"^ld\.(\d{{1,16}})\.([0-9a-f]{{16}})\.([0-9a-f]{{{_SIGNATURE_HEX}}})@")


def our_message_id(secret: bytes, number: int, key: str, domain: str) -> str:
    """The Message-ID of a mail we send about item `number`, derived from `key` (the outbox
    message it sends), so a resend has the same id; signed, so we know our own mail again."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    sig = hmac.new(secret, f"mid:{number}.{digest}".encode(), hashlib.sha256).hexdigest()
    return f"ld.{number}.{digest}.{sig[:_SIGNATURE_HEX]}@{domain}"


def our_number(secret: bytes, message_id: str) -> int | None:
    """The item number of a Message-ID we made (see `our_message_id`); None if not ours."""
    match = _OURS.match(message_id.strip().strip("<>").lower())
    if match is None:
        return None
    number, digest, sig = int(match.group(1)), match.group(2), match.group(3)
    mac = hmac.new(secret, f"mid:{number}.{digest}".encode(), hashlib.sha256).hexdigest()
    return number if hmac.compare_digest(sig, mac[:_SIGNATURE_HEX]) else None
