"""The corpus: real-world-shaped inbound mail (`corpus/*.eml`: clients, charsets, HTML,
attachments, forwards, replies, automatic mail, delivery reports, S/MIME and PGP, broken
messages), each delivered through `container.mail.receive` on SQLite and PostgreSQL and
checked against `corpus/expected.toml`; and each parsed on its own, which reads it or finds it
unparseable, never fails another way."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from commands.mail.parsing import UnparseableMailError, parse
from commands.mail.receive import Receipt
from commands.models import Context
from domain.item_numbers import item_id
from domain.mail.addresses import our_message_id, reply_address
from domain.mail.on_items import MailBounced, MailReceived
from domain.mail.quarantine import QuarantinedMail, quarantine_id_for
from domain.values import Actor
from ledgerdesk import bootstrap

CORPUS = Path(__file__).parent / "corpus"
SUPPORT = "support@ledgerdesk.local"
CTX = Context(actor=Actor.system("mail"), correlation_id="corpus")
OUTCOMES = {"created", "appended", "duplicate", "bounce", "quarantined"}
ON_AN_ITEM = {"appended", "duplicate", "bounce"}


@dataclass(frozen=True)
class Expected:
    """One message's entry in expected.toml (the file's header says what each field means)."""

    file: str
    kind: str
    outcome: str
    reason: str | None = None
    item: str | None = None
    to: str | None = None
    automatic: str | None = None
    threaded_by: str | None = None
    internal: bool = False
    title: str | None = None
    title_has: Sequence[str] = ()
    title_at_most: int | None = None
    subject_length: int | None = None
    sender: str | None = None
    sender_name: str | None = None
    text: Sequence[str] = ()
    not_text: Sequence[str] = ()
    reply: Sequence[str] = ()
    not_reply: Sequence[str] = ()
    html: Sequence[str] = ()
    not_html: Sequence[str] = ()
    attachments: Sequence[str] = ()
    attachment_types: Sequence[str] | None = None
    attachment_holds: dict[str, str] = field(default_factory=dict)
    bounced: Sequence[str] | None = None
    status: str | None = None
    permanent: bool | None = None
    again: str | None = None
    no_message_id: bool = False


def manifest() -> list[Expected]:
    with (CORPUS / "expected.toml").open("rb") as toml:
        return [Expected(**entry) for entry in tomllib.load(toml)["message"]]


def ours(secret: bytes, number: int) -> str:
    """The Message-ID of a mail we sent about item `number`, as the corpus's placeholder."""
    return our_message_id(secret, number, "corpus", "ledgerdesk.local")


def filled(raw: bytes, secret: bytes, number: int) -> bytes:
    """The message with its placeholders naming item `number`."""
    return (
        raw.replace(b"{{our-message-id}}", ours(secret, number).encode())
        .replace(b"{{reply-address}}", reply_address(secret, SUPPORT, number).encode())
        .replace(b"{{number}}", str(number).encode())
    )


def test_the_manifest_names_every_message_once_and_in_an_order_that_works() -> None:
    entries = manifest()
    files = [e.file for e in entries]
    on_disk = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert sorted(files) == on_disk
    assert len(files) == len(set(files)) >= 60
    assert sum(p.stat().st_size for p in CORPUS.iterdir()) < 1_000_000
    for at, entry in enumerate(entries):
        assert entry.outcome in OUTCOMES, entry.file
        assert (entry.outcome == "quarantined") == (entry.reason is not None), entry.file
        if entry.outcome in ON_AN_ITEM or entry.to or entry.threaded_by:
            assert entry.item in files[:at], f"{entry.file} needs an earlier item"
        raw = (CORPUS / entry.file).read_bytes()
        if b"{{" in raw:
            assert entry.item is not None, f"{entry.file} has placeholders but no item"
        if entry.permanent is not None:
            assert entry.kind == "dsn", f"{entry.file} is not a delivery report"


