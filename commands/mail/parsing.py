"""Raw bytes into an `InboundMail`, with the standard library's `email` package (modern
policy). Broken or unknown charsets are decoded with replacement, never a crash; what cannot
be read as a message at all raises `UnparseableMailError` with the reason, and is then
quarantined by the caller."""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import mimetypes
import re
from collections.abc import Callable, Iterator
from email.message import EmailMessage, Message
from typing import Any

from mailparser_reply import EmailReplyParser

from commands.mail.html_text import reply_part, sanitise, text_of
from domain.mail.message import DeliveryReport, InboundMail, MailPart
from domain.mail.received import normalise_message_id
from domain.text import replace_disallowed

# Stores one part's bytes; answers (sha256, size).
StoreBlob = Callable[[bytes], tuple[str, int]]

REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "pt", "sv"]
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_HEADER_MESSAGE_ID = re.compile(rb"(?im)^message-id:\s*(<[^<>\s]+>)")
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
_BOUNCE_SUBJECTS = re.compile(
    r"(?i)(undeliver|delivery status notification|returned mail|mail delivery (failed|"
    r"failure|subsystem)|failure notice|delivery failure)"
)
# Where a classic bounce's notice ends and its copy of the returned message begins (qmail,
# Exim, sendmail), or the copy's first header when no line announces it.
_RETURNED_COPY = re.compile(
    r"(?im)^[ \t]*-{2,}[ \t]*(?:below this line is a copy of the message|this is a copy of "
    r"the|(?:original )?message (?:headers? )?follows)|^(?:return-path|received):"
)
# A failed address in a notice: <in brackets> (qmail, sendmail) or alone on an indented
# line (Exim, Domino).
_NOTICE_ADDRESS = re.compile(
    r"(?m)<([^<>\s@]+@[^<>\s]+)>|^[ \t]+([^<>\s@]+@[^<>\s:]+?)[ \t]*:?[ \t]*\r?$"
)
# Types known by the standard library's own table only, so that a part's name does not hang
# on the machine's /etc/mime.types; with the mail types that table lacks.
_TYPES = mimetypes.MimeTypes()
_TYPES.add_type("text/calendar", ".ics")
_TYPES.add_type("image/webp", ".webp")
# Unnamed parts of these kinds are named after it: `image-2.png`; others `part-2.ics`.
_NAMED_KINDS = ("image/", "audio/", "video/")
# A subject that says the message is a forward (en, de, fr, es, it, pt, nl, pl, sv clients).
_FORWARD_SUBJECT = re.compile(r"(?i)^\s*(?:fwd?|wg|tr|rv|i|enc|doorst|pd|vb)\s*:")


