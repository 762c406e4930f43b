"""Open Exchange Rates: ``latest.json``, ``historical/{date}.json``, ``currencies.json``.

``base`` (default USD) and ``symbols``; ``app_id`` and every other parameter ignored.
``rates`` holds the base itself (1), as OXR's does, so clients that cross client-side
(money.js) find every code. Errors take OXR's top-level shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from rates.compat import params
from rates.compat.errors import Refusal
from rates.compat.table import Table

DEFAULT_BASE = "USD"
DISCLAIMER = (
    "Official exchange rates against the Iraqi dinar (IQD); every cross rate is computed "
    "through the official dinar rates. Provided as is, without warranty."
)
LICENSE = (
    "Rates derived from the Central Bank of Iraq's published rates and the sources this service is configured with."
)


def error(status: int, message: str, description: str) -> Refusal:
    return Refusal(status, {"error": True, "status": status, "message": message, "description": description})


def parse_query(query: Mapping[str, str]) -> tuple[str, frozenset[str] | None]:
    base = params.code(query.get("base"), DEFAULT_BASE)
    try:
        return base, params.codes(query.get("symbols"))
    except params.BadValue as exc:
        raise error(400, "invalid_symbols", f"Client requested too many symbols: {exc}.") from None


def parse_day(raw: str, today: date) -> date:
    try:
        day = params.day(raw)
    except params.BadValue as exc:
        raise error(400, "invalid_date", f"Client requested an invalid date: {exc}.") from None
    if day > today:
        raise not_available(raw)
    return day


def not_available(raw: str) -> Refusal:
    return error(400, "not_available", f"Historical rates for {raw[:10]} are not available.")


def answer(table: Table, base: str, symbols: frozenset[str] | None) -> dict[str, Any]:
    """``{disclaimer, license, timestamp, base, rates}``."""
    if not table.has(base):
        raise error(400, "invalid_base", f"Client requested rates for an unsupported base currency ({base[:8]}).")
    codes = [c for c in table.codes if symbols is None or c in symbols]
    return {
        "disclaimer": DISCLAIMER,
        "license": LICENSE,
        "timestamp": table.unix,
        "base": base,
        "rates": table.per(base, codes),
    }


def currencies(names: Mapping[str, str]) -> dict[str, str]:
    return {code: names[code] for code in sorted(names)}
