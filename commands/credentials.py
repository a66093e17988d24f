"""Credentials we keep for other servers (an IMAP mailbox's password, the SMTP server's, a
webhook's signing secret): encrypted at rest, never shown again.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`), as a `MultiFernet`: the keys of
`LEDGERDESK_ENCRYPTION_KEYS` (the first seals, every one opens), then the key derived by
HKDF from `LEDGERDESK_SECRET_KEY` (which seals when no key is set, and always opens what it
sealed). Events and views hold only the tokens. To rotate: put a new key first, run
`ledgerdesk secrets rotate` (every stored credential sealed again under it: new events),
then drop the old key."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.errors import ConflictError

INFO = b"ledgerdesk stored credentials v1"


class CredentialUnreadableError(ConflictError):
    """A stored credential that none of the install's keys can decrypt (a key was dropped
    before `secrets rotate` sealed it again, or the secret key changed)."""

    def __init__(self) -> None:
        super().__init__("a stored password cannot be read with this install's keys; set it again")


def derived_key(secret: bytes) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret)
    return base64.urlsafe_b64encode(key)


class Credentials:
    """Encrypts and decrypts the passwords and secrets ledgerdesk keeps for other servers."""

    def __init__(self, secret: bytes, keys: Sequence[str] = ()) -> None:
        fernets = [Fernet(key.encode()) for key in keys]
        self._fernet = MultiFernet([*fernets, Fernet(derived_key(secret))])

    def seal(self, plain: str) -> str:
        """The token to store for `plain` (under the first key)."""
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, token: str) -> str:
        """The password a stored token holds; CredentialUnreadableError if no key opens it."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise CredentialUnreadableError from None

    def resealed(self, token: str) -> str:
        """The same secret sealed under the first key (CredentialUnreadableError if no key
        opens it)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise CredentialUnreadableError from None
