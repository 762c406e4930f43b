"""The widget's gold table: one row per karat, priced per configured unit (contract section 6).

Kept apart from the currency rows so the table can change on its own; its fixed texts are
the ``gold_*`` entries of :mod:`widget.texts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from widget.choices import Digits
from widget.format import format_day, format_number, localize_digits, parse_day, positive_decimal
from widget.texts import UNAVAILABLE, Lang, catalog


@dataclass(frozen=True)
class GoldRow:
    karat: int
    label: str
    status: str
    price: str | None
    reason: str | None
    published: str | None
    published_iso: str | None


def gold_table(gold: Mapping[str, Any], digits: Digits, lang: Lang) -> list[GoldRow]:
    """The rows of ``gold.html.j2``, every number formatted in the page's digits. Never 0."""
    texts = catalog(lang)
    grams = positive_decimal(gold.get("grams")) or Decimal(5)
    unit = str(gold.get("unit"))
    unit_text = texts.get(f"gold_{unit}", "")
    if unit == "mithqal":
        # The configured weight as written (5, 4.25): not a rate, so no fixed decimals.
        places = max(0, -int(grams.normalize().as_tuple().exponent))
        unit_text = unit_text.format(grams=format_number(grams, digits, lang, places))
    published = parse_day(gold.get("published"))
    rows = []
    for entry in gold.get("prices") or ():
        karat = int(entry["karat"])
        amount = positive_decimal(entry.get("rate"))
        status = "unavailable" if amount is None else str(gold.get("status") or "stale")
        available = amount is not None
        rows.append(
            GoldRow(
                karat=karat,
                label=texts["gold_label"].format(karat=localize_digits(str(karat), digits), unit=unit_text),
                status=status,
                price=format_number(amount, digits, lang) if amount is not None else None,
                reason=None if available else texts[UNAVAILABLE],
                published=format_day(published, digits, lang) if available and published else None,
                published_iso=published.isoformat() if available and published else None,
            )
        )
    return rows
