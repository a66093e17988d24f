"""The SMTP server mail leaves through: from `LEDGERDESK_SMTP_URL`
(`smtp://user:pass@host:587?starttls=1`, `smtps://host:465`, `smtp://host:25`) or from the
admins' settings, which win. A password never crosses the network in plain text: a user
without TLS is refused unless the server is on this machine.

Sending tells a refusal of the mail for good (a 5xx to RCPT TO or DATA) from one worth
retrying (a 4xx, a server away, a timeout), and from a refusal of *us* (a 5xx to the
greeting, STARTTLS, AUTH or MAIL FROM): that is our settings' fault, not the recipient's,
so it is retried too, until an admin fixes it or the mail is given up."""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from domain.errors import ConflictError, InvalidValueError

TIMEOUT_SECONDS = 30.0
TRUE = ("1", "true", "yes", "on")
# RFC 1870: a 552 to MAIL FROM ... SIZE= says the message is over the server's limit.
TOO_BIG = 552


class TransientSendError(Exception):
    """Sending failed in a way that may pass (4xx, connection refused, timeout): retry."""


class PermanentSendError(Exception):
    """The server refused the mail for good (a 5xx to RCPT TO or DATA): do not retry."""


class SmtpAccountRefusedError(TransientSendError):
    """The server refused us, whatever the mail: our login, our envelope sender, our
    greeting or STARTTLS (a 5xx there), or we would not send a password in plain text.
    The settings are wrong, not the recipient: retried, so the mail goes once they are
    fixed, and logged for an admin to see."""


class MailNotSetUpError(ConflictError):
    """Raised when there is no SMTP server to try: none set by admins, no LEDGERDESK_SMTP_URL."""

    def __init__(self) -> None:
        super().__init__(
            "no SMTP server is set: PUT /api/v1/mail/settings with smtp, or LEDGERDESK_SMTP_URL"
        )


