"""Rules a quote must pass to be valid (kept and merged): each returns None or a reason.

Magnitudes. A quote is units of a currency per one unit of its reference (IQD per unit
when the reference is the dinar). Real quotes today span about 10⁻⁴ (troy ounces of gold
per dollar) to 10⁷ (IQD per ounce of gold); the Iranian rial at the market is about 10⁶
per dollar. ``MIN_QUOTE``..``MAX_QUOTE`` (10⁻¹²..10¹²) leaves five orders of magnitude of
room on each side for hyperinflation or a new metal, so no real quote is refused; and
what it refuses (``1E-999999``, ``1e300``) is never a rate but a broken feed, whose
crosses (a quotient of two quotes, at most 10²⁴) would overflow or lose every digit.

Dates. A publication date is a real day from ``EARLIEST`` (1990-01-01: no source we read
publishes older rates, and the dinar's current regime is younger) to today in Baghdad;
an earlier year is a typo or a broken timestamp, a later day is not published yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from rates.models import Quote

Rule = Callable[[Quote, date], str | None]

MIN_QUOTE = Decimal("1e-12")
MAX_QUOTE = Decimal("1e12")
EARLIEST = date(1990, 1, 1)
_BAGHDAD = ZoneInfo("Asia/Baghdad")


def baghdad_today() -> date:
    """The day against which a config's dates are judged (the service's own day)."""
    return datetime.now(_BAGHDAD).date()


def magnitude_problem(number: Decimal) -> str | None:
    """Why a finite positive number cannot be a quote, or None."""
    if MIN_QUOTE <= number <= MAX_QUOTE:
        return None
    shown = f"{number:.3E}" if number.adjusted() < -6 or number.adjusted() > 15 else str(number)
    return f"out of range ({shown}; a quote lies between 1E-12 and 1E+12)"


def date_problem(day: date, today: date) -> str | None:
    """Why ``day`` cannot be a publication date seen on ``today`` (Baghdad), or None."""
    if day > today:
        return f"dated in the future ({day.isoformat()})"
    if day < EARLIEST:
        return f"dated before {EARLIEST.year} ({day.isoformat()})"
    return None


def _is_number(quote: Quote, today: date) -> str | None:
    numbers = (quote.value, quote.buy, quote.sell)
    return None if all(n is None or n.is_finite() for n in numbers) else "not a number"


def _is_positive(quote: Quote, today: date) -> str | None:
    numbers = [n for n in (quote.value, quote.buy, quote.sell) if n is not None]
    if any(n == 0 for n in numbers):
        return "zero"
    return "negative" if any(n < 0 for n in numbers) else None


def _in_range(quote: Quote, today: date) -> str | None:
    numbers = [n for n in (quote.value, quote.buy, quote.sell) if n is not None]
    return next((p for n in numbers if (p := magnitude_problem(n)) is not None), None)


def _real_date(quote: Quote, today: date) -> str | None:
    return None if quote.published is None else date_problem(quote.published, today)


RULES: tuple[Rule, ...] = (_is_number, _is_positive, _in_range, _real_date)


@dataclass(frozen=True)
class Checked:
    valid: tuple[Quote, ...]
    rejected: tuple[tuple[str, str], ...]  # (code, reason)

    def summary(self, limit: int = 5) -> str:
        shown = ", ".join(f"{code}: {reason}" for code, reason in self.rejected[:limit])
        more = len(self.rejected) - limit
        return shown + (f" and {more} more" if more > 0 else "")


def check(quotes: tuple[Quote, ...], today: date) -> Checked:
    """Split quotes into the valid ones (every rule passes) and (code, first reason) for the rest."""
    valid: list[Quote] = []
    rejected: list[tuple[str, str]] = []
    for quote in quotes:
        reason = next((r for rule in RULES if (r := rule(quote, today)) is not None), None)
        if reason is None:
            valid.append(quote)
        else:
            rejected.append((quote.code, reason))
    return Checked(tuple(valid), tuple(rejected))


def relative_gap(a: Decimal, b: Decimal) -> Decimal:
    """How far ``a`` is from ``b``, as a fraction of ``b``."""
    return abs(a - b) / b
