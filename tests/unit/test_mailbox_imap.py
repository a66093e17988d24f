"""A mailbox's IMAP account in the domain: defaults and checks, the stored password kept
only for the same host, no event when nothing changed, and a mailbox added again starting
without the removed one's account."""

from __future__ import annotations

import uuid

import pytest

from domain.errors import InvalidValueError
from domain.mail.imap import ImapPasswordRequiredError, checked_imap
from domain.mail.mailbox import Mailbox
from domain.values import Actor

ADMIN = Actor.system("test")
ACCOUNT = {"host": "imap.example.com", "user": "help"}


def mailbox() -> Mailbox:
    return Mailbox.add(
        address="help@example.com", actor=ADMIN, correlation_id="t", project_id=uuid.uuid4()
    )


def test_an_account_gets_its_defaults() -> None:
    assert checked_imap(ACCOUNT) == {
        "host": "imap.example.com",
        "port": 993,
        "security": "tls",
        "user": "help",
        "folder": "INBOX",
        "processed_folder": "ledgerdesk-processed",
        "poll_seconds": 60,
    }
    assert checked_imap({**ACCOUNT, "security": "starttls"})["port"] == 143


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"host": " "}, "imap.host"),
        ({"host": "imap example.com"}, "imap.host"),
        ({"port": 0}, "imap.port"),
        ({"port": True}, "imap.port"),
        ({"security": "ssl"}, "imap.security"),
        ({"poll_seconds": 9}, "imap.poll_seconds"),
        ({"poll_seconds": 86_401}, "imap.poll_seconds"),
        ({"user": "a\nb"}, "imap.user"),
        ({"processed_folder": "inbox"}, "imap.processed_folder"),
        ({"folder": "Support", "processed_folder": "Support"}, "imap.processed_folder"),
    ],
)
def test_an_account_is_checked(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        checked_imap({**ACCOUNT, **change})
    assert refused.value.field == field


def test_the_stored_password_is_kept_for_the_same_host_only() -> None:
    box = mailbox()
    with pytest.raises(ImapPasswordRequiredError):
        box.configure_imap(imap=ACCOUNT, password_token=None, actor=ADMIN, correlation_id="t")
    box.configure_imap(imap=ACCOUNT, password_token="token-1", actor=ADMIN, correlation_id="t")
    # Without a password, the same host keeps the token
    box.configure_imap(
        imap={**ACCOUNT, "poll_seconds": 30}, password_token=None, actor=ADMIN, correlation_id="t"
    )
    assert (box.imap_password_token, box.imap and box.imap["poll_seconds"]) == ("token-1", 30)
    # And nothing changed records nothing
    version = box.version
    box.configure_imap(
        imap={**ACCOUNT, "poll_seconds": 30}, password_token=None, actor=ADMIN, correlation_id="t"
    )
    assert box.version == version
    # Another host needs the password again
    with pytest.raises(ImapPasswordRequiredError):
        box.configure_imap(
            imap={**ACCOUNT, "host": "mail.example.org"},
            password_token=None,
            actor=ADMIN,
            correlation_id="t",
        )


def test_a_mailbox_added_again_starts_without_an_account() -> None:
    box = mailbox()
    box.configure_imap(imap=ACCOUNT, password_token="token-1", actor=ADMIN, correlation_id="t")
    box.remove(ADMIN, "t")
    box.readd(actor=ADMIN, correlation_id="t", project_id=uuid.uuid4())
    assert (box.imap, box.imap_password_token) == (None, None)
    # And stopping IMAP where there is none records nothing
    version = box.version
    box.stop_imap(actor=ADMIN, correlation_id="t")
    assert box.version == version
