"""Checking what admins configure for mail out: templates that recurse or blow up are
template problems (422), never a crash; an SMTP server never gets a password in plain text
over the network."""

from __future__ import annotations

import pytest

from commands.mail.outgoing.smtp import PlaintextPasswordError, SmtpServer, is_loopback
from commands.mail.outgoing.templates import TemplateProblem, check, sample_context
from domain.errors import InvalidValueError
from domain.mail.settings import DEFAULTS, filled

COMPANY = {"name": "Acme", "logo_url": None, "colour": "#1f6feb"}
RECURSIVE = "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"


@pytest.mark.parametrize("part", ["subject", "html", "text"])
def test_a_macro_that_calls_itself_is_a_template_problem_naming_the_part(part: str) -> None:
    parts = {"subject": "s", "html": "h", "text": "t", part: f"line one\n{RECURSIVE}"}
    with pytest.raises(TemplateProblem) as problem:
        check("mention", parts, sample_context("mention", COMPANY))
    assert f"mention.{part}, line 2: " in str(problem.value)
    assert "calls itself" in str(problem.value)


def test_a_template_needing_more_memory_than_there_is_is_a_template_problem() -> None:
    parts = {"subject": "s", "html": "{{ 'a' * 10**13 }}", "text": "t"}
    with pytest.raises(TemplateProblem, match=r"mention\.html, line 1: needs more memory"):
        check("mention", parts, sample_context("mention", COMPANY))


@pytest.mark.parametrize(
    "url",
    [
        "smtp://desk:s3cret@smtp.example.com",
        "smtp://desk:s3cret@smtp.example.com:587",
        "smtp://desk@10.0.0.5:25",
        "smtp://desk:s3cret@[2001:db8::1]:25",
        "smtp://desk:s3cret@localhost.example.com",
    ],
)
def test_a_url_with_a_password_and_no_tls_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(PlaintextPasswordError, match="plain text") as refused:
        SmtpServer.from_url(url)
    assert isinstance(refused.value, InvalidValueError)
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "security"),
    [
        ("smtp://desk:s3cret@smtp.example.com:587?starttls=1", "starttls"),
        ("smtps://desk:s3cret@smtp.example.com", "tls"),
        ("smtp://smtp.example.com:25", "none"),
        ("smtp://desk:s3cret@127.0.0.1:2525", "none"),
        ("smtp://desk:s3cret@127.8.9.10", "none"),
        ("smtp://desk:s3cret@[::1]:2525", "none"),
        ("smtp://desk:s3cret@LocalHost:25", "none"),
    ],
)
def test_tls_or_a_server_on_this_machine_may_have_a_password(url: str, security: str) -> None:
    assert SmtpServer.from_url(url).security == security


def test_loopback_is_localhost_127_slash_8_and_colon_colon_1_only() -> None:
    assert all(is_loopback(h) for h in ("localhost", "127.0.0.1", "127.255.0.3", "::1"))
    assert not any(is_loopback(h) for h in ("10.0.0.1", "::2", "example.com", "128.0.0.1"))


def test_settings_stored_before_the_button_colour_keep_their_brand_on_the_launcher() -> None:
    # The launcher was in the brand's colour: it stays so where white text reads on it
    assert filled({"colour": "#aa0000"})["button_colour"] == "#aa0000"
    assert filled({"colour": "#ffcc00"})["button_colour"] == DEFAULTS["button_colour"]
    assert filled({"colour": "#ffcc00", "button_colour": "#7a1fa2"})["button_colour"] == "#7a1fa2"
    assert filled({})["button_colour"] == DEFAULTS["colour"]  # #1f6feb reads: 4.63:1
