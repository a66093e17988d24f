"""`ledgerdesk mail ...`: the mail channel's commands (an MTA's pipe into ledgerdesk)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from commands.mail.service import MailTooLargeError, UnknownRecipientError
from commands.models import Context
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from ledgerdesk.signals import stop_on_signals, wait_for
from workers.mail.receiver import Receiver

# sysexits.h: what a mail server makes of a pipe's exit status.
EX_NOUSER = 67  # Bounce: no such recipient here.
EX_DATAERR = 65  # Bounce: the message itself is refused (too large).
EX_TEMPFAIL = 75  # Try again later: nothing was accepted.


def cmd_mail_deliver(args: argparse.Namespace) -> int:
    """Read one message on stdin and file it; print what became of it (JSON).

    Exit 0 once it is stored (whatever its outcome, the quarantine included), 67 for an
    address we do not receive mail on, 65 for a message over the size limit, 75 when it
    could not be stored (the mail server keeps it and tries again)."""
    raw = sys.stdin.buffer.read()
    settings = Settings()
    try:
        container = bootstrap.build(settings)
    except Exception as error:  # noqa: BLE001 - any failure to start is temporary for the MTA
        print(f"ledgerdesk: cannot store mail now: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    try:
        ctx = Context(actor=Actor.system("mail"), correlation_id="mail-deliver")
        receipt = container.mail.receive(raw, args.to, "pipe", ctx)
    except UnknownRecipientError as error:
        print(f"ledgerdesk: {error}", file=sys.stderr)
        return EX_NOUSER
    except MailTooLargeError as error:
        print(f"ledgerdesk: {error}", file=sys.stderr)
        return EX_DATAERR
    except Exception as error:  # noqa: BLE001 - not stored: the MTA must keep it and retry
        print(f"ledgerdesk: cannot store mail now: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    finally:
        container.close()
    answer: dict[str, Any] = {
        "outcome": receipt.outcome,
        "number": receipt.number,
        "message_id": receipt.message_id,
        "auto_submitted": receipt.auto_submitted,
    }
    if receipt.reason:
        answer["reason"] = receipt.reason
    print(orjson.dumps(answer).decode())
    return 0


def cmd_mail_serve(args: argparse.Namespace) -> int:
    """Receive mail over SMTP (or LMTP) until SIGINT or SIGTERM, for a relay in front."""
    stop = stop_on_signals()
    container = bootstrap.build(Settings())
    receiver = Receiver(container.mail, args.host, args.port, lmtp=args.lmtp)
    try:
        receiver.start()
        kind = "LMTP" if args.lmtp else "SMTP"
        print(f"receiving mail ({kind}) on {args.host}:{args.port} (Ctrl-C to stop)", flush=True)
        wait_for(stop)
    finally:
        receiver.stop()
        container.close()
    return 0


def add_mail_commands(sub: Any) -> None:
    mail = sub.add_parser("mail", help="the mail channel").add_subparsers(
        dest="action", required=True
    )
    deliver = mail.add_parser(
        "deliver", help="file one message read on stdin (for a mail server's pipe)"
    )
    deliver.add_argument(
        "--to", default=None, help="the address it was sent to (default: LEDGERDESK_MAIL_ADDRESS)"
    )
    deliver.set_defaults(func=cmd_mail_deliver)
    serve = mail.add_parser("serve", help="receive mail over SMTP or LMTP (behind a relay)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=2525)
    serve.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")
    serve.set_defaults(func=cmd_mail_serve)
