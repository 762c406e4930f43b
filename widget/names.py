"""Currency display names per language: CLDR (Babel) for Arabic and English, a shipped table for Sorani."""

from __future__ import annotations

from babel import Locale
from babel.numbers import get_currency_name

from widget.ckb_names import CKB_NAMES
from widget.texts import Lang

_CLDR_LOCALES: dict[Lang, str] = {"ar": "ar", "ckb": "ckb", "en": "en"}


def currency_name(code: str, lang: Lang) -> str:
    """``code``'s name in ``lang``; the code itself where nobody names it."""
    if lang == "ckb":
        return CKB_NAMES.get(code) or _cldr_ckb(code) or code
    return str(get_currency_name(code, locale=_CLDR_LOCALES[lang]))


def _cldr_ckb(code: str) -> str | None:
    name = Locale.parse("ckb").currencies.get(code)
    return str(name) if name else None
