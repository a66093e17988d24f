"""Which characters text may hold: those every store and format ledgerdesk writes can keep.

PostgreSQL text refuses NUL; no UTF-8 store (PostgreSQL, SQLite, orjson) can hold a lone
UTF-16 surrogate, which a JSON `"\\ud800"` escape decodes to; the other C0 controls and the
noncharacters U+FFFE and U+FFFF are never meant as text and break what shows or exports it.
Text a person sends through a request is refused when it holds one (`check_text`); text
ledgerdesk must keep whatever it holds — a received mail, an uploaded file — has them
replaced (`replace_disallowed`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import DisallowedCharacterError

# C0 controls except TAB, LF and CR; every surrogate code point (a Python string holds one
# only unpaired: a valid pair decodes to one character); U+FFFE and U+FFFF.
_DISALLOWED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class DisallowedCharacter:
    """The first disallowed character of a text: its code point and index."""

    code_point: int
    index: int

    def __str__(self) -> str:
        return f"the disallowed character U+{self.code_point:04X} at index {self.index}"


def disallowed_character(text: str) -> DisallowedCharacter | None:
    """The first character of `text` that text may not hold, or None."""
    found = _DISALLOWED.search(text)
    return DisallowedCharacter(ord(found.group()), found.start()) if found else None


def check_text(text: str, field: str) -> str:
    """`text` unchanged, or DisallowedCharacterError naming `field`."""
    found = disallowed_character(text)
    if found is not None:
        raise DisallowedCharacterError(field, f"{field} contains {found}")
    return text


def replace_disallowed(text: str) -> str:
    """`text` with every disallowed character replaced by U+FFFD (for text kept as it came)."""
    return _DISALLOWED.sub(REPLACEMENT, text)


def text_problem(value: str) -> str | None:
    """Why `value` is not text the model stores (for problems reported by row and column,
    as an import does), or None when it is."""
    found = disallowed_character(value)
    return None if found is None else f"the text contains {found}"
