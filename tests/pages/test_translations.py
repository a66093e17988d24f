"""Every visible string of the customer pages is translated in each catalogue: extracted
from the templates as `make messages` does, and looked up in fr, es and de."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from api.pages.i18n import LANGUAGES, TRANSLATIONS_DIR, translations

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("api/templates/pages/**.html", "jinja2"), ("api/pages/**.py", "python")]
OPTIONS = {"api/templates/pages/**.html": {"extensions": "jinja2.ext.i18n"}}


def _translated(message: Any) -> bool:
    """Translated, every plural form of it too (French has three)."""
    if message is None:
        return False
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(forms)


def visible_strings() -> set[str]:
    found = extract_from_dir(str(ROOT), METHODS, OPTIONS)
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_visible_string_is_translated(language: str) -> None:
    strings = visible_strings()
    assert len(strings) > 40  # The extraction found the pages' text.
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    missing = sorted(s for s in strings if not _translated(catalog.get(s)))
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert (missing, fuzzy) == ([], [])
    # And the catalogue the pages load gives the translation
    assert translations(language).gettext("Sign in") != "Sign in"
