"""Rules a quote must pass before it is accepted: each returns None or a reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rates.models import Quote

Rule = Callable[[Quote, date], str | None]


def _is_number(quote: Quote, today: date) -> str | None:
    numbers = (quote.value, quote.buy, quote.sell)
    return None if all(n is None or n.is_finite() for n in numbers) else "not a number"


def _is_positive(quote: Quote, today: date) -> str | None:
    numbers = [n for n in (quote.value, quote.buy, quote.sell) if n is not None]
    if any(n == 0 for n in numbers):
        return "zero"
    return "negative" if any(n < 0 for n in numbers) else None


def _not_future(quote: Quote, today: date) -> str | None:
    if quote.published is not None and quote.published > today:
        return f"dated in the future ({quote.published.isoformat()})"
    return None


RULES: tuple[Rule, ...] = (_is_number, _is_positive, _not_future)


@dataclass(frozen=True)
class Checked:
    accepted: tuple[Quote, ...]
    rejected: tuple[tuple[str, str], ...]  # (code, reason)

    def summary(self, limit: int = 5) -> str:
        shown = ", ".join(f"{code}: {reason}" for code, reason in self.rejected[:limit])
        more = len(self.rejected) - limit
        return shown + (f" and {more} more" if more > 0 else "")


def check(quotes: tuple[Quote, ...], today: date) -> Checked:
    """Split quotes into those every rule accepts and (code, first reason) for the rest."""
    accepted: list[Quote] = []
    rejected: list[tuple[str, str]] = []
    for quote in quotes:
        reason = next((r for rule in RULES if (r := rule(quote, today)) is not None), None)
        if reason is None:
            accepted.append(quote)
        else:
            rejected.append((quote.code, reason))
    return Checked(tuple(accepted), tuple(rejected))


def relative_gap(a: Decimal, b: Decimal) -> Decimal:
    """How far ``a`` is from ``b``, as a fraction of ``b``."""
    return abs(a - b) / b
