"""Texts an admin may write once for every language or per language: ``"…"`` or ``{ar: …, ckb: …, en: …}``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from widget.texts import LANGS, Lang

__all__ = ["LANGS", "Lang", "Localized", "pick"]

Text = Annotated[str, Field(min_length=1, max_length=120)]
# A map may name only some languages: the others fall back to the product's default.
Localized = Text | dict[Lang, Text]


def pick(value: Localized | None, lang: Lang) -> str | None:
    """``value`` in ``lang``: a plain string is every language; a map may lack ``lang`` (None)."""
    if value is None or isinstance(value, str):
        return value
    return value.get(lang)
