"""IMAP polling against a real Dovecot, on SQLite and PostgreSQL: mail waiting in a mailbox's
folder becomes items and ends \\Seen in the processed folder; a message fetched again (a
failed move, a new UIDVALIDITY) is a duplicate, never a second item; a server that refuses
the login or cannot be reached is recorded, and the other mailboxes are still polled; with
IDLE, new mail is taken in at once."""

from __future__ import annotations

import email
import email.policy
import threading
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from imapclient import IMAPClient

from commands.credentials import Credentials
from commands.mail.mailboxes import AddMailbox, ImapAccount, MailboxRoute
from commands.models import Context
from domain.item_numbers import COUNTER_ID, item_id
from domain.project import INBOX_ID
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.mail.imap_polls import last_polls
from tests.conftest import wait_until
from tests.dovecot import Dovecot
from workers.mail import imap
from workers.mail.imap import ImapPoller, PollReport
from workers.mail.imap_idle import ImapIdlers

ADMIN = Context(actor=Actor.system("test"), correlation_id="imap-test")
PROCESSED = "ledgerdesk-processed"


class Clock:
    """The poller's clock, moved on by the test (polls are due by it)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def later(self, seconds: float = 3600) -> None:
        self.now += seconds


def message(subject: str, *, mid: str | None = None, sender: str = "ada@acme.example") -> bytes:
    mid = mid or f"<{uuid.uuid4()}@acme.example>"
    return (
        f"From: Ada <{sender}>\r\nTo: help@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: {mid}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"About {subject}.\r\n"
    ).encode()


def add_mailbox(
    container: bootstrap.Container,
    dovecot: Dovecot,
    user: str,
    *,
    address: str = "help@example.com",
    **imap_fields: Any,
) -> UUID:
    fields: dict[str, Any] = {
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "none",
        "user": user,
        "password": dovecot.users[user],
        **imap_fields,
    }
    account = ImapAccount(**fields)
    cmd = AddMailbox(address=address, project_id=INBOX_ID, imap=account)
    return container.mailboxes.add(cmd, ADMIN).id


def poller(container: bootstrap.Container, clock: Clock, **options: Any) -> ImapPoller:
    return ImapPoller(container.app, container.views, container.mail, clock=clock, **options)


def folder(dovecot: Dovecot, user: str, name: str) -> list[tuple[str, frozenset[bytes]]]:
    """Each message in a folder of the user's: its subject and flags."""
    with dovecot.client(user, dovecot.users[user]) as client:
        if not client.folder_exists(name):
            return []
        client.select_folder(name, readonly=True)
        fetched = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[]"])
    found = []
    for data in fetched.values():
        parsed = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
        flags = frozenset(data[b"FLAGS"]) - {b"\\Recent"}  # The server's, not ours.
        found.append((str(parsed["Subject"]), flags))
    return sorted(found)


def items_issued(container: bootstrap.Container) -> int:
    counter = container.app.repository.get(COUNTER_ID)
    return int(counter.last_issued)


def outcomes(report: PollReport | None) -> list[str]:
    assert report is not None
    return [taken.outcome for taken in report.taken]


SEEN = frozenset({b"\\Seen"})


def test_mail_in_the_folder_becomes_tickets_and_ends_seen_in_the_processed_folder(
    container: bootstrap.Container, dovecot: Dovecot
) -> None:
    # Given two messages waiting in a mailbox's INBOX
    user, _ = dovecot.add_user()
    dovecot.append(user, "INBOX", message("Printer on fire"))
    dovecot.append(user, "INBOX", message("Invoice wrong"))
    mailbox_id = add_mailbox(container, dovecot, user)
    clock = Clock()
    # When the mailbox is polled
    report = poller(container, clock).poll(mailbox_id)
    # Then each opened a ticket, in the order they came
    assert report is not None
    assert (outcomes(report), report.error) == (["created", "created"], None)
    titles = [container.app.repository.get(item_id(t.number)).title for t in report.taken]
    assert titles == ["Printer on fire", "Invoice wrong"]
    # And they left the INBOX for the processed folder (made for them), flagged \Seen
    assert folder(dovecot, user, "INBOX") == []
    assert folder(dovecot, user, PROCESSED) == [("Invoice wrong", SEEN), ("Printer on fire", SEEN)]
    # And polling again (once due) makes no second item
    clock.later()
    assert outcomes(poller(container, clock).poll(mailbox_id)) == []
    assert items_issued(container) == 2


