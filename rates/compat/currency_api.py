"""currency-api (fawazahmed0): ``/v1/currencies.json`` and ``/v1/currencies/{code}.json``.

Lower-case codes, the code itself included (1), alphabetical. The API has no error
shape of its own (its CDN answers a bare 404), so refusals use the service's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rates.compat.errors import Refusal, native
from rates.compat.table import Table


def answer(table: Table, code: str) -> dict[str, Any]:
    """``{"date", "{code}": {"{other}": units of other per 1 code}}``."""
    if not table.has(code):
        raise unknown(code)
    rates = table.per(code, table.codes)
    return {"date": table.day(table.codes).isoformat(), code.lower(): {c.lower(): r for c, r in rates.items()}}


def unknown(code: str) -> Refusal:
    return native(404, "unknown_currency", f"Currency {code[:8].lower()!r} has no rate here.")


def currencies(names: Mapping[str, str]) -> dict[str, str]:
    return {code.lower(): names[code] for code in sorted(names)}
