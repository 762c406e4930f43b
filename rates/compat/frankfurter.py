"""Frankfurter v1: ``/latest``, ``/{date}``, ``/{start}..{end}``, ``/currencies``.

Like Frankfurter: ``from``/``base`` (default EUR), ``to``/``symbols``, ``amount``; the base
is left out of ``rates``; codes in alphabetical order; 404 ``{"message": "not found"}``
when nothing matches, 422 with a message for an unreadable parameter. Unlike Frankfurter,
numbers keep 6 significant digits (its own rounding keeps two digits of 1 IQD in USD).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rates.compat import params
from rates.compat.errors import Refusal
from rates.compat.table import History, Table, on_day, publication_days

DEFAULT_BASE = "EUR"
MAX_AMOUNT_CHARS = 32
# Bounded in size too, not only in characters: `1e999999999` is eleven characters and cannot
# be written out (it was a 500), and `1e-400` comes out as 0.0 in a client's float.
MIN_AMOUNT, MAX_AMOUNT = Decimal("0.000001"), Decimal(1_000_000_000_000)


@dataclass(frozen=True)
class Query:
    base: str
    symbols: frozenset[str] | None
    amount: Decimal


def not_found() -> Refusal:
    return Refusal(404, {"message": "not found"})


def unprocessable(message: str) -> Refusal:
    return Refusal(422, {"message": message})


def parse_query(query: Mapping[str, str]) -> Query:
    base = params.code(query.get("from", query.get("base")), DEFAULT_BASE)
    try:
        symbols = params.codes(query.get("to", query.get("symbols")))
    except params.BadValue as exc:
        raise unprocessable(str(exc)) from None
    if symbols == frozenset({base}):
        raise unprocessable("bad currency pair")
    return Query(base=base, symbols=symbols, amount=_amount(query.get("amount")))


def _amount(raw: str | None) -> Decimal:
    if raw is None:
        return Decimal(1)
    try:
        value = Decimal(raw.strip()) if len(raw) <= MAX_AMOUNT_CHARS else Decimal("NaN")
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not MIN_AMOUNT <= value <= MAX_AMOUNT:
        raise unprocessable("invalid amount")
    return value.normalize()


def parse_day(raw: str) -> date:
    try:
        return params.day(raw)
    except params.BadValue:
        raise unprocessable("invalid date") from None


def day_answer(table: Table | None, query: Query) -> dict[str, Any]:
    """``{amount, base, date, rates}`` for one table (the latest, or a day's)."""
    rates = _rates(table, query)
    if table is None or rates is None:
        raise not_found()
    day = table.day([query.base, *rates])
    return {"amount": query.amount, "base": query.base, "date": day.isoformat(), "rates": rates}


def range_answer(history: History, codes: list[str], query: Query, first: date, last: date) -> dict[str, Any]:
    """``{amount, base, start_date, end_date, rates: {date: {…}}}``: one entry per publication date."""
    involved = codes if query.symbols is None else [c for c in codes if c == query.base or c in query.symbols]
    # Like Frankfurter, the series starts at the rates in force on ``first``: from the latest
    # publication date on or before it.
    in_force = [point[0] for c in involved if (point := history.rate_on(c, first)) is not None]
    by_day: dict[str, dict[str, Decimal]] = {}
    for day in publication_days(history, involved, max(in_force, default=first), last):
        rates = _rates(on_day(history, involved, day), query)
        if rates is not None:
            by_day[day.isoformat()] = rates
    if not by_day:
        raise not_found()
    days = list(by_day)
    return {"amount": query.amount, "base": query.base, "start_date": days[0], "end_date": days[-1], "rates": by_day}


def _rates(table: Table | None, query: Query) -> dict[str, Decimal] | None:
    if table is None or not table.has(query.base):
        return None
    wanted = [c for c in table.codes if c != query.base and (query.symbols is None or c in query.symbols)]
    return table.per(query.base, wanted, query.amount) or None


def currencies(names: Mapping[str, str]) -> dict[str, str]:
    """``{"EUR": "Euro", …}``: every configured code and IQD, alphabetical."""
    return {code: names[code] for code in sorted(names)}