def test_a_poll_is_due_by_its_interval_or_a_changed_account(
    container: bootstrap.Container, dovecot: Dovecot
) -> None:
    user, _ = dovecot.add_user()
    mailbox_id = add_mailbox(container, dovecot, user, poll_seconds=60)
    clock = Clock()
    polls = poller(container, clock)
    assert polls.poll(mailbox_id) is not None
    # Not again before its interval has passed (a tick a tenth early is on time)
    clock.later(53)
    assert polls.poll(mailbox_id) is None
    clock.later(1)
    assert polls.poll(mailbox_id) is not None
    # A changed account is polled at once
    moved = ImapAccount(
        host=dovecot.host, port=dovecot.port, security="none", user=user, folder="Support"
    )
    container.mailboxes.reroute(mailbox_id, MailboxRoute(project_id=INBOX_ID, imap=moved), ADMIN)
    report = polls.poll(mailbox_id)
    assert report is not None
    assert report.error is not None  # No folder "Support" there: recorded, not raised.


def test_a_message_whose_move_failed_is_fetched_again_as_a_duplicate(
    container: bootstrap.Container, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a message filed, whose move to the processed folder then failed
    user, _ = dovecot.add_user()
    dovecot.append(user, "INBOX", message("Printer on fire"))
    mailbox_id = add_mailbox(container, dovecot, user)
    clock = Clock()
    moved = imap._move

    def broken(client: IMAPClient, uids: list[int], to: str) -> None:
        raise OSError("connection reset")

    monkeypatch.setattr(imap, "_move", broken)
    first = poller(container, clock).poll(mailbox_id)
    assert first is not None
    assert (outcomes(first), first.error) == ([], "connection reset")
    assert items_issued(container) == 1
    # Then it is still in the INBOX (flagged \Seen, but never lost)
    assert [subject for subject, _ in folder(dovecot, user, "INBOX")] == ["Printer on fire"]
    # When the next poll fetches it again
    monkeypatch.setattr(imap, "_move", moved)
    clock.later()
    again = poller(container, clock).poll(mailbox_id)
    # Then it is a duplicate of the first, moved now; no second item
    assert again is not None
    assert [(t.outcome, t.number) for t in again.taken] == [("duplicate", 1)]
    assert folder(dovecot, user, "INBOX") == []
    assert folder(dovecot, user, PROCESSED) == [("Printer on fire", SEEN)]
    assert items_issued(container) == 1


def test_a_message_that_cannot_be_filed_stays_and_the_others_are_taken(
    container: bootstrap.Container, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = dovecot.add_user()
    for subject in ("One", "Two", "Three"):
        dovecot.append(user, "INBOX", message(subject))
    mailbox_id = add_mailbox(container, dovecot, user)
    receive = container.mail.receive

    def failing_on_two(raw: bytes, *args: Any) -> Any:
        if b"Subject: Two" in raw:
            raise RuntimeError("blob store full")
        return receive(raw, *args)

    monkeypatch.setattr(container.mail, "receive", failing_on_two)
    clock = Clock()
    report = poller(container, clock).poll(mailbox_id)
    assert report is not None
    assert outcomes(report) == ["created", "created"]
    assert report.error == "message UID 2 could not be filed: RuntimeError"
    assert [s for s, flags in folder(dovecot, user, "INBOX")] == ["Two"]
    assert folder(dovecot, user, "INBOX")[0][1] == frozenset()  # Not flagged either.
    # When it can be filed, the next poll takes it
    monkeypatch.setattr(container.mail, "receive", receive)
    clock.later()
    assert outcomes(poller(container, clock).poll(mailbox_id)) == ["created"]
    assert folder(dovecot, user, "INBOX") == []


def test_quarantined_and_oversized_mail(
    container: bootstrap.Container, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = dovecot.add_user()
    # Given mail with no From address (held) and mail over the size limit
    dovecot.append(user, "INBOX", b"Subject: Who am I\r\n\r\nNobody knows.\r\n")
    dovecot.append(user, "INBOX", message("Huge " + "x" * 3000))
    mailbox_id = add_mailbox(container, dovecot, user)
    monkeypatch.setattr(container.mail, "max_bytes", 2048)
    clock = Clock()
    report = poller(container, clock).poll(mailbox_id)
    # Then the held mail is stored and moved like any other
    assert outcomes(report) == ["quarantined", "too-large"]
    assert folder(dovecot, user, PROCESSED) == [("Who am I", SEEN)]
    # And the oversized one is left where it is, unflagged, and said so once
    assert report is not None
    assert report.error == "message UID 2 is larger than 2048 bytes; left in INBOX"
    assert [flags for _, flags in folder(dovecot, user, "INBOX")] == [frozenset()]
    clock.later()
    again = poller(container, clock).poll(mailbox_id)
    assert again is not None
    assert (again.taken, again.error) == ([], None)


def test_a_new_uidvalidity_takes_the_folder_in_again_as_duplicates(
    container: bootstrap.Container, dovecot: Dovecot
) -> None:
    # Given a folder whose message UID 1 was taken in
    user, password = dovecot.add_user()
    first = message("Printer on fire")
    dovecot.append(user, "Support", first)
    mailbox_id = add_mailbox(container, dovecot, user, folder="Support")
    clock = Clock()
    before = poller(container, clock).poll(mailbox_id)
    assert outcomes(before) == ["created"]
    # When the server makes the folder anew (a new UIDVALIDITY): a new message gets UID 1
    # again, and the first comes back (restored from a backup) as UID 2
    with dovecot.client(user, password) as client:
        client.delete_folder("Support")
        client.create_folder("Support")
    dovecot.append(user, "Support", message("Invoice wrong"))
    dovecot.append(user, "Support", first)
    clock.later()
    after = poller(container, clock).poll(mailbox_id)
    # Then both are fetched: the new one is an item, the first a duplicate of its item
    assert after is not None
    assert before is not None
    assert after.uidvalidity != before.uidvalidity
    assert [(t.uid, t.outcome) for t in after.taken] == [(1, "created"), (2, "duplicate")]
    assert after.taken[1].number == before.taken[0].number
    assert items_issued(container) == 2
    assert folder(dovecot, user, "Support") == []


def test_without_move_mail_is_copied_deleted_and_expunged(
    container: bootstrap.Container, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a server without MOVE, and a message a person flagged \Deleted (not ours)
    user, _ = dovecot.add_user()
    dovecot.append(user, "INBOX", message("Theirs"), flags=(b"\\Deleted",))
    dovecot.append(user, "INBOX", message("Printer on fire"))
    mailbox_id = add_mailbox(container, dovecot, user)
    has_capability: Callable[[IMAPClient, str], bool] = IMAPClient.has_capability
    monkeypatch.setattr(
        IMAPClient,
        "has_capability",
        lambda self, name: name != "MOVE" and has_capability(self, name),
    )
    report = poller(container, Clock()).poll(mailbox_id)
    # Then ours is copied to the processed folder and expunged; theirs is neither
    assert outcomes(report) == ["created"]
    assert folder(dovecot, user, PROCESSED) == [("Printer on fire", SEEN)]
    assert folder(dovecot, user, "INBOX") == [("Theirs", frozenset({b"\\Deleted"}))]


def test_tls_and_starttls_check_the_servers_certificate(
    container: bootstrap.Container, dovecot: Dovecot
) -> None:
    user, _ = dovecot.add_user()
    dovecot.append(user, "INBOX", message("Over TLS"))
    tls = add_mailbox(container, dovecot, user, security="tls", port=dovecot.tls_port)
    starttls = add_mailbox(
        container, dovecot, user, address="sales@example.com", security="starttls"
    )
    # A certificate nobody vouches for is refused (recorded, never raised)
    refused = poller(container, Clock()).poll(tls)
    assert refused is not None
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.error)
    assert [s for s, _ in folder(dovecot, user, "INBOX")] == ["Over TLS"]
    # Trusted, both connect
    trusting = poller(container, Clock(), ssl_context=dovecot.ssl_context)
    assert outcomes(trusting.poll(tls, force=True)) == ["created"]
    dovecot.append(user, "INBOX", message("Over STARTTLS"))
    assert outcomes(trusting.poll(starttls)) == ["created"]


def test_a_refused_login_is_recorded_and_the_other_mailboxes_are_polled(
    container: bootstrap.Container, dovecot: Dovecot
) -> None:
    # Given a mailbox with a wrong password, one whose server is down, and a good one
    wrong, _ = dovecot.add_user()
    good, _ = dovecot.add_user()
    dovecot.append(good, "INBOX", message("Printer on fire"))
    refused = add_mailbox(container, dovecot, wrong, password="not-the-password")
    down = add_mailbox(container, dovecot, good, address="down@example.com", port=1)
    add_mailbox(container, dovecot, good, address="good@example.com")
    container.runner.catch_up()
    # When the periodic poll runs, as the worker runs it
    actor = container.workers.actors["mail.imap_poll"]
    actor.fn(message_id="tick:mail.imap_poll:test", payload={"at": "2030-01-01T00:00:00Z"})
    # Then the good mailbox's mail is an item
    assert items_issued(container) == 1
    assert folder(dovecot, good, "INBOX") == []
    # And the others' failures are recorded on their last poll
    with container.views.read() as tx:
        polls = last_polls(tx)
    assert polls[str(refused)]["error"] == (
        "login refused: [AUTHENTICATIONFAILED] Authentication failed."
    )
    assert polls[str(down)]["error"]
    assert polls[str(down)]["polled_at"] is not None


def test_with_idle_new_mail_is_taken_in_at_once(
    container: bootstrap.Container, dovecot: Dovecot
) -> None:
    # Given a mailbox watched with IDLE, whose waiting mail was taken in on connecting
    user, _ = dovecot.add_user()
    dovecot.append(user, "INBOX", message("Waiting"))
    mailbox_id = add_mailbox(container, dovecot, user, poll_seconds=3600)
    container.runner.catch_up()
    idlers = ImapIdlers(ImapPoller(container.app, container.views, container.mail))
    idlers.start()
    try:
        wait_until(lambda: len(folder(dovecot, user, PROCESSED)) == 1, what="the first poll")
        # When mail arrives (no tick runs, and the poll interval is an hour)
        dovecot.append(user, "INBOX", message("Printer on fire"))
        # Then it is taken in at once
        wait_until(lambda: len(folder(dovecot, user, PROCESSED)) == 2, what="the IDLE poll")
        assert items_issued(container) == 2
        assert idlers.watching() == {str(mailbox_id): 2}
    finally:
        idlers.close()
    # And closing leaves IDLE and ends every watcher
    assert not [t.name for t in threading.enumerate() if t.name.startswith("imap-idle")]


def test_a_server_without_idle_is_left_to_the_ticks(
    container: bootstrap.Container, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = dovecot.add_user()
    mailbox_id = add_mailbox(container, dovecot, user)
    container.runner.catch_up()
    has_capability: Callable[[IMAPClient, str], bool] = IMAPClient.has_capability
    monkeypatch.setattr(
        IMAPClient,
        "has_capability",
        lambda self, name: name != "IDLE" and has_capability(self, name),
    )
    idlers = ImapIdlers(ImapPoller(container.app, container.views, container.mail))
    try:
        # When its watcher finds no IDLE, it ends
        idlers.refresh()
        assert idlers.watching() == {str(mailbox_id): 2}
        wait_until(lambda: idlers.alive() == [], what="the watcher to end")
        # And it is not started again (a connection every refresh) until the account changes
        idlers.refresh()
        assert (idlers.watching(), idlers.alive()) == ({str(mailbox_id): 2}, [])
    finally:
        idlers.close()


def test_a_password_the_secret_key_cannot_open_is_recorded(
    container: bootstrap.Container, dovecot: Dovecot
) -> None:
    # Given a mailbox whose password was sealed under another secret key
    user, _ = dovecot.add_user()
    dovecot.append(user, "INBOX", message("Printer on fire"))
    mailbox_id = add_mailbox(container, dovecot, user)
    polls = poller(container, Clock())
    polls.credentials = Credentials(b"a secret key set since")
    # When it is polled, nothing is fetched and the admin is told to set it again
    report = polls.poll(mailbox_id)
    assert report is not None
    assert report.error == (
        "a stored password cannot be read with this install's keys; set it again"
    )
    assert [s for s, _ in folder(dovecot, user, "INBOX")] == ["Printer on fire"]
