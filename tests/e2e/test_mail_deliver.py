"""`ledgerdesk mail deliver`: one message on stdin, as a mail server's pipe runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from ledgerdesk.settings import Settings
from tests.e2e.conftest import ROOT, Run, env_for

MESSAGE = (
    b"From: Ada <ada@acme.example>\r\nTo: support@ledgerdesk.local\r\n"
    b"Subject: Printer on fire\r\nMessage-ID: <pipe-1@acme.example>\r\n\r\nHelp.\r\n"
)


def deliver(settings: Settings, raw: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ledgerdesk", "mail", "deliver", *args],
        input=raw,
        env=env_for(settings),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_a_piped_message_is_filed_once_and_a_stranger_address_bounces(
    settings: Settings, ledgerdesk: Run
) -> None:
    ledgerdesk("migrate")
    # When a mail server pipes a message in
    first = deliver(settings, MESSAGE)
    # Then it opens an item and says so
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert (answer["outcome"], answer["number"]) == ("created", 1)
    # And the same message piped again is a duplicate of it
    again = json.loads(deliver(settings, MESSAGE).stdout)
    assert (again["outcome"], again["number"]) == ("duplicate", 1)
    # And mail for an address we do not receive on is refused with EX_NOUSER (the server bounces)
    stranger = deliver(settings, MESSAGE, "--to", "nobody@elsewhere.example")
    assert stranger.returncode == 67
    assert b"nobody@elsewhere.example" in stranger.stderr
    # And unreadable mail is accepted into the quarantine, not refused
    held = deliver(settings, b"\x00\x01garbage")
    assert held.returncode == 0, held.stderr
    assert json.loads(held.stdout)["outcome"] == "quarantined"
