"""The languages the customer pages speak (English, French, Spanish, German): which one a
request gets, its message catalogue, and dates and numbers in its form.

A request's language is the one it asks for with `?lang=` (remembered in a cookie), else the
cookie's, else the best match of `Accept-Language`, else English. Catalogues are Babel
`.po` files under `api/translations/`, compiled to `.mo` by `make` (`pybabel compile`); a
`.po` without a current `.mo` is compiled in memory, so an install never shows a key.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from starlette.requests import Request

LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "ld_lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"

_current: ContextVar[NullTranslations | None] = ContextVar("translations", default=None)
_SOURCE = NullTranslations()


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of `language` (English is the source: no catalogue)."""
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return NullTranslations()
    folder = TRANSLATIONS_DIR / language / "LC_MESSAGES"
    po, mo = folder / "messages.po", folder / "messages.mo"
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return Translations(compiled)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def asked_language(request: Request) -> str | None:
    """The language `?lang=` names, if it is one we speak."""
    asked = request.query_params.get("lang", "")
    return asked if asked in LANGUAGES else None


def language_of(request: Request) -> str:
    """The language to answer `request` in."""
    chosen = asked_language(request) or request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    preferred = [
        part.split(";")[0].strip()
        for part in sorted(
            request.headers.get("accept-language", "").split(","), key=_weight, reverse=True
        )
        if part.strip()
    ]
    return negotiate_locale(preferred, list(LANGUAGES), sep="-") or _base(preferred)


def _weight(part: str) -> float:
    _, _, q = part.partition(";q=")
    try:
        return float(q) if q else 1.0
    except ValueError:
        return 0.0


def _base(preferred: list[str]) -> str:
    """`fr` for `fr-CA` when no exact match: Babel only matches aliases it knows."""
    for tag in preferred:
        base = tag.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


def use(language: str) -> None:
    """Translate what is rendered next in this context into `language`."""
    _current.set(translations(language))


def gettext(message: str) -> str:
    return (_current.get() or _SOURCE).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return (_current.get() or _SOURCE).ngettext(singular, plural, n)


def when(moment: str | datetime | None, language: str) -> str:
    """A timestamp (ISO text or datetime) as people of `language` write it."""
    if moment is None or moment == "":
        return ""
    value = (
        datetime.fromisoformat(moment.replace("Z", "+00:00")) if isinstance(moment, str) else moment
    )
    return format_datetime(value, "medium", locale=Locale.parse(language))


def number(value: float, language: str) -> str:
    return format_decimal(value, locale=Locale.parse(language))


def day(value: str | date | None, language: str) -> str:
    """A day (ISO text or date) as people of `language` write it."""
    if value is None or value == "":
        return ""
    moment = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(moment, "medium", locale=Locale.parse(language))


def month(value: date, language: str) -> str:
    """A month and its year, short, as people of `language` write them ("Mar 2026")."""
    return format_skeleton("yMMM", value, locale=Locale.parse(language))


def percent(value: float, language: str) -> str:
    """`value` percent (50 for half) as people of `language` write it ("50 %" in French)."""
    return format_percent(value / 100, locale=Locale.parse(language))
