"""The SMTP receiver, as a relay in front of it talks to it: `ledgerdesk mail serve`, and the
embedded `serve` with LEDGERDESK_SMTP_LISTEN."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ledgerdesk.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import ROOT, Run, env_for, free_address, init, serving

MESSAGE = (
    b"From: Ada <ada@acme.example>\r\nTo: support@ledgerdesk.local\r\n"
    b"Subject: Printer on fire\r\nMessage-ID: <smtp-1@acme.example>\r\n\r\nHelp.\r\n"
)


def connect(host: str, port: int) -> smtplib.SMTP:
    deadline = time.monotonic() + 30
    while True:
        try:
            return smtplib.SMTP(host, port, timeout=30)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def mail_serve(settings: Settings, *args: str) -> Iterator[tuple[str, int]]:
    host, port = free_address()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledgerdesk",
            "mail",
            "serve",
            "--host",
            host,
            "--port",
            str(port),
            *args,
        ],
        env={**env_for(settings), "LEDGERDESK_MAX_MAIL_BYTES": "65536"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield host, port
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0, out


def test_mail_over_smtp_is_filed_and_strangers_and_oversize_are_refused(
    settings: Settings, ledgerdesk: Run
) -> None:
    ledgerdesk("migrate")
    with mail_serve(settings) as (host, port):
        smtp = connect(host, port)
        # Mail for an address we do not receive on is refused at RCPT time
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("ada@acme.example", ["nobody@elsewhere.example"], MESSAGE)
        assert refused.value.recipients["nobody@elsewhere.example"][0] == 550
        # A message for the support address is stored and filed before the 250
        assert smtp.sendmail("ada@acme.example", ["support@ledgerdesk.local"], MESSAGE) == {}
        # A message over the size limit is refused with 552 (at MAIL FROM, as its SIZE says)
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as too_big:
            smtp.sendmail("ada@acme.example", ["support@ledgerdesk.local"], MESSAGE + b"x" * 70_000)
        assert too_big.value.smtp_code == 552
        smtp.quit()
    # The message opened a ticket, once
    piped = subprocess.run(
        [sys.executable, "-m", "ledgerdesk", "mail", "deliver"],
        input=MESSAGE, env=env_for(settings), cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    assert json.loads(piped.stdout)["outcome"] == "duplicate"


def test_the_embedded_serve_receives_mail_when_asked(tmp_path: Path) -> None:
    # The embedded install (SQLite) with LEDGERDESK_SMTP_LISTEN
    settings = make_settings("sqlite", tmp_path)
    token = init(settings)
    host, port = free_address()
    listen = {"LEDGERDESK_SMTP_LISTEN": f"{host}:{port}"}
    with serving(settings, tmp_path / "serve.log", env=listen) as served:
        smtp = connect(host, port)
        assert smtp.sendmail("ada@acme.example", ["support@ledgerdesk.local"], MESSAGE) == {}
        smtp.quit()
        ticket = httpx.get(
            f"{served.base}/api/v1/tickets/1", headers={"Authorization": f"Bearer {token}"}
        )
        assert ticket.status_code == 200, ticket.text
        assert ticket.json()["title"] == "Printer on fire"
