"""A mailbox's IMAP account: the server, user and folder its mail is fetched from, where
processed mail is moved, and how often to look. The password is never part of it: events
carry it sealed, beside the account (`password_token`)."""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidValueError

SECURITY = ("tls", "starttls", "none")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}
DEFAULT_FOLDER = "INBOX"
DEFAULT_PROCESSED_FOLDER = "ledgerdesk-processed"
DEFAULT_POLL_SECONDS = 60
# Often enough for a help desk (IDLE, where the server offers it, brings mail at once),
# rarely enough not to hammer a provider; tests drive the poller's clock instead.
MIN_POLL_SECONDS, MAX_POLL_SECONDS = 10, 86_400
MAX_HOST, MAX_USER, MAX_FOLDER = 253, 320, 200


class ImapPasswordRequiredError(InvalidValueError):
    """Raised when an IMAP account is set up without a password, or pointed at another host
    without one: a stored password is only ever sent to the host it was given for."""

    def __init__(self, why: str) -> None:
        super().__init__("imap.password", why)


def checked_imap(imap: dict[str, Any]) -> dict[str, Any]:
    """An IMAP account as events carry it (no password): every field present and valid."""
    security = imap.get("security") or "tls"
    if security not in SECURITY:
        raise InvalidValueError("imap.security", f"one of {', '.join(SECURITY)}")
    port = _given(imap, "port", DEFAULT_PORTS[security])
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise InvalidValueError("imap.port", "a port number from 1 to 65535")
    poll = _given(imap, "poll_seconds", DEFAULT_POLL_SECONDS)
    if not isinstance(poll, int) or isinstance(poll, bool):
        poll = 0
    if not MIN_POLL_SECONDS <= poll <= MAX_POLL_SECONDS:
        raise InvalidValueError(
            "imap.poll_seconds", f"seconds from {MIN_POLL_SECONDS} to {MAX_POLL_SECONDS}"
        )
    account: dict[str, Any] = {
        "host": _text(imap, "host", "", MAX_HOST, spaces=False),
        "port": port,
        "security": security,
        "user": _text(imap, "user", "", MAX_USER, spaces=True),
        "folder": _text(imap, "folder", DEFAULT_FOLDER, MAX_FOLDER, spaces=True),
        "processed_folder": _text(
            imap, "processed_folder", DEFAULT_PROCESSED_FOLDER, MAX_FOLDER, spaces=True
        ),
        "poll_seconds": poll,
    }
    if _folder_key(account["folder"]) == _folder_key(account["processed_folder"]):
        # Mail moved where it is fetched from would be fetched again forever.
        raise InvalidValueError("imap.processed_folder", "must differ from imap.folder")
    return account


def _given(imap: dict[str, Any], name: str, default: Any) -> Any:
    value = imap.get(name)
    return default if value is None else value


def _text(imap: dict[str, Any], name: str, default: str, limit: int, *, spaces: bool) -> str:
    value = imap.get(name)
    text = default if value is None else str(value).strip()
    bad = any(ord(c) < 32 or ord(c) == 127 or (not spaces and c.isspace()) for c in text)
    if not text or len(text) > limit or bad:
        raise InvalidValueError(f"imap.{name}", f"1 to {limit} characters, no control characters")
    return text


def _folder_key(folder: str) -> str:
    # INBOX is the one case-insensitive folder name (RFC 3501 5.1).
    return "INBOX" if folder.upper() == "INBOX" else folder
