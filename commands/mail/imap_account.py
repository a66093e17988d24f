"""An IMAP account as ledgerdesk logs in to it: over TLS, STARTTLS or (a trusted network
only) plain, with bounded waits. Shared by the poller (`workers/mail/imap.py`) and the
admins' "test connection" (`MailboxService.test_connection`)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from imapclient import IMAPClient, SocketTimeout  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError, LoginError  # type: ignore[import-untyped]

CONNECT_SECONDS, READ_SECONDS = 15.0, 60.0


def connect(
    imap: dict[str, Any],
    password: str,
    ssl_context: Callable[[], ssl.SSLContext] = ssl.create_default_context,
) -> Any:
    """A logged-in client of the account's server (TLS, STARTTLS or plain)."""
    security = imap["security"]
    context = ssl_context() if security != "none" else None
    client = IMAPClient(
        imap["host"],
        imap["port"],
        ssl=security == "tls",
        ssl_context=context,
        timeout=SocketTimeout(connect=CONNECT_SECONDS, read=READ_SECONDS),
    )
    try:
        if security == "starttls":
            client.starttls(context)
        client.login(imap["user"], password)
    except BaseException:
        client.shutdown()
        raise
    return client


def describe(error: BaseException) -> str:
    """An IMAP failure in a sentence (a refused login says so)."""
    text = str(error) or type(error).__name__
    if text[:2] in ("b'", 'b"') and text[-1:] == text[1]:  # The server's words, as bytes.
        text = text[2:-1]
    return f"login refused: {text}" if isinstance(error, LoginError) else text


def check(
    imap: dict[str, Any],
    password: str,
    ssl_context: Callable[[], ssl.SSLContext] = ssl.create_default_context,
) -> dict[str, Any]:
    """Log in and open the account's folder, as a poll would (nothing is taken or moved):
    `{"ok", "server", "detail"}`."""
    server = f"{imap['host']}:{imap['port']} ({imap['security']})"
    try:
        with connect(imap, password, ssl_context) as client:
            selected = client.select_folder(imap["folder"], readonly=True)
            waiting = int(selected.get(b"EXISTS", 0))
    except (IMAPClientError, OSError, ssl.SSLError) as error:
        return {"ok": False, "server": server, "detail": describe(error)}
    detail = f"logged in as {imap['user']}; {imap['folder']} holds {waiting} message(s)"
    return {"ok": True, "server": server, "detail": detail}
