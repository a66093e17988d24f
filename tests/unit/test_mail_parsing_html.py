"""HTML mail: what the sanitised HTML and its text rendition leave out (a document's head,
tracking pixels), and where a reply's quoted history is cut from HTML-only mail."""

from __future__ import annotations

import hashlib

import pytest

from commands.mail.html_text import reply_part, sanitise, text_of
from commands.mail.parsing import parse
from domain.mail.message import InboundMail


def store(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)


def html_mail(markup: str, subject: str = "Re: Export") -> InboundMail:
    raw = (
        "From: Ana <ana@example.org>\r\nTo: support@ledgerdesk.local\r\n"
        f"Subject: {subject}\r\nMessage-ID: <m1@example.org>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n" + markup
    )
    return parse(raw.encode(), store)


HEAD = (
    "<html><head><title>Weekly digest</title><style>p { color: red }</style>"
    "<script>track()</script></head><body><p>Hello</p>"
    "<template>template text</template></body></html>"
)


def test_the_head_and_what_is_never_rendered_are_neither_html_nor_text() -> None:
    kept = sanitise(HEAD)
    for hidden in ("Weekly digest", "color: red", "track()", "template text"):
        assert hidden not in kept
        assert hidden not in text_of(HEAD)
        assert hidden not in text_of(kept)
    assert text_of(HEAD) == "Hello"


@pytest.mark.parametrize(
    "pixel",
    [
        '<img src="https://t.example/o.gif" width="1" height="1">',
        '<img src="https://t.example/o.gif" width="0">',
        '<img src="https://t.example/o.gif" height="0px" width="600">',
        '<img src="http://t.example/o.gif" style="display: none">',
        '<img src="https://t.example/o.gif" style="DISPLAY:NONE!important">',
        '<img src="https://t.example/o.gif" style="visibility:hidden">',
        '<img src="https://t.example/o.gif" style="width:1px !important;height:1px !important">',
        "<img src='//t.example/o.gif' width=1 height=1>",
        '<IMG SRC="https://t.example/o.gif?a=1&amp;b=2" WIDTH="1" HEIGHT="1" alt="a>b">',
    ],
)
def test_a_tracking_pixel_is_dropped_from_the_html(pixel: str) -> None:
    kept = sanitise(f"<p>Hello</p>{pixel}<p>Bye</p>")
    assert "t.example" not in kept
    assert "<img" not in kept
    assert "<p>Hello</p>" in kept
    assert "<p>Bye</p>" in kept


@pytest.mark.parametrize(
    "image",
    [
        '<img src="https://cdn.example.org/logo.png" width="120" height="40" alt="Logo">',
        '<img src="https://cdn.example.org/logo.png" alt="Logo">',
        '<img src="https://cdn.example.org/rule.png" width="1" height="300" alt="Logo">',
        '<img src="https://cdn.example.org/logo.png" width="100%" alt="Logo">',
    ],
)
def test_a_remote_image_people_are_meant_to_see_stays(image: str) -> None:
    assert "https://cdn.example.org/" in sanitise(f"<p>Hello</p>{image}")


def test_a_tiny_image_that_is_not_remote_is_not_taken_for_a_pixel() -> None:
    kept = sanitise('<img src="/spacer.gif" width="1" height="1" alt="spacer">')
    assert 'alt="spacer"' in kept


OUTLOOK_WEB = (
    '<div>Fixed, thanks.</div><div id="appendonsend"></div>'
    '<hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg"><b>From:</b> Support'
    "<br><b>Sent:</b> Monday<br><b>To:</b> Ana<br><b>Subject:</b> Export</div>"
    "<div>Did you try again?</div>"
)


@pytest.mark.parametrize(
    ("markup", "reply"),
    [
        (OUTLOOK_WEB, "Fixed, thanks."),
        (OUTLOOK_WEB.replace('<div id="appendonsend"></div>', ""), "Fixed, thanks."),
        (
            "<p>Fixed.</p><hr><p><b>De:</b> Soporte<br><b>Enviado el:</b> lunes<br>"
            "<b>Para:</b> Ana<br><b>Asunto:</b> Export</p><p>Did you try again?</p>",
            "Fixed.",
        ),
        (
            '<p>Fixed.</p><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p>'
            "<b>Från:</b> Support<br><b>Skickat:</b> måndag<br><b>Till:</b> Ana<br>"
            "<b>Ämne:</b> Export</p></div><p>Did you try again?</p>",
            "Fixed.",
        ),
        (
            '<div dir="ltr">Fixed.</div><div class="gmail_quote"><div class="gmail_attr">'
            'Support wrote:</div><blockquote class="gmail_quote">Did you try again?'
            "</blockquote></div>\r\n",
            "Fixed.",
        ),
        (
            '<div>Fixed.</div><div><blockquote type="cite"><div>Did you try again?</div>'
            "</blockquote></div>&nbsp;",
            "Fixed.",
        ),
        (
            '<p>Fixed.</p><div class="moz-cite-prefix">Support wrote:<br></div>'
            '<blockquote type="cite"><p>Did you try again?</p></blockquote>',
            "Fixed.",
        ),
    ],
)
def test_the_reply_stops_where_the_quoted_history_begins(markup: str, reply: str) -> None:
    assert text_of(reply_part(markup)) == reply
    assert html_mail(markup).reply == reply
    assert "Did you try again?" in html_mail(markup).text


@pytest.mark.parametrize(
    "markup",
    [
        # Answers written between the quotes
        '<div>See below.</div><blockquote type="cite">Which browser?</blockquote>'
        '<div>Safari 18.</div><blockquote type="cite">Every project?</blockquote>'
        "<div>Only the big ones.</div>",
        # A rule, but no header block below it
        "<p>Steps:</p><hr><p>From: the start page, open Export.</p><p>Then wait.</p>",
        # A header block with no rule above it (quoted history in text form is the reply
        # parser's to find)
        "<p>Fixed.</p><p>Thanks</p>",
    ],
)
def test_markup_without_a_history_marker_is_kept_whole(markup: str) -> None:
    assert reply_part(markup) == markup


def test_the_interleaved_answers_stay_in_the_full_text() -> None:
    mail = html_mail(
        '<div>See below.</div><blockquote type="cite">Which browser?</blockquote>'
        "<div>Safari 18.</div>"
    )
    assert "Safari 18." in mail.text


def test_a_forward_keeps_what_it_forwards_even_below_outlooks_markers() -> None:
    mail = html_mail(OUTLOOK_WEB, subject="FW: Export")
    assert "Did you try again?" in mail.reply


def test_a_marker_in_a_comment_or_a_script_is_not_one() -> None:
    markup = (
        '<p>Fixed.</p><!-- <div id="divRplyFwdMsg"> --><script>x = "<hr>";</script><p>From: a</p>'
    )
    assert reply_part(markup) == markup
