"""HTML mail made safe (nh3) and given a plain-text rendition."""

from __future__ import annotations

import html
import re

import nh3

_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/li|/tr|/h[1-6]|/blockquote|/table)\s*>")
_SCRIPTY = re.compile(r"(?is)<(script|style|head|title)\b.*?</\1\s*>")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def sanitise(markup: str) -> str:
    """The HTML without scripts, event handlers, remote-loading tricks or unknown tags."""
    return nh3.clean(markup, link_rel="noopener noreferrer nofollow")


def text_of(markup: str) -> str:
    """A plain-text rendition: block ends become line breaks, tags go, entities are decoded."""
    markup = _SCRIPTY.sub("", markup)
    markup = _BLOCK_END.sub("\n", markup)
    text = html.unescape(nh3.clean(markup, tags=set()))
    lines = (line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
