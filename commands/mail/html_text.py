"""HTML mail made safe (nh3), given a plain-text rendition, and cut where a reply's quoted
history begins."""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from copy import deepcopy
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/li|/tr|/h[1-6]|/blockquote|/table)\s*>")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_LINK_REL = "noopener noreferrer nofollow"
# Tags whose content is never shown as text: a document's head (its <title> above all), and
# what a mail reader does not render.
_HIDDEN_CONTENT = {"head", "title", "style", "script", "template", "iframe", "xml"}
# The first pass keeps an image's style, so that a hidden one is known for what it is.
_STYLED_IMAGES = deepcopy(nh3.ALLOWED_ATTRIBUTES)
_STYLED_IMAGES["img"] = {*_STYLED_IMAGES["img"], "style"}
# An <img> as nh3 writes it: every attribute value in double quotes.
_IMAGE = re.compile(r'<img(?:\s+[^\s"=>]+(?:="[^"]*")?)*\s*/?>')
_ATTRIBUTE = re.compile(r'([^\s"=>]+)="([^"]*)"')
_REMOTE = re.compile(r"(?i)^\s*(?:https?:)?//")
_PIXELS = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$")


def sanitise(markup: str) -> str:
    """The HTML without scripts, event handlers, remote-loading tricks, unknown tags, the
    content of its head, or tracking pixels (tiny or hidden remote images)."""
    kept = nh3.clean(
        markup,
        clean_content_tags=_HIDDEN_CONTENT,
        attributes=_STYLED_IMAGES,
        link_rel=_LINK_REL,
    )
    kept = _IMAGE.sub(lambda m: "" if _tracks(m.group(0)) else m.group(0), kept)
    return nh3.clean(kept, link_rel=_LINK_REL)


def _tracks(image: str) -> bool:
    """Whether an <img> is a tracking pixel: a remote image no one is meant to see (hidden,
    no wider or taller than nothing, or a single pixel)."""
    attributes = {k.lower(): html.unescape(v) for k, v in _ATTRIBUTE.findall(image)}
    if not _REMOTE.match(attributes.get("src", "")):
        return False
    style = {
        name.strip().lower(): value.lower().replace("!important", "").strip()
        for name, _, value in (p.partition(":") for p in attributes.get("style", "").split(";"))
    }
    if style.get("display") == "none" or style.get("visibility") == "hidden":
        return True
    sizes = [_pixels(style.get(name) or attributes.get(name, "")) for name in ("width", "height")]
    if any(size is not None and size < 1 for size in sizes):
        return True
    return all(size is not None and size <= 1 for size in sizes)


def _pixels(value: str) -> float | None:
    found = _PIXELS.match(value)
    return float(found.group(1)) if found else None