def test_every_message_is_read_or_found_unparseable_and_never_fails_otherwise() -> None:
    def store(data: bytes) -> tuple[str, int]:
        return hashlib.sha256(data).hexdigest(), len(data)

    for entry in manifest():
        raw = filled((CORPUS / entry.file).read_bytes(), b"k" * 32, 7)
        if entry.reason == "unparseable":
            with pytest.raises(UnparseableMailError):
                parse(raw, store)
        else:
            mail = parse(raw, store)
            assert "@" in mail.sender, entry.file
            assert "\r" not in mail.text + mail.reply, entry.file
            if entry.permanent is not None:
                assert mail.report is not None, entry.file
                assert mail.report.permanent is entry.permanent, entry.file


class Filing:
    """Delivers the corpus to one container and collects every mismatch with the manifest,
    so one run shows all of them."""

    def __init__(self, container: bootstrap.Container) -> None:
        self.container = container
        self.secret = container.mail.secret
        self.numbers: dict[str, int] = {}
        self.problems: list[str] = []

    def deliver(self, entry: Expected) -> None:
        number = self.numbers[entry.item] if entry.item else 0
        raw = filled((CORPUS / entry.file).read_bytes(), self.secret, number)
        to = reply_address(self.secret, SUPPORT, number) if entry.to == "reply-address" else None
        try:
            receipt = self.container.mail.receive(raw, to, "corpus", CTX)
        except Exception as error:  # Recorded as the failure it is, so the others still run.
            self.problem(entry, f"raised {type(error).__name__}: {error}")
            return
        self.check_receipt(entry, receipt, number)
        if receipt.outcome != entry.outcome:
            return
        if receipt.outcome == "created" and receipt.number is not None:
            self.numbers[entry.file] = receipt.number
        if receipt.outcome in ("created", "appended") and receipt.number is not None:
            self.check_item(entry, receipt)
        elif receipt.outcome == "bounce":
            self.check_bounce(entry, number)
        elif receipt.outcome == "quarantined":
            self.check_held(entry, raw)
        if entry.again is not None:
            again = self.container.mail.receive(raw, to, "corpus", CTX)
            second = (again.outcome, again.number)
            self.expect(entry, "the second delivery", second, (entry.again, receipt.number))

    def check_receipt(self, entry: Expected, receipt: Receipt, number: int) -> None:
        filed = (receipt.outcome, receipt.reason)
        self.expect(entry, "outcome", filed, (entry.outcome, entry.reason))
        automatic = receipt.outcome == "bounce" or entry.automatic is not None
        self.expect(entry, "the receipt's automatic flag", receipt.auto_submitted, automatic)
        if entry.outcome in ON_AN_ITEM:
            self.expect(entry, "the item", receipt.number, number)
        if entry.outcome == "quarantined":
            self.expect(entry, "the number of held mail", receipt.number, None)
        if entry.no_message_id:
            hashed = receipt.message_id.endswith("@no-message-id.ledgerdesk.invalid")
            self.expect(entry, "a hash for a Message-ID", hashed, True)

    def check_item(self, entry: Expected, receipt: Receipt) -> None:
        assert receipt.number is not None
        events = list(self.container.app.events.get(item_id(receipt.number)))
        received = [
            (at, e)
            for at, e in enumerate(events)
            if isinstance(e, MailReceived) and e.mail_message_id == receipt.message_id
        ]
        if len(received) != 1:
            self.problem(entry, f"{len(received)} MailReceived events for its Message-ID")
            return
        at, mail = received[0]
        if receipt.outcome == "created":
            opened = events[0]
            start, body = 0, opened.description
            self.expect(entry, "the requester", opened.requester_email, mail.sender)
            self.check_title(entry, opened.title, mail.subject)
            # Never an acknowledgement for automatic mail.
            if entry.automatic is not None:
                self.expect(entry, "acknowledge", mail.acknowledge, False)
        else:
            start, posted = next(
                (n, e)
                for n, e in enumerate(events)
                if getattr(e, "message_id", None) == mail.message_id and e is not mail
            )
            body = posted.body
            kind = "InternalMessagePosted" if entry.internal else "CustomerReplyPosted"
            self.expect(entry, "the posted message", type(posted).__name__, kind)
        self.expect(entry, "automatic", mail.automatic, entry.automatic)
        self.expect(entry, "threaded by", mail.threaded_by, entry.threaded_by)
        self.expect(entry, "non-participant", mail.non_participant, entry.internal)
        self.check_fields(entry, mail)
        self.check_texts(entry, "text", mail.full_text, entry.text, entry.not_text)
        self.check_texts(entry, "reply", body, entry.reply, entry.not_reply)
        self.check_texts(entry, "html", mail.html or "", entry.html, entry.not_html)
        added = [e for e in events[start:at] if type(e).__name__ == "AttachmentAdded"]
        self.check_attachments(entry, added)

    def check_title(self, entry: Expected, title: str, subject: str) -> None:
        if entry.title is not None:
            self.expect(entry, "title", title, entry.title)
        if entry.title_at_most is not None:
            self.expect(entry, "a title too long", len(title) > entry.title_at_most, False)
            self.expect(entry, "the title starts the subject", subject.startswith(title), True)
        for part in entry.title_has:
            if part not in title:
                self.problem(entry, f"title {title!r} lacks {part!r}")

    def check_fields(self, entry: Expected, mail: Any) -> None:
        if entry.sender is not None:
            self.expect(entry, "sender", mail.sender, entry.sender)
        if entry.sender_name is not None:
            self.expect(entry, "sender name", mail.sender_name, entry.sender_name)
        if entry.subject_length is not None:
            self.expect(entry, "subject length", len(mail.subject), entry.subject_length)
        self.expect(entry, "a carriage return in the text", "\r" in mail.full_text, False)

    def check_texts(
        self, entry: Expected, what: str, value: str, has: Sequence[str], lacks: Sequence[str]
    ) -> None:
        for part in has:
            if part not in value:
                self.problem(entry, f"{what} lacks {part!r}: {value[:300]!r}")
        for part in lacks:
            if part in value:
                self.problem(entry, f"{what} holds {part!r}: {value[:300]!r}")

    def check_attachments(self, entry: Expected, added: list[Any]) -> None:
        self.expect(entry, "attachments", [a.name for a in added], list(entry.attachments))
        if entry.attachment_types is not None:
            types = [a.media_type for a in added]
            self.expect(entry, "attachment types", types, list(entry.attachment_types))
        blobs = self.container.mail.blobs
        for attachment in added:
            self.expect(entry, "customer-visible", attachment.visibility, "customer")
            holds = entry.attachment_holds.get(attachment.name, "").encode()
            sha256 = attachment.sha256
            if not blobs.exists(sha256) or blobs.size(sha256) != attachment.size:
                self.problem(entry, f"{attachment.name} is not in the blob store as recorded")
            elif holds not in blobs.read_bytes(sha256):
                self.problem(entry, f"{attachment.name} lacks {holds!r}")

    def check_bounce(self, entry: Expected, number: int) -> None:
        events = self.container.app.events.get(item_id(number))
        mine = ours(self.secret, number)
        bounced = [e for e in events if isinstance(e, MailBounced) and e.mail_message_id == mine]
        if len(bounced) != 1:
            self.problem(entry, f"{len(bounced)} MailBounced events for our mail")
            return
        if entry.bounced is not None:
            self.expect(entry, "bounced", bounced[0].recipients, list(entry.bounced))
        if entry.status is not None:
            self.expect(entry, "status", bounced[0].status, entry.status)

    def check_held(self, entry: Expected, raw: bytes) -> None:
        held_id = quarantine_id_for(hashlib.sha256(raw).hexdigest(), SUPPORT)
        held = self.container.app.repository.get(held_id)
        assert isinstance(held, QuarantinedMail)
        self.expect(entry, "the held reason", held.reason, entry.reason)

    def expect(self, entry: Expected, what: str, actual: object, wanted: object) -> None:
        if actual != wanted:
            self.problem(entry, f"{what}: {actual!r}, expected {wanted!r}")

    def problem(self, entry: Expected, text: str) -> None:
        self.problems.append(f"{entry.file}: {text}")


def test_every_message_is_filed_as_the_manifest_says(container: bootstrap.Container) -> None:
    # Given the corpus, in the manifest's order (replies after what they answer)
    filing = Filing(container)
    # When each message is delivered, as any transport would
    for entry in manifest():
        filing.deliver(entry)
    # Then each got a receipt, and everything the manifest says of it holds
    assert not filing.problems, "\n".join(filing.problems)
