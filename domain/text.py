"""Text the model stores: no control characters but TAB, LF and CR, and no lone surrogates
(they break exports, terminals and other systems' parsers, and can hide what a value says)."""

from __future__ import annotations

import re

_DISALLOWED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` is not text the model stores, or None when it is."""
    found = _DISALLOWED.search(value)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return "a lone surrogate (not a character) is not allowed in text"
    return f"the control character U+{ord(char):04X} is not allowed in text"