class UnparseableMailError(Exception):
    """The bytes are not a message we can read; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def body_sha256(raw: bytes) -> str:
    """The hash of a message's body (what follows its header block), line endings and
    trailing space normalised: relays add headers, never change the body."""
    _, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    return hashlib.sha256(body.rstrip() if sep else b"").hexdigest()


def parse(raw: bytes, store: StoreBlob) -> InboundMail:
    """The message in `raw`, its attachments stored through `store`. Whatever fails in
    reading it (the `email` package has its own defects on malformed input) makes it
    unparseable, so it is quarantined: never an error that would make a transport refuse or
    retry it for ever."""
    try:
        return _parse(raw, store)
    except UnparseableMailError:
        raise
    except Exception as error:  # Any defect of reading quarantines the mail.
        raise UnparseableMailError(
            f"the message could not be read ({type(error).__name__}: {error})"[:500]
        ) from error


def _parse(raw: bytes, store: StoreBlob) -> InboundMail:
    if not raw.strip():
        raise UnparseableMailError("the message is empty")
    if b"\x00" in raw[:4096] and not _looks_like_headers(raw):
        raise UnparseableMailError("the message is binary data, not mail")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not _looks_like_headers(raw):
        raise UnparseableMailError("the message has no header block")
    headers = _headers(message)
    from_name, sender = _address(headers.get("from", ""))
    if not sender:
        raise UnparseableMailError("the message has no readable From address")
    message_id = _first_id(headers.get("message-id", ""))
    if message_id is None:
        # Without one, the body decides what a second copy is.
        message_id = f"{hashlib.sha256(raw).hexdigest()}@no-message-id.ledgerdesk.invalid"
    text, reply_text, html, parts = _body(message, store)
    reply = _reply(text, reply_text, headers.get("subject", ""))
    reply_name, reply_to = _address(headers.get("reply-to", ""))
    return InboundMail(
        message_id=message_id,
        sender=sender,
        # The name goes with the address we answer to: a web form's mail comes from the
        # form, and its Reply-To is the person who wrote.
        sender_name=reply_name if reply_to and reply_to != sender else from_name,
        reply_to=reply_to or None,
        to=_addresses(message, "to"),
        cc=_addresses(message, "cc"),
        subject=_clean(" ".join(headers.get("subject", "").split())),
        text=text,
        reply=reply,
        html=html,
        in_reply_to=_ids(headers.get("in-reply-to", "")),
        references=_ids(headers.get("references", "")),
        headers=headers,
        body_sha256=body_sha256(raw),
        parts=tuple(parts),
        report=_report(message, headers, sender, raw),
    )


def _looks_like_headers(raw: bytes) -> bool:
    lines = raw.lstrip(b"\r\n").split(b"\n", 2)
    # An mbox envelope line ("From sender date") may come first: Exim's pipe transport and
    # Postfix's with the F flag write one; the email package reads it as the Unix From.
    first = lines[1] if len(lines) > 1 and lines[0].startswith(b"From ") else lines[0]
    return bool(re.match(rb"^[!-9;-~]+:", first))


def _clean(text: str) -> str:
    return replace_disallowed(text)


def _headers(message: EmailMessage) -> dict[str, str]:
    """Header values by lower-case name (the first of each), decoded; a header the policy
    cannot parse is kept as its raw text."""
    found: dict[str, str] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key in found:
            continue
        try:
            text = str(message.get(name, ""))
        except Exception:  # noqa: BLE001 - a malformed header is read as its raw text
            text = str(value)
        found[key] = _clean(text)
    return found


def _address(value: str) -> tuple[str, str]:
    name, address = email.utils.parseaddr(value)
    address = address.strip().lower()
    if "@" not in address or " " in address:
        return "", ""
    return _clean(name.strip()), _clean(address)


def _addresses(message: EmailMessage, header: str) -> tuple[str, ...]:
    # The raw text: the policy's address parser fails on some malformed headers.
    values = [str(v) for k, v in message.raw_items() if k.lower() == header]
    pairs = email.utils.getaddresses(values)
    return tuple(dict.fromkeys(a.lower() for _, a in pairs if "@" in a))


def _ids(value: str) -> tuple[str, ...]:
    return tuple(normalise_message_id(m) for m in _MESSAGE_ID.findall(value))


def _first_id(value: str) -> str | None:
    found = _ids(value)
    if found:
        return found[0]
    bare = value.strip()
    return normalise_message_id(bare) if bare and " " not in bare else None


def _decoded(part: Message) -> str:
    """A text part's content in its declared charset, or with replacement when that is
    missing, unknown or wrong."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return _clean(payload.decode(charset))
    except (LookupError, ValueError):  # Unknown or malformed charset, undecodable bytes.
        pass
    try:
        return _clean(payload.decode("utf-8"))
    except UnicodeDecodeError:
        return _clean(payload.decode(charset if _known(charset) else "latin-1", "replace"))


def _known(charset: str) -> bool:
    try:
        "".encode(charset)
    except (LookupError, ValueError):
        return False
    return True


def _leaves(message: Message) -> Iterator[Message]:
    """The parts of a message in order, not descending into attached messages."""
    if message.is_multipart() and message.get_content_maintype() == "multipart":
        payload: Any = message.get_payload()
        for part in payload if isinstance(payload, list) else []:
            yield from _leaves(part)
    else:
        yield message