class PlaintextPasswordError(InvalidValueError):
    """Raised when an SMTP server with a user has no TLS and is not on this machine: the
    password would cross the network in plain text."""

    def __init__(self, field: str, host: str) -> None:
        super().__init__(
            field,
            f"the SMTP password would cross the network to {host} in plain text: use"
            " STARTTLS (smtp://user:pass@host:587?starttls=1, security starttls) or TLS"
            " (smtps://, security tls); a server without either is allowed a user only on"
            " this machine (localhost, 127.0.0.0/8, ::1)",
        )


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

    @property
    def sends_password_in_plain_text(self) -> bool:
        """Whether logging in would put the password on the network unencrypted (on this
        machine it never leaves it)."""
        plain = self.security == "none" and not is_loopback(self.host)
        return plain and bool(self.user or self.password)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """`smtp://[user:pass@]host[:port][?starttls=1]` or `smtps://...`; a user and
        password without TLS only for a server on this machine (PlaintextPasswordError)."""
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname or port == -1:
            raise InvalidValueError(
                "smtp_url", "smtp://[user:pass@]host[:port][?starttls=1] or smtps://..."
            )
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0].lower() in TRUE
        security = "tls" if parts.scheme == "smtps" else "starttls" if starttls else "none"
        default_port = {"tls": 465, "starttls": 587, "none": 25}[security]
        server = cls(
            host=parts.hostname,
            port=port or default_port,
            security=security,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
        if server.sends_password_in_plain_text:
            raise PlaintextPasswordError("smtp_url", server.host)
        return server


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine: localhost, 127.0.0.0/8 or ::1."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def send(server: SmtpServer, message: EmailMessage, sender: str, recipients: list[str]) -> None:
    """Hand `message` to `server` for `recipients`, with `sender` as the envelope sender
    (where bounces go). Raises PermanentSendError, SmtpAccountRefusedError or
    TransientSendError."""
    if server.sends_password_in_plain_text:  # Settings stored before this was refused.
        raise SmtpAccountRefusedError(str(PlaintextPasswordError("smtp", server.host)))
    try:
        with _connect(server) as smtp:
            _log_in(smtp, server)
            refused = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        raise _classified(min(codes) if codes else 550, str(error.recipients)) from None
    except smtplib.SMTPDataError as error:
        raise _classified(error.smtp_code, _text(error.smtp_error)) from None
    except smtplib.SMTPSenderRefused as error:
        detail = f"{error.smtp_code} {_text(error.smtp_error)}"
        if error.smtp_code == TOO_BIG:  # RFC 1870: this mail is too big for the server.
            raise PermanentSendError(detail) from None
        raise _refused_us(server, f"our sender <{sender}>", error.smtp_code, detail) from None
    except smtplib.SMTPAuthenticationError as error:
        detail = f"{error.smtp_code} {_text(error.smtp_error)}"
        raise _refused_us(server, f"our login as {server.user}", error.smtp_code, detail) from None
    except smtplib.SMTPResponseException as error:  # The greeting, EHLO, STARTTLS, AUTH.
        detail = f"{error.smtp_code} {_text(error.smtp_error)}"
        raise _refused_us(server, "us", error.smtp_code, detail) from None
    except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
        raise TransientSendError(f"{server.describe()}: {error}") from None
    if refused:
        codes = [code for code, _ in refused.values()]
        raise _classified(min(codes), str(refused))


def check(server: SmtpServer) -> str:
    """Connect, secure and log in as a send would, then part (no mail is sent): what was
    done, or the error a send would have met (SmtpAccountRefusedError, TransientSendError)."""
    if server.sends_password_in_plain_text:
        raise SmtpAccountRefusedError(str(PlaintextPasswordError("smtp", server.host)))
    try:
        with _connect(server) as smtp:
            _log_in(smtp, server)
            smtp.noop()
    except smtplib.SMTPAuthenticationError as error:
        detail = f"{error.smtp_code} {_text(error.smtp_error)}"
        raise _refused_us(server, f"our login as {server.user}", error.smtp_code, detail) from None
    except smtplib.SMTPResponseException as error:
        detail = f"{error.smtp_code} {_text(error.smtp_error)}"
        raise _refused_us(server, "us", error.smtp_code, detail) from None
    except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
        raise TransientSendError(f"{server.describe()}: {error}") from None
    secured = {"tls": "over TLS", "starttls": "after STARTTLS", "none": "without TLS"}
    logged = f", logged in as {server.user}" if server.user else ""
    return f"connected to {server.describe()} {secured[server.security]}{logged}"


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _classified(code: int, detail: str) -> Exception:
    """A reply about the mail itself (RCPT TO, DATA): a 5xx refuses it for good."""
    if 500 <= code < 600:
        return PermanentSendError(f"{code} {detail}".strip())
    return TransientSendError(f"{code} {detail}".strip())


def _refused_us(server: SmtpServer, what: str, code: int, detail: str) -> TransientSendError:
    """A reply about us, not the mail: a 5xx means our settings are wrong; retried."""
    if 500 <= code < 600:
        return SmtpAccountRefusedError(
            f"{server.describe()} refused {what}: {detail.strip()} (check the SMTP settings)"
        )
    return TransientSendError(f"{server.describe()}: {detail.strip()}")


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.security == "tls":
        return smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS, local_hostname=_me())
    if server.security == "starttls":
        try:
            smtp.starttls(context=ssl.create_default_context())
        except smtplib.SMTPNotSupportedError:
            smtp.close()
            raise SmtpAccountRefusedError(
                f"{server.describe()} offers no STARTTLS (check the SMTP settings)"
            ) from None
    return smtp


def _log_in(smtp: smtplib.SMTP, server: SmtpServer) -> None:
    if not server.user:
        return
    try:
        smtp.login(server.user, server.password or "")
    except smtplib.SMTPResponseException:
        raise
    except smtplib.SMTPException as error:  # It offers no AUTH, or none we speak.
        raise SmtpAccountRefusedError(
            f"{server.describe()} refused our login as {server.user}: {error}"
            " (check the SMTP settings)"
        ) from None


def _me() -> str:
    name = socket.getfqdn()
    return name if "." in name else "ledgerdesk.localdomain"