def text_of(markup: str) -> str:
    """A plain-text rendition: block ends become line breaks, tags go (hidden content with
    them), entities are decoded."""
    markup = _BLOCK_END.sub("\n", markup)
    text = html.unescape(nh3.clean(markup, tags=set(), clean_content_tags=_HIDDEN_CONTENT))
    lines = (line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# --- where a reply's quoted history begins -------------------------------------------------

# The labels of the header block mail clients put above quoted history (From:, Sent: or
# Date:, To:, Subject:), in the languages replies are read in (see parsing.REPLY_LANGUAGES).
_FROM_LABELS = r"from|von|de|da|van|od|fr[åa]n|fra"
_OTHER_LABELS = (
    r"sent|date|to|cc|subject|gesendet|datum|an|betreff|envoy[ée]|[àa]|objet|enviado(?: el)?|"
    r"fecha|para|asunto|inviato|data|oggetto|verzonden|aan|onderwerp|wys[łl]ano|do|temat|"
    r"assunto|skickat|till|[äa]mne"
)
_LABEL_END = r"[ \t\xa0]*:"
# A From line, then two more labelled lines.
_HEADER_BLOCK = re.compile(
    rf"(?i)^\W*(?:{_FROM_LABELS}){_LABEL_END}[^\n]*\n"
    rf"\W*(?:{_OTHER_LABELS}){_LABEL_END}[^\n]*\n\W*(?:{_OTHER_LABELS}){_LABEL_END}"
)
_OUTLOOK_IDS = {"divrplyfwdmsg", "appendonsend"}
_LINE_TAGS = {"br", "p", "div", "tr", "li", "hr"}
# Not rendered; <head> is left out, as its end tag may be missing.
_UNSEEN = {"title", "style", "script", "template"}
# Bounds on the work for one message, whatever its markup: rules looked at, and the text
# read after each.
_RULES_READ = 100
_HEADER_CHARS = 2000


def reply_part(markup: str) -> str:
    """The markup above the quoted history of a reply, or all of it when none is found.

    The history begins at what Outlook puts before it (`<div id="appendonsend">`,
    `<div id="divRplyFwdMsg">`, or a rule, `<hr>` or a top-bordered `<div>`, followed by a
    From:/Sent:/To:/Subject: block, in any of the reply languages), or at Gmail's
    `<div class="gmail_quote">` or a `<blockquote type="cite">` (Apple Mail, Thunderbird,
    with Thunderbird's `moz-cite-prefix` line above it) when only blank space follows it: a
    reply written between quotes keeps them."""
    start = _HistoryScan(markup).start
    return markup if start is None else markup[:start]


@dataclass(frozen=True)
class _Element:
    """A quote (`quote`), or the line that introduces one (`prefix`), being read: `depth`
    elements of its tag are open once it is."""

    kind: str
    start: int
    depth: int


class _HistoryScan(HTMLParser):
    """Reads the markup once, noting where its quoted history begins (`start`)."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", markup)]
        self._unseen = 0
        self._texts: list[tuple[int, str]] = []  # (offset, text), line ends as "\n"
        self._words: list[int] = []  # The offsets of the texts that are not blank.
        self._rules: list[int] = []
        self._depth: dict[str, int] = {}  # Elements open, by tag.
        self._open: dict[str, list[_Element]] = {}
        self._closed: list[tuple[str, int, int]] = []  # (kind, start, end)
        self._outlook: int | None = None
        self.feed(markup)
        self.close()
        for unclosed in self._open.values():
            self._closed += [(e.kind, e.start, len(markup)) for e in unclosed]
        self.start = self._first_cut(len(markup))

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = self._offset()
        if tag in _UNSEEN:
            self._unseen += 1
        if tag in _LINE_TAGS:
            self._texts.append((at, "\n"))
        depth = self._depth[tag] = self._depth.get(tag, 0) + 1
        values = {name: value or "" for name, value in attrs}
        classes = values.get("class", "").split()
        if self._outlook is None and values.get("id", "").lower() in _OUTLOOK_IDS:
            self._outlook = at
        if tag == "hr" or (tag == "div" and "border-top" in values.get("style", "").lower()):
            self._rules.append(at)
        if "gmail_quote" in classes or (
            tag == "blockquote" and values.get("type", "").lower() == "cite"
        ):
            self._open.setdefault(tag, []).append(_Element("quote", at, depth))
        elif "moz-cite-prefix" in classes:
            self._open.setdefault(tag, []).append(_Element("prefix", at, depth))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        at = self._offset()
        if tag in _UNSEEN and self._unseen:
            self._unseen -= 1
        if tag in _LINE_TAGS:
            self._texts.append((at, "\n"))
        if self._depth.get(tag):
            self._depth[tag] -= 1
        open_here = self._open.get(tag, [])
        while open_here and open_here[-1].depth > self._depth.get(tag, 0):
            element = open_here.pop()
            self._closed.append((element.kind, element.start, at))

    def handle_data(self, data: str) -> None:
        if not self._unseen:
            at = self._offset()
            self._texts.append((at, data))
            if data.replace("\xa0", " ").strip():
                self._words.append(at)

    def _blank(self, begin: int, end: int) -> bool:
        """Whether no text shows between the two offsets."""
        first = bisect_left(self._words, begin)
        return first == len(self._words) or self._words[first] >= end

    def _text_after(self, offset: int) -> str:
        found: list[str] = []
        size = 0
        for index in range(bisect_left(self._texts, (offset, "")), len(self._texts)):
            text = self._texts[index][1]
            found.append(text)
            size += len(text) if text.strip() else 1
            if size > _HEADER_CHARS:
                break
        return "".join(found)

    def _first_cut(self, length: int) -> int | None:
        cuts = [self._outlook] if self._outlook is not None else []
        tails = sorted(
            start
            for kind, start, end in self._closed
            if kind == "quote" and self._blank(end, length)
        )
        cuts += tails
        for kind, start, end in self._closed:
            after = bisect_left(tails, end)
            if kind == "prefix" and after < len(tails) and self._blank(end, tails[after]):
                cuts.append(start)
        cuts += [
            at
            for at in self._rules[:_RULES_READ]
            if at < min(cuts, default=at + 1) and _HEADER_BLOCK.match(self._text_after(at))
        ]
        return min(cuts, default=None)