def _body(message: EmailMessage, store: StoreBlob) -> tuple[str, str, str | None, list[MailPart]]:
    """The message's text, the text its reply is read from, its sanitised HTML and its
    stored parts. Without a text part, both texts are renditions of the HTML, the second of
    it cut where quoted history begins (markers the text rendition loses)."""
    texts: list[str] = []
    htmls: list[str] = []
    parts: list[MailPart] = []
    for index, part in enumerate(_leaves(message)):
        media = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if disposition != "attachment" and not filename and media == "text/plain":
            texts.append(_decoded(part))
        elif disposition != "attachment" and not filename and media == "text/html":
            htmls.append(_decoded(part))
        elif media in ("message/delivery-status", "text/rfc822-headers"):
            continue  # Read by `_report`.
        else:
            sha, size = store(_part_bytes(part))
            parts.append(MailPart(filename or _unnamed(part, index), media, sha, size))
    markup = "\n".join(htmls)
    html = sanitise(markup) if htmls else None
    # Line ends normalised before the parts are trimmed, so no CR is left at either end.
    text = "\n\n".join(t.replace("\r\n", "\n").strip("\n") for t in texts if t.strip())
    if text or html is None:
        return text, text, html, parts
    return text_of(html), text_of(sanitise(reply_part(markup))), html, parts


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - an unreadable filename is treated as none
        name = ""
    return _filename_of(name)


def _filename_of(name: str) -> str:
    return _clean(name).replace("/", "_").replace("\\", "_").strip()[:255]


def _unnamed(part: Message, index: int) -> str:
    """A name for a part that has none: its Content-ID's when that is a file name of its
    type (Outlook's `<image001.png@…>`), else one made of its type (`image-3.png`)."""
    media = part.get_content_type()
    if media == "message/rfc822":
        return f"forwarded-message-{index}.eml"
    content_id = _filename_of(_raw_header(part, "content-id").strip().strip("<>").split("@")[0])
    if content_id and _TYPES.guess_type(content_id)[0] == media:
        return content_id
    kind = part.get_content_maintype() if media.startswith(_NAMED_KINDS) else "part"
    return f"{kind}-{index}{_TYPES.guess_extension(media) or '.bin'}"


def _part_bytes(part: Message) -> bytes:
    """A part's content as its recipient would save it; a part that cannot be decoded is
    kept as it came (never dropped)."""
    if part.get_content_type() == "message/rfc822":
        inner: Any = part.get_payload()
        attached = inner[0] if isinstance(inner, list) and inner else None
        if isinstance(attached, Message):
            return attached.as_bytes()
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else part.as_bytes()


def _reply(text: str, reply_text: str, subject: str) -> str:
    """The new text of a reply, read from `reply_text` (the text, or an HTML message's cut
    where its quoted history begins), without the quoted history below it (the full `text`
    stays). A forward is kept whole: what it forwards is its content, not history."""
    if not text.strip():
        return ""
    if _FORWARD_SUBJECT.match(subject) or not reply_text.strip():
        return text.strip()
    try:
        reply = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text=reply_text)
    except Exception:  # noqa: BLE001 - a parser failure keeps the whole text
        return text.strip()
    return (reply or "").strip() or text.strip()


# --- delivery status notifications -------------------------------------------------------


def _report(
    message: EmailMessage, headers: dict[str, str], sender: str, raw: bytes
) -> DeliveryReport | None:
    """What a bounce says, if this is one: RFC 3464 reports, or the classic formats."""
    if (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    ):
        return _rfc3464(message)
    classic_sender = sender.startswith(_BOUNCE_SENDERS)
    if classic_sender and _BOUNCE_SUBJECTS.search(headers.get("subject", "")):
        ids = [m.decode("ascii", "replace") for m in _HEADER_MESSAGE_ID.findall(raw)]
        own = normalise_message_id(headers.get("message-id", ""))
        original = next(
            (normalise_message_id(i) for i in ids if normalise_message_id(i) != own), None
        )
        return DeliveryReport(original, _classic_failed(message), "5.0.0", "", permanent=True)
    return None


