"""The rule of which characters text may hold, and the replacement used for kept text."""

from __future__ import annotations

import pytest

from domain.errors import DisallowedCharacterError, InvalidValueError
from domain.text import (
    REPLACEMENT,
    DisallowedCharacter,
    check_text,
    disallowed_character,
    replace_disallowed,
)

DISALLOWED = [
    *(chr(c) for c in range(0x00, 0x09)),
    "\x0b",
    "\x0c",
    *(chr(c) for c in range(0x0E, 0x20)),
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
    "\ufffe",
    "\uffff",
]
ALLOWED = ["\t", "\n", "\r", " ", "é", "\u00a0", "\u200b", "\ufffd", "\ufeff", "\U0001f389", "\x7f"]


@pytest.mark.parametrize("char", DISALLOWED, ids=lambda c: f"U+{ord(c):04X}")
def test_a_disallowed_character_is_found_where_it_is(char: str) -> None:
    assert disallowed_character(f"ab{char}c{char}") == DisallowedCharacter(ord(char), 2)


@pytest.mark.parametrize("char", ALLOWED, ids=lambda c: f"U+{ord(c):04X}")
def test_tab_newlines_and_every_other_character_are_text(char: str) -> None:
    assert disallowed_character(f"a{char}b") is None
    assert check_text(f"a{char}b", "title") == f"a{char}b"


def test_checking_text_with_nul_names_the_field_the_character_and_where() -> None:
    with pytest.raises(DisallowedCharacterError) as raised:
        check_text("help\x00me", "title")
    assert isinstance(raised.value, InvalidValueError)
    assert raised.value.field == "title"
    assert str(raised.value) == "title contains the disallowed character U+0000 at index 4"


def test_replacing_keeps_text_and_turns_each_disallowed_character_into_u_fffd() -> None:
    mixed = "a\x00b\tc\r\nd\ud800e\uffff\U0001f389\x1b"
    replaced = replace_disallowed(mixed)
    assert replaced == f"a{REPLACEMENT}b\tc\r\nd{REPLACEMENT}e{REPLACEMENT}\U0001f389{REPLACEMENT}"
    assert disallowed_character(replaced) is None
    assert replace_disallowed("plain text") == "plain text"
    # Replaced text is storable as UTF-8 (a lone surrogate is not).
    replaced.encode("utf-8")
