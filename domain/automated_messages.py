"""The automated messages: what ledgerdesk tells customers by itself, outside mail (whose
templates are `domain.mail.templates`). Each has a shipped text, which the pages show in
the customer's language, and admins may put their own in its place (in one language: the
company's), with the placeholders it offers (`{number}`), go back to the shipped one, and
preview either with sample values."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import InvalidValueError, NotFoundError

TEXT_LENGTH = 1000


@dataclass(frozen=True)
class AutomatedMessage:
    key: str
    shown: str  # Where and when the customer sees it.
    default: str
    placeholders: tuple[str, ...] = ()


MESSAGES = {
    m.key: m
    for m in (
        AutomatedMessage(
            "chat_welcome",
            "the widget's Chat tab, above the form that starts a chat",
            "Write to us: someone from our team answers here.",
        ),
        AutomatedMessage(
            "chat_offline",
            "posted to the customer in the request a chat becomes when nobody is on duty",
            "Nobody is available to chat just now. Your message is request #{number}:"
            " we will answer you here, and by email.",
            ("number",),
        ),
        AutomatedMessage(
            "chat_ended",
            "the widget's Chat tab, once a chat has ended",
            "This conversation has ended.",
        ),
        AutomatedMessage(
            "form_received",
            "the page a web form's sender sees once their request is opened",
            "Thank you: your request is number {number}. We answer by email.",
            ("number",),
        ),
    )
}
MESSAGE_KEYS = tuple(MESSAGES)
# What a preview fills the placeholders with.
SAMPLE = {"number": "1042"}


class UnknownMessageError(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no automated message {key!r}; the messages are {', '.join(MESSAGES)}")


def message(key: str) -> AutomatedMessage:
    found = MESSAGES.get(key)
    if found is None:
        raise UnknownMessageError(key)
    return found


def checked_text(key: str, text: str) -> str:
    """`text` as message `key`'s own: plain text, of 1 to 1,000 characters, with only the
    placeholders the message offers, each written `{name}` (a literal brace is doubled);
    InvalidValueError names what is wrong."""
    offered = message(key).placeholders
    if not text.strip():
        raise InvalidValueError("text", "may not be empty")
    if len(text) > TEXT_LENGTH:
        raise InvalidValueError("text", f"at most {TEXT_LENGTH} characters")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as problem:
        raise InvalidValueError(
            "text", f"{problem} (write a brace as {{{{ or }}}}, a placeholder as {{number}})"
        ) from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in offered:
            known = ", ".join(f"{{{p}}}" for p in offered) or "none"
            raise InvalidValueError("text", f"no placeholder {{{name}}} here; it offers {known}")
        if spec or conversion:
            raise InvalidValueError("text", f"write the placeholder as {{{name}}}, as it is")
    return text


def rendered(text: str, values: Mapping[str, object]) -> str:
    """A message's text (checked) with its placeholders filled."""
    return text.format_map(values)


def own_text(overrides: Mapping[str, str], key: str, values: Mapping[str, object]) -> str | None:
    """Message `key` as admins wrote it, filled with `values`; None when it is the shipped
    text (which the pages show translated)."""
    own = overrides.get(key)
    return None if own is None else rendered(own, values)


def own_texts(overrides: Mapping[str, str], keys: tuple[str, ...]) -> dict[str, str | None]:
    """Messages `keys` (with no placeholders) as admins wrote them, None for shipped."""
    return {key: own_text(overrides, key, {}) for key in keys}


def text_in_force(overrides: Mapping[str, str], key: str, values: Mapping[str, object]) -> str:
    """Message `key` filled with `values`: the admins' text, else the shipped one."""
    return rendered(overrides.get(key, message(key).default), values)
