"""The SMTP receiver (aiosmtpd): mail for an address we do not receive on is refused at RCPT
time (550), a message over the size limit at DATA (552), and a message is acknowledged (250)
only once it is stored and filed, so nothing acknowledged is lost. When it cannot be stored
the answer is 451: the sending server keeps it and tries again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from commands.mail.service import MailService, MailTooLargeError, UnknownRecipientError
from commands.models import Context
from domain.values import Actor

log = logging.getLogger("ledgerdesk.mail")


class Handler:
    """aiosmtpd's hooks, over the mail service."""

    def __init__(self, mail: MailService) -> None:
        self.mail = mail

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.mail.route(address) is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        replies = []
        for recipient in envelope.rcpt_tos:
            replies.append(await asyncio.to_thread(self._file, raw, recipient))
        # LMTP answers each recipient; SMTP gives one answer (the first failure, if any).
        if isinstance(server, LMTP):
            return "\r\n".join(replies)
        return next((r for r in replies if not r.startswith("250")), replies[0])

    def _file(self, raw: bytes, recipient: str) -> str:
        ctx = Context(actor=Actor.system("mail"), correlation_id="smtp")
        try:
            receipt = self.mail.receive(raw, recipient, "smtp", ctx)
        except UnknownRecipientError:
            return f"550 5.1.1 <{recipient}>: no such mailbox here"
        except MailTooLargeError:
            return "552 5.3.4 message too big"
        except Exception:
            log.exception("could not store mail for %s", recipient)
            return "451 4.3.0 cannot store the message now; try again later"
        number = f" #{receipt.number}" if receipt.number is not None else ""
        return f"250 2.0.0 {receipt.outcome}{number}"


class _LMTPController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


class Receiver:
    """The receiver listening on `host:port` (LMTP with `lmtp`), in its own thread."""

    def __init__(self, mail: MailService, host: str, port: int, *, lmtp: bool = False) -> None:
        kind = _LMTPController if lmtp else Controller
        self.controller = kind(
            Handler(mail),
            hostname=host,
            port=port,
            data_size_limit=mail.max_bytes,
            ident="ledgerdesk",
        )

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
