"""Credentials we keep for other servers (an IMAP mailbox's password, the SMTP server's):
encrypted at rest with a key derived from the install's secret key, never shown again.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived by HKDF from
`LEDGERDESK_SECRET_KEY`, so events and views hold only the token; changing the secret key
makes the stored passwords unreadable (admins set them again)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.errors import ConflictError

INFO = b"ledgerdesk stored credentials v1"


class CredentialUnreadableError(ConflictError):
    """A stored credential that the current secret key cannot decrypt (the key changed)."""

    def __init__(self) -> None:
        super().__init__(
            "a stored password cannot be read with this install's secret key; set it again"
        )


class Credentials:
    """Encrypts and decrypts the passwords ledgerdesk keeps for other servers."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> str:
        """The token to store for `plain`."""
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, token: str) -> str:
        """The password a stored token holds; CredentialUnreadableError if the key changed."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise CredentialUnreadableError from None