def _classic_failed(message: EmailMessage) -> tuple[str, ...]:
    """The addresses a classic bounce's notice names: its first text part, up to the copy
    of the returned message (whose headers name others, our own address among them)."""
    notice = next((p for p in _leaves(message) if p.get_content_type() == "text/plain"), None)
    text = _decoded(notice) if notice is not None else ""
    copy = _RETURNED_COPY.search(text)
    found = _NOTICE_ADDRESS.findall(text[: copy.start()] if copy else text)
    return tuple(dict.fromkeys((bracketed or listed).lower() for bracketed, listed in found))


def _rfc3464(message: EmailMessage) -> DeliveryReport:
    """The recipients an RFC 3464 report says failed (Action `failed`, or none with a 5.x.x
    Status), or, when none did, those it says are delayed (`delayed`, or none with 4.x.x):
    delivered, relayed and expanded recipients are news of success, never listed (a report
    of success only lists nobody, with its first Status)."""
    found: dict[str, list[tuple[str, str, str]]] = {"failed": [], "delayed": [], "other": []}
    original: str | None = None
    for part in message.walk():
        media = part.get_content_type()
        if media == "message/delivery-status":
            for block in _status_blocks(part):
                recipient = block.get("final-recipient") or block.get("original-recipient", "")
                address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
                if address:
                    found.get(_recipient_outcome(block), found["other"]).append(
                        (address, block.get("status", ""), block.get("diagnostic-code", ""))
                    )
        elif media in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_id(part)
    permanent = bool(found["failed"])
    recipients = found["failed"] if permanent else found["delayed"]
    status = next((s for _, s, _ in recipients or found["other"] if s), "")
    diagnostic = next((d for _, _, d in recipients if d), "")
    return DeliveryReport(
        original,
        tuple(dict.fromkeys(address for address, _, _ in recipients)),
        status or ("4.0.0" if recipients and not permanent else "5.0.0"),
        _clean(diagnostic)[:1000],
        permanent=permanent,
    )


def _recipient_outcome(block: dict[str, str]) -> str:
    """What a report says of one recipient (its Action: `failed`, `delayed`, `delivered`,
    `relayed`, `expanded`); without an Action, what its Status's class says (RFC 3463)."""
    action = block.get("action", "").lower().split()
    if action:
        return action[0]
    status = block.get("status", "").strip()
    return {"5": "failed", "4": "delayed"}.get(status[:1], "")


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The per-message and per-recipient field blocks of a message/delivery-status part."""
    payload: Any = part.get_payload()
    if isinstance(payload, list):  # The policy parsed the blocks as header sets.
        return [{k.lower(): str(v) for k, v in block.items()} for block in payload]
    text = payload if isinstance(payload, str) else ""
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (line.partition(":") for line in chunk.splitlines())
            if _ and not k.startswith((" ", "\t"))
        )
        if fields:
            blocks.append(fields)
    return blocks


def _raw_header(message: Message, name: str) -> str:
    """A header's text as sent, without the policy's parsing (which can fail on bad input)."""
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return ""


def _original_id(part: Message) -> str | None:
    if part.get_content_type() == "message/rfc822":
        inner: Any = part.get_payload()
        attached = inner[0] if isinstance(inner, list) and inner else None
        value = _raw_header(attached, "message-id") if isinstance(attached, Message) else ""
    else:
        payload = part.get_payload(decode=True)
        text = (
            payload.decode("utf-8", "replace")
            if isinstance(payload, bytes)
            else str(part.get_payload())
        )
        match = re.search(r"(?im)^message-id:\s*(<[^<>\s]+>)", text)
        value = match.group(1) if match else ""
    found = _ids(value)
    return found[0] if found else None
