"""Presentation rounding: published numbers carry at most 6 significant digits."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

SIGNIFICANT_DIGITS = 6


def significant(value: Decimal, digits: int = SIGNIFICANT_DIGITS) -> Decimal:
    """``value`` rounded to ``digits`` significant digits, without trailing zeros."""
    if value == 0:
        return Decimal(0)
    exponent = value.adjusted() - digits + 1
    rounded = value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
    return rounded.normalize()


def plain(value: Decimal) -> str:
    """A Decimal as a JSON number: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")
