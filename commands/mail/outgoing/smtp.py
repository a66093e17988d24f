"""The SMTP server mail leaves through: from `LEDGERDESK_SMTP_URL`
(`smtp://user:pass@host:587?starttls=1`, `smtps://host:465`, `smtp://host:25`) or from the
admins' settings, which win. Sending tells a refusal for good (5xx) from one worth retrying
(4xx, a server away, a timeout)."""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from domain.errors import InvalidValueError

TIMEOUT_SECONDS = 30.0
TRUE = ("1", "true", "yes", "on")


class TransientSendError(Exception):
    """Sending failed in a way that may pass (4xx, connection refused, timeout): retry."""


class PermanentSendError(Exception):
    """The server refused the mail for good (5xx): do not retry."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # tls | starttls | none
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    from_address: str | None = None
    from_name: str | None = None

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """`smtp://[user:pass@]host[:port][?starttls=1]` or `smtps://...`."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidValueError(
                "smtp_url", "smtp://[user:pass@]host[:port][?starttls=1] or smtps://..."
            )
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0].lower() in TRUE
        security = "tls" if parts.scheme == "smtps" else "starttls" if starttls else "none"
        default_port = {"tls": 465, "starttls": 587, "none": 25}[security]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def send(server: SmtpServer, message: EmailMessage, sender: str, recipients: list[str]) -> None:
    """Hand `message` to `server` for `recipients`, with `sender` as the envelope sender
    (where bounces go). Raises PermanentSendError or TransientSendError."""
    try:
        with _connect(server) as smtp:
            if server.user:
                smtp.login(server.user, server.password or "")
            refused = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        raise _classified(min(codes) if codes else 550, str(error.recipients)) from None
    except smtplib.SMTPResponseException as error:
        detail = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else str(error.smtp_error)
        )
        raise _classified(error.smtp_code, detail) from None
    except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
        raise TransientSendError(f"{server.describe()}: {error}") from None
    if refused:
        codes = [code for code, _ in refused.values()]
        raise _classified(min(codes), str(refused))


def _classified(code: int, detail: str) -> Exception:
    if 500 <= code < 600:
        return PermanentSendError(f"{code} {detail}".strip())
    return TransientSendError(f"{code} {detail}".strip())


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.security == "tls":
        return smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS, local_hostname=_me())
    if server.security == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp


def _me() -> str:
    name = socket.getfqdn()
    return name if "." in name else "ledgerdesk.localdomain"
